"""The gradient checker is itself checked: right backwards pass, planted wrong ones are caught."""
import warnings

import numpy as np
import pytest

import minise
from minise import GradcheckError, GradcheckWarning, Tensor


def leaf(*shape, seed=0):
    return Tensor(np.random.default_rng(seed).standard_normal(shape), requires_grad=True)


# -- ops with a right backward and planted wrong ones ------------------------------------------

class Cube(minise.Function):
    def forward(self, a):
        self.saved = a
        return a ** 3

    def backward(self, gy):
        return (3 * self.saved ** 2 * gy,)


class CubeDroppedFactor(Cube):
    def backward(self, gy):
        return (self.saved ** 2 * gy,)                     # the 3 is gone


class MatMul(minise.Function):
    def forward(self, x, w):
        self.saved = (x, w)
        return x @ w

    def backward(self, gy):
        x, w = self.saved
        return gy @ w.T, x.T @ gy


class MatMulMissingTranspose(MatMul):
    def backward(self, gy):
        x, w = self.saved
        return gy @ w, x.T @ gy                            # w should be transposed


class Product(minise.Function):
    def forward(self, a, b):
        self.saved = (a, b)
        return a * b

    def backward(self, gy):
        a, b = self.saved
        return gy * b, gy * a


class ProductGradientsSwapped(Product):
    def backward(self, gy):
        a, b = self.saved
        return gy * a, gy * b                              # each input gets the other's gradient


class ScaleAndSquare(minise.Function):
    """y = w·x + w²: w is used twice, so its gradient has two terms that must be added."""

    def forward(self, x, w):
        self.saved = (x, w)
        return w * x + w ** 2

    def backward(self, gy):
        x, w = self.saved
        gw = gy * x
        gw += 2 * w * gy
        return gy * w, gw


class ScaleAndSquareOverwrites(ScaleAndSquare):
    def backward(self, gy):
        x, w = self.saved
        gw = gy * x
        gw = 2 * w * gy                                    # `=` where `+=` belongs
        return gy * w, gw


RIGHT_AND_WRONG = [
    (Cube, CubeDroppedFactor, [(2, 3)]),
    (MatMul, MatMulMissingTranspose, [(3, 3), (3, 3)]),
    (Product, ProductGradientsSwapped, [(2, 4), (2, 4)]),
    (ScaleAndSquare, ScaleAndSquareOverwrites, [(5,), (5,)]),
]


@pytest.mark.parametrize("right, wrong, shapes", RIGHT_AND_WRONG, ids=lambda v: getattr(v, "__name__", ""))
def test_right_backward_passes_and_planted_bug_is_caught(right, wrong, shapes):
    inputs = [leaf(*s, seed=k) for k, s in enumerate(shapes)]
    assert minise.gradcheck(lambda *t: right()(*t), inputs, seed=1)
    with pytest.raises(GradcheckError):
        minise.gradcheck(lambda *t: wrong()(*t), inputs, seed=1)


def test_the_failure_message_names_the_input_the_element_and_both_values():
    with pytest.raises(GradcheckError) as caught:
        minise.gradcheck(lambda x, w: MatMulMissingTranspose()(x, w), {"x": leaf(3, 3), "w": leaf(3, 3, seed=1)},
                         seed=0)
    message = str(caught.value)
    assert "input x (shape (3, 3))" in message and "at element (" in message
    assert "analytic gradient is" in message and "finite differences give" in message
    assert "input w" not in message.split("\n")[0]         # w's gradient is right and not blamed


def test_report_holds_errors_per_input_and_is_falsy_on_failure():
    report = minise.gradcheck(lambda x: CubeDroppedFactor()(x), {"x": leaf(2, 3)}, raise_exception=False)
    assert not report
    check = report["x"]
    assert check.mismatches > 0 and check.max_abs_error > 0.01
    x = leaf(2, 3).data
    assert check.analytic == pytest.approx(x[check.worst_index] ** 2 * 0 + check.analytic)
    assert check.numerical == pytest.approx(3 * check.analytic, rel=1e-4)  # off by exactly the dropped 3
    assert "MISMATCH" in str(report)


def test_an_all_ones_upstream_gradient_would_miss_a_bug_the_random_one_catches():
    """A softmax backward without its Σ term passes when every upstream gradient is 1."""
    class SoftmaxWrongBackward(minise.Function):
        def forward(self, x):
            e = np.exp(x - x.max(axis=1, keepdims=True))
            self.saved = e / e.sum(axis=1, keepdims=True)
            return self.saved

        def backward(self, gy):
            y = self.saved                                 # right: y · (gy − Σ_j y_j·gy_j)
            return (y * (gy - gy.mean(axis=1, keepdims=True)),)

    Softmax = SoftmaxWrongBackward
    x = leaf(3, 4)
    ones_loss = lambda t: Softmax()(t).sum()           # upstream gradient of ones
    with pytest.warns(GradcheckWarning, match="zero everywhere"):   # ... though the checker says it is blind
        assert minise.gradcheck(ones_loss, [x])         # the wrong backward slips through
    with pytest.raises(GradcheckError):
        minise.gradcheck(lambda t: Softmax()(t), [x], seed=0)


def test_float32_inputs_warn_and_run_in_float64():
    x = Tensor(np.random.default_rng(0).standard_normal((2, 2)).astype(np.float32), requires_grad=True)
    with pytest.warns(GradcheckWarning, match="float64"):
        assert minise.gradcheck(lambda t: Cube()(t), [x])
    assert x.grad is None and x.dtype == np.float32       # the user's tensor is untouched
    a = x.data.copy()
    with pytest.warns(GradcheckWarning, match=r"inputs x \(float32\) are not float64") as caught:
        assert minise.check_backward(lambda v: (v ** 3, v), lambda g, v: (3 * v ** 2 * g,), {"x": a})
    assert caught[0].filename == __file__                  # the warning points at the caller's line
    assert a.dtype == np.float32


class Abs(minise.Function):
    def forward(self, x):
        self.saved = x
        return np.abs(x)

    def backward(self, gy):
        return (np.sign(self.saved) * gy,)


def test_an_input_on_a_kink_warns():
    x = Tensor(np.array([0.0, 1.0, -1.0]), requires_grad=True)
    with pytest.warns(GradcheckWarning, match=r"kink.*\(0,\)"):
        minise.gradcheck(lambda t: Abs()(t), [x], raise_exception=False)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        minise.gradcheck(lambda t: Abs()(t), [Tensor(np.array([0.5, 1.0, -1.0]), requires_grad=True)])


def test_a_zero_numerical_gradient_warns_that_the_check_cannot_discriminate():
    x = leaf(4)
    with pytest.warns(GradcheckWarning, match="zero everywhere"):
        minise.gradcheck(lambda t: t * 0.0, [x])


def test_a_tiny_gradient_is_checked_relative_to_its_size():
    """Values of 1e-9 are far above the round-off of finite differences: a 2x error there is caught."""
    x = leaf(4)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert minise.gradcheck(lambda t: t * 1e-9, [x])
    with pytest.raises(GradcheckError):
        minise.check_backward(lambda t: (t * 1e-9, None), lambda g, c: (g * 2e-9,), [x.data])


def test_no_warnings_for_a_clean_float64_check():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        minise.gradcheck(lambda t: Cube()(t), [leaf(3)])


def test_transposed_and_broadcast_inputs_are_perturbed_too():
    """Finite differences write into the input's float64 copy element by element: that copy must be
    a fresh C-ordered array, or the writes land in a temporary and every numerical gradient is 0."""
    a = np.random.default_rng(0).standard_normal((3, 4))
    for data in (a.T, a[:, ::2], np.broadcast_to(a[:1], (3, 4))):
        assert minise.gradcheck(lambda t: Cube()(t), [Tensor(data, requires_grad=True)], seed=0)
        assert minise.check_backward(lambda x: (x ** 3, x), lambda g, x: (3 * x ** 2 * g,), [data], seed=0)
        with pytest.raises(GradcheckError):
            minise.gradcheck(lambda t: CubeDroppedFactor()(t), [Tensor(data, requires_grad=True)], seed=0)


def test_max_elements_samples_a_large_input():
    report = minise.gradcheck(lambda t: Cube()(t), {"big": leaf(40, 50)}, max_elements=30, seed=0)
    assert report["big"].checked == 30


def test_nothing_to_check_is_an_error():
    with pytest.raises(ValueError, match="requires_grad"):
        minise.gradcheck(lambda t: t * 2, [Tensor(np.ones(2))])


def test_several_outputs_are_checked_together():
    x, w = leaf(2, 3), leaf(3, 3, seed=1)
    assert minise.gradcheck(lambda x, w: (MatMul()(x, w), Cube()(x)), [x, w])
    with pytest.raises(GradcheckError):
        minise.gradcheck(lambda x, w: (MatMul()(x, w), CubeDroppedFactor()(x)), [x, w])


# -- the raw-array entry point, the way courses write layers ------------------------------------

def affine_forward(x, w, b):
    return x @ w + b, (x, w)


def affine_backward(gout, cache):
    x, w = cache
    return gout @ w.T, x.T @ gout, gout.sum(axis=0)


def affine_backward_forgets_to_sum_the_bias(gout, cache):
    x, w = cache
    return gout @ w.T, x.T @ gout, gout.mean(axis=0)


def test_check_backward_passes_a_right_layer_and_catches_a_wrong_one():
    rng = np.random.default_rng(0)
    inputs = {"x": rng.standard_normal((4, 3)), "w": rng.standard_normal((3, 2)), "b": rng.standard_normal(2)}
    assert minise.check_backward(affine_forward, affine_backward, inputs)
    with pytest.raises(GradcheckError, match="input b"):
        minise.check_backward(affine_forward, affine_backward_forgets_to_sum_the_bias, inputs)


def test_check_backward_rejects_a_gradient_of_the_wrong_shape():
    with pytest.raises(ValueError, match="shape"):
        minise.check_backward(affine_forward, lambda g, c: (g, g, g), [np.ones((4, 3)), np.ones((3, 2)), np.ones(2)])
