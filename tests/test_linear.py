"""linear(x, w, b): forward against a plain loop and PyTorch, backward against finite differences."""
import numpy as np
import pytest
from accuracy import assert_close_to_torch
from hypothesis import given
from hypothesis import strategies as hst

import minise
from minise import Tensor
from minise.functional.linear import LinearFunction, linear
from minise.testing import strategies as st

# a gradient check that warns (a kink, a gradient that is zero everywhere) is an error here
pytestmark = pytest.mark.filterwarnings("error::minise.gradcheck.GradcheckWarning")


def reference_linear(x, w, b):
    """y[n, o] = Σ_i x[n, i] w[o, i] + b[o], one row at a time (x is 2-D here)."""
    y = np.zeros((x.shape[0], w.shape[0]))
    for n in range(x.shape[0]):
        for o in range(w.shape[0]):
            y[n, o] = sum(x[n, i] * w[o, i] for i in range(x.shape[1])) + b[o]
    return y


def test_forward_matches_a_plain_loop():
    rng = np.random.default_rng(0)
    x, w, b = rng.standard_normal((4, 3)), rng.standard_normal((5, 3)), rng.standard_normal(5)
    np.testing.assert_allclose(linear(Tensor(x), Tensor(w), Tensor(b)).data, reference_linear(x, w, b), rtol=1e-12)
    np.testing.assert_allclose(linear(Tensor(x), Tensor(w)).data, reference_linear(x, w, np.zeros(5)), rtol=1e-12)


@pytest.mark.parametrize("x_shape", [(4, 3), (2, 4, 3), (3,)])
@pytest.mark.parametrize("with_bias", [True, False])
def test_forward_and_gradients_match_torch(x_shape, with_bias):
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(1)
    arrays = {"x": rng.standard_normal(x_shape), "w": rng.standard_normal((5, 3))}
    if with_bias:
        arrays["b"] = rng.standard_normal(5)
    ours = {k: Tensor(a, requires_grad=True) for k, a in arrays.items()}
    theirs = {k: torch.tensor(a, requires_grad=True) for k, a in arrays.items()}
    y = linear(*ours.values())
    y_torch = torch.nn.functional.linear(*theirs.values())
    gy = rng.standard_normal(y.shape)
    y.backward(gy)
    y_torch.backward(torch.tensor(gy))
    assert_close_to_torch(y.data, y_torch)
    for k in arrays:
        assert_close_to_torch(ours[k].grad, theirs[k].grad)


@given(lead=st.shapes(min_dims=0, max_dims=2, max_side=3), in_features=hst.integers(1, 4),
       out_features=hst.integers(1, 4), with_bias=hst.booleans(), seed=st.seeds())
def test_backward_matches_finite_differences(lead, in_features, out_features, with_bias, seed):
    inputs = {"x": st.make_array(lead + (in_features,), seed),
              "w": st.make_array((out_features, in_features), seed + 1)}
    if with_bias:
        inputs["b"] = st.make_array((out_features,), seed + 2)
    tensors = {k: Tensor(a, requires_grad=True) for k, a in inputs.items()}
    assert minise.gradcheck(lambda *ts: linear(*ts), tensors, seed=seed)


class LinearTransposedGw(LinearFunction):
    """Planted bug: gw = xᵀ gy, the transpose of the right answer (same shape when in = out)."""

    def backward(self, gy):
        x, w = self.saved
        gx, _, gb = super().backward(gy)
        return gx, x.reshape(-1, w.shape[1]).T @ gy.reshape(-1, w.shape[0]), gb


class LinearGxWithoutW(LinearFunction):
    """Planted bug: gx = gy wᵀ instead of gy w (the shapes fit only when in = out)."""

    def backward(self, gy):
        x, w = self.saved
        _, gw, gb = super().backward(gy)
        return gy @ w.T, gw, gb


class LinearMeanGb(LinearFunction):
    """Planted bug: gb averaged over the batch positions instead of summed."""

    def backward(self, gy):
        gx, gw, gb = super().backward(gy)
        return gx, gw, gb / (gy.size // gy.shape[-1])


@pytest.mark.parametrize("bad", [LinearTransposedGw, LinearGxWithoutW, LinearMeanGb])
def test_planted_wrong_backward_is_caught(bad):
    rng = np.random.default_rng(2)
    tensors = {"x": Tensor(rng.standard_normal((4, 3)), requires_grad=True),
               "w": Tensor(rng.standard_normal((3, 3)), requires_grad=True),
               "b": Tensor(rng.standard_normal(3), requires_grad=True)}
    assert minise.gradcheck(lambda *ts: LinearFunction()(*ts), tensors, seed=0)
    with pytest.raises(minise.GradcheckError):
        minise.gradcheck(lambda *ts: bad()(*ts), tensors, seed=0)


def test_features_mismatch_names_both_shapes():
    with pytest.raises(ValueError, match=r"\(4, 3\).*\(5, 2\)"):
        linear(Tensor(np.ones((4, 3))), Tensor(np.ones((5, 2))))


@pytest.mark.parametrize("x_shape, w_shape, b_shape, message", [
    ((), (5, 3), None, "0-d"),
    ((4, 3), (5, 3, 1), None, r"2-D .*\(5, 3, 1\)"),
    ((4, 3), (3,), None, r"2-D .*\(3,\)"),
    ((4, 3), (5, 3), (3,), r"\(5,\).*\(5, 3\).*\(3,\)"),
])
def test_bad_shapes_are_refused(x_shape, w_shape, b_shape, message):
    b = None if b_shape is None else Tensor(np.ones(b_shape))
    with pytest.raises(ValueError, match=message):
        linear(Tensor(np.ones(x_shape)), Tensor(np.ones(w_shape)), b)


@pytest.mark.parametrize("x_dtype, w_dtype, b_dtype", [
    (np.float32, np.float64, None), (np.float64, np.float64, np.float32), (np.int64, np.int64, None)])
def test_mixed_or_integer_dtypes_are_refused(x_dtype, w_dtype, b_dtype):
    b = None if b_dtype is None else Tensor(np.ones(5, dtype=b_dtype))
    with pytest.raises(TypeError, match=r"one floating dtype.*x .*\(4, 3\), w .*\(5, 3\)"):
        linear(Tensor(np.ones((4, 3), dtype=x_dtype)), Tensor(np.ones((5, 3), dtype=w_dtype)), b)


def test_runs_on_the_device_stand_in(device_backend):
    rng = np.random.default_rng(3)
    host = [rng.standard_normal((2, 4, 3)), rng.standard_normal((5, 3)), rng.standard_normal(5)]
    gy = rng.standard_normal((2, 4, 5))
    expected = [Tensor(a, requires_grad=True) for a in host]
    y_expected = linear(*expected)
    y_expected.backward(gy)

    tensors = [Tensor(device_backend.asarray(a), requires_grad=True) for a in host]
    y = linear(*tensors)
    y.backward(device_backend.asarray(gy))
    assert y.device == device_backend.device
    np.testing.assert_array_equal(device_backend.to_numpy(y.data), y_expected.data)
    for t, e in zip(tensors, expected):
        np.testing.assert_array_equal(device_backend.to_numpy(t.grad), e.grad)
