"""relu, sigmoid, tanh, softmax, log_softmax: references, PyTorch, finite differences, stability."""
import math
import warnings

import numpy as np
import pytest
from accuracy import assert_close_to_torch
from hypothesis import given
from hypothesis import strategies as hst

import minise
from minise import Tensor
from minise.functional.activation import (
    LogSoftmaxFunction,
    ReLUFunction,
    SigmoidFunction,
    SoftmaxFunction,
    TanhFunction,
    log_softmax,
    relu,
    sigmoid,
    softmax,
    tanh,
)
from minise.testing import strategies as st

# -- plain references, one number at a time ------------------------------------------------------

def reference_softmax_rows(x):
    """softmax along the last axis of a 2-D array, straight from the definition."""
    out = np.zeros_like(x)
    for r, row in enumerate(x):
        exps = [math.exp(v) for v in row]
        out[r] = [e / sum(exps) for e in exps]
    return out


REFERENCES = {
    "relu": lambda x: np.vectorize(lambda v: v if v > 0 else 0.0)(x),
    "sigmoid": lambda x: np.vectorize(lambda v: 1 / (1 + math.exp(-v)))(x),
    "tanh": lambda x: np.vectorize(lambda v: (math.exp(v) - math.exp(-v)) / (math.exp(v) + math.exp(-v)))(x),
    "softmax": reference_softmax_rows,
    "log_softmax": lambda x: np.log(reference_softmax_rows(x)),
}
OURS = {"relu": relu, "sigmoid": sigmoid, "tanh": tanh,
        "softmax": lambda x: softmax(x, dim=-1), "log_softmax": lambda x: log_softmax(x, dim=-1)}


@pytest.mark.parametrize("name", OURS)
def test_forward_matches_the_definition(name):
    x = np.random.default_rng(0).uniform(-3, 3, (4, 5))
    np.testing.assert_allclose(OURS[name](Tensor(x)).data, REFERENCES[name](x), rtol=1e-12, atol=1e-15)


def torch_ops(torch):
    F = torch.nn.functional
    return {"relu": F.relu, "sigmoid": torch.sigmoid, "tanh": torch.tanh,
            "softmax": lambda x, dim: F.softmax(x, dim=dim), "log_softmax": lambda x, dim: F.log_softmax(x, dim=dim)}


@pytest.mark.parametrize("name", OURS)
@pytest.mark.parametrize("dim", [0, 1, -1])
def test_forward_and_gradient_match_torch(name, dim):
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(1)
    x = rng.uniform(-4, 4, (3, 4, 5))
    ours = {"relu": relu, "sigmoid": sigmoid, "tanh": tanh, "softmax": softmax, "log_softmax": log_softmax}[name]
    theirs = torch_ops(torch)[name]
    with_dim = name in ("softmax", "log_softmax")
    xt, x_torch = Tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    y = ours(xt, dim) if with_dim else ours(xt)
    y_torch = theirs(x_torch, dim) if with_dim else theirs(x_torch)
    gy = rng.standard_normal(y.shape)
    y.backward(gy)
    y_torch.backward(torch.tensor(gy))
    assert_close_to_torch(y.data, y_torch)
    assert_close_to_torch(xt.grad, x_torch.grad)


def test_relu_gradient_at_zero_is_zero_as_in_torch():
    x = Tensor(np.array([-1.0, 0.0, 2.0]), requires_grad=True)
    relu(x).backward(np.ones(3))
    np.testing.assert_array_equal(x.grad, [0.0, 0.0, 1.0])
    torch = pytest.importorskip("torch")
    xt = torch.tensor([-1.0, 0.0, 2.0], dtype=torch.float64, requires_grad=True)
    torch.relu(xt).backward(torch.ones(3, dtype=torch.float64))
    np.testing.assert_array_equal(x.grad, xt.grad.numpy())


# -- finite differences over drawn shapes --------------------------------------------------------

@pytest.mark.filterwarnings("ignore:.*zero everywhere")           # all-negative x: gradient 0, rightly
@given(st.arrays(st.shapes(max_dims=3), away_from_zero=0.1), st.seeds())
def test_relu_backward_matches_finite_differences(x, seed):
    assert minise.gradcheck(relu, [Tensor(x, requires_grad=True)], seed=seed)


@pytest.mark.parametrize("name", ["sigmoid", "tanh"])
@given(x=st.arrays(st.shapes(max_dims=3), low=-4, high=4), seed=st.seeds())
def test_sigmoid_and_tanh_backward_match_finite_differences(name, x, seed):
    assert minise.gradcheck(OURS[name], [Tensor(x, requires_grad=True)], seed=seed)


@hst.composite
def shape_and_dim(draw):
    shape = draw(st.shapes(min_dims=1, max_dims=3, max_side=4))
    return shape, draw(hst.integers(-len(shape), len(shape) - 1))


@pytest.mark.filterwarnings("ignore:.*zero everywhere")           # softmax over an axis of size 1
@pytest.mark.parametrize("name", ["softmax", "log_softmax"])
@given(shape_dim=shape_and_dim(), seed=st.seeds())
def test_softmax_and_log_softmax_backward_match_finite_differences(name, shape_dim, seed):
    shape, dim = shape_dim
    x = st.make_array(shape, seed, low=-4, high=4)
    op = softmax if name == "softmax" else log_softmax
    assert minise.gradcheck(lambda t: op(t, dim), [Tensor(x, requires_grad=True)], seed=seed)


# -- planted wrong backwards ---------------------------------------------------------------------

class ReLUPassingEverything(ReLUFunction):
    """Planted bug: the mask forgotten, gx = gy also where x < 0."""

    def backward(self, gy):
        return (gy,)


class TanhWithoutSquare(TanhFunction):
    """Planted bug: tanh' taken as 1 − y instead of 1 − y²."""

    def backward(self, gy):
        return (gy * (1 - self.saved.y),)


class SigmoidWithY(SigmoidFunction):
    """Planted bug: σ' taken as y instead of y(1 − y)."""

    def backward(self, gy):
        return (gy * self.saved.y,)


class SoftmaxWithoutY(SoftmaxFunction):
    """Planted bug: gx = gy − Σ gy·y, the leading y forgotten. Right for any constant gy."""

    def backward(self, gy):
        y = self.saved.y
        return (gy - (gy * y).sum(axis=self.dim, keepdims=True),)


class SoftmaxWithoutSum(SoftmaxFunction):
    """Planted bug: gx = y · gy, the Σ term forgotten (only the Jacobian's diagonal part, half of it)."""

    def backward(self, gy):
        return (self.saved.y * gy,)


class LogSoftmaxWithoutSum(LogSoftmaxFunction):
    """Planted bug: gx = gy − p·gy, the Σ over the axis forgotten."""

    def backward(self, gy):
        return (gy - np.exp(self.saved.y) * gy,)


@pytest.mark.parametrize("right, bad", [(ReLUFunction, ReLUPassingEverything), (TanhFunction, TanhWithoutSquare),
                                        (SigmoidFunction, SigmoidWithY),
                                        (lambda: SoftmaxFunction(1), lambda: SoftmaxWithoutY(1)),
                                        (lambda: SoftmaxFunction(1), lambda: SoftmaxWithoutSum(1)),
                                        (lambda: LogSoftmaxFunction(1), lambda: LogSoftmaxWithoutSum(1))],
                         ids=["relu", "tanh", "sigmoid", "softmax-without-y", "softmax-without-sum",
                              "log_softmax-without-sum"])
def test_planted_wrong_backward_is_caught(right, bad):
    x = Tensor(st.make_array((3, 4), 2, away_from_zero=0.1), requires_grad=True)      # both signs, no kink
    assert minise.gradcheck(lambda t: right()(t), [x], seed=0)
    with pytest.raises(minise.GradcheckError):
        minise.gradcheck(lambda t: bad()(t), [x], seed=0)


def test_random_upstream_gradient_is_what_catches_the_softmax_bug():
    """With gy = c·1 (what .sum() sends back) the true gradient is 0 and the bug gives 0 too."""
    x = Tensor(np.random.default_rng(3).uniform(-2, 2, (3, 4)), requires_grad=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", minise.GradcheckWarning)          # "gradient ≈ 0 everywhere"
        assert minise.gradcheck(lambda t: SoftmaxWithoutY(1)(t).sum(), [x], seed=0)   # all-ones: passes
    with pytest.raises(minise.GradcheckError):
        minise.gradcheck(lambda t: SoftmaxWithoutY(1)(t), [x], seed=0)                # random gy: caught


# -- bad input -----------------------------------------------------------------------------------

def test_bad_input_is_refused():
    x = Tensor(np.ones((2, 3)))
    with pytest.raises(ValueError, match=r"dim 2 .*\(2, 3\)"):
        softmax(x, dim=2)
    with pytest.raises(ValueError, match=r"dim -3 .*\(2, 3\)"):
        log_softmax(x, dim=-3)
    with pytest.raises(TypeError, match="dim"):
        softmax(x, None)
    for not_an_axis in (True, 1.0):
        with pytest.raises(TypeError, match=r"dim must be an int .*\(2, 3\)"):
            softmax(x, not_an_axis)
    np.testing.assert_allclose(softmax(x, np.int64(1)).data, softmax(x, 1).data)
    with pytest.raises(TypeError, match="int64"):
        sigmoid(Tensor(np.ones(3, dtype=np.int64)))


def test_axis_is_an_alias_of_dim():
    x = Tensor(np.random.default_rng(0).standard_normal((2, 3)))
    for op in (softmax, log_softmax):
        np.testing.assert_array_equal(op(x, axis=0).data, op(x, dim=0).data)
        np.testing.assert_array_equal(op(x, axis=-1).data, op(x, 1).data)
        assert op(x, 1, axis=1).shape == (2, 3)                     # the same axis twice is fine
        with pytest.raises(TypeError, match="dim=1 and axis=0 name the same argument"):
            op(x, 1, axis=0)


# -- device stand-in -----------------------------------------------------------------------------

@pytest.mark.parametrize("name", OURS)
def test_runs_on_the_device_stand_in(device_backend, name):
    rng = np.random.default_rng(4)
    x, gy = rng.uniform(-3, 3, (3, 4)), rng.standard_normal((3, 4))
    expected = Tensor(x, requires_grad=True)
    y_expected = OURS[name](expected)
    y_expected.backward(gy)
    xt = Tensor(device_backend.asarray(x), requires_grad=True)
    y = OURS[name](xt)
    y.backward(device_backend.asarray(gy))
    assert y.device == device_backend.device
    np.testing.assert_array_equal(device_backend.to_numpy(y.data), y_expected.data)
    np.testing.assert_array_equal(device_backend.to_numpy(xt.grad), expected.grad)


# -- stability: large |x|, float32 and float64 -------------------------------------------------

@pytest.mark.parametrize("name", OURS)
@pytest.mark.parametrize("big", [100.0, 1000.0])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_finite_and_silent_for_large_inputs(name, big, dtype):
    """No overflow, no invalid operation, no division by zero, no warning at all.

    Underflow is allowed: e^(−1000) is 0 in every float format, so rounding it to 0 is the right
    answer (NumPy flags it, hence under="ignore").
    """
    x = Tensor(np.array([[big, -big, 0.0], [-big, -big, big], [big, big, -big]], dtype=dtype), requires_grad=True)
    with warnings.catch_warnings(), np.errstate(over="raise", divide="raise", invalid="raise", under="ignore"):
        warnings.simplefilter("error")
        y = OURS[name](x)
        y.backward(np.ones(y.shape, dtype=dtype) * dtype(0.5))
    assert y.dtype == dtype and x.grad.dtype == dtype
    assert np.all(np.isfinite(y.data)) and np.all(np.isfinite(x.grad))
    b, ln2 = big, math.log(2)
    expected = {"relu": np.maximum(x.data, 0),
                "sigmoid": np.where(x.data > 0, 1.0, np.where(x.data < 0, 0.0, 0.5)),
                "tanh": np.sign(x.data),
                "softmax": [[1, 0, 0], [0, 0, 1], [0.5, 0.5, 0]],
                "log_softmax": [[0, -2 * b, -b], [-2 * b, -2 * b, 0], [-ln2, -ln2, -2 * b - ln2]]}[name]
    np.testing.assert_allclose(y.data, expected, rtol=1e-6, atol=1e-6)
