"""scale_channels(x, s): the SE multiply, y[n, c] = x[n, c] · s[n, c]."""
import numpy as np
import pytest
from accuracy import assert_close_to_torch
from hypothesis import given

import minise
from minise import Tensor
from minise.functional.scale import ScaleChannelsFunction, scale_channels
from minise.testing import strategies as st

# a gradient check that warns (a kink, a gradient that is zero everywhere) is an error here
pytestmark = pytest.mark.filterwarnings("error::minise.gradcheck.GradcheckWarning")


def reference_scale_channels(x, s):
    y = np.empty_like(x)
    for n in range(x.shape[0]):
        for c in range(x.shape[1]):
            y[n, c] = x[n, c] * s[n, c]          # one whole H×W feature map times one number
    return y


def test_forward_matches_a_plain_loop():
    rng = np.random.default_rng(0)
    x, s = rng.standard_normal((2, 3, 4, 5)), rng.uniform(0, 1, (2, 3))
    np.testing.assert_array_equal(scale_channels(Tensor(x), Tensor(s)).data, reference_scale_channels(x, s))


def test_forward_and_gradients_match_torch():
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(1)
    x, s, gy = rng.standard_normal((2, 3, 4, 5)), rng.uniform(0, 1, (2, 3)), rng.standard_normal((2, 3, 4, 5))
    xt, st_ = Tensor(x, requires_grad=True), Tensor(s, requires_grad=True)
    x_torch, s_torch = torch.tensor(x, requires_grad=True), torch.tensor(s, requires_grad=True)
    y = scale_channels(xt, st_)
    y_torch = x_torch * s_torch[:, :, None, None]           # how PyTorch SE code writes it
    y.backward(gy)
    y_torch.backward(torch.tensor(gy))
    assert_close_to_torch(y.data, y_torch)
    assert_close_to_torch(xt.grad, x_torch.grad)
    assert_close_to_torch(st_.grad, s_torch.grad)


@given(st.shapes(min_dims=4, max_dims=4, max_side=4), st.seeds())
def test_backward_matches_finite_differences(shape, seed):
    inputs = {"x": Tensor(st.make_array(shape, seed), requires_grad=True),
              "s": Tensor(st.make_array(shape[:2], seed + 1, low=0.0, high=1.0), requires_grad=True)}
    assert minise.gradcheck(scale_channels, inputs, seed=seed)


class ScaleChannelsDroppingGs(ScaleChannelsFunction):
    """Planted bug: no gradient for s (the excitation path learns nothing)."""

    def backward(self, gy):
        gx, gs = super().backward(gy)
        return gx, 0 * gs


class ScaleChannelsMeanGs(ScaleChannelsFunction):
    """Planted bug: gs averaged over H·W instead of summed."""

    def backward(self, gy):
        x, s = self.saved
        return gy * s[:, :, None, None], (gy * x).mean(axis=(2, 3))


class ScaleChannelsGxWithoutS(ScaleChannelsFunction):
    """Planted bug: gx = gy, the scale forgotten on the direct path."""

    def backward(self, gy):
        gx, gs = super().backward(gy)
        return gy, gs


@pytest.mark.parametrize("bad, wrong", [(ScaleChannelsDroppingGs, "s"), (ScaleChannelsMeanGs, "s"),
                                        (ScaleChannelsGxWithoutS, "x")])
def test_planted_wrong_backward_is_caught(bad, wrong):
    rng = np.random.default_rng(2)
    inputs = {"x": Tensor(rng.standard_normal((2, 3, 2, 2)), requires_grad=True),
              "s": Tensor(rng.uniform(0, 1, (2, 3)), requires_grad=True)}
    assert minise.gradcheck(lambda x, s: ScaleChannelsFunction()(x, s), inputs, seed=0)
    with pytest.raises(minise.GradcheckError, match=f"input {wrong} "):
        minise.gradcheck(lambda x, s: bad()(x, s), inputs, seed=0)


@pytest.mark.parametrize("x_shape, s_shape, message", [
    ((2, 3, 4), (2, 3), r"4-D .*\(2, 3, 4\)"),
    ((2, 3, 4, 4), (2, 3, 1, 1), r"2-D .*\(2, 3, 1, 1\).*\(2, 3, 4, 4\)"),
    ((2, 3, 4, 4), (5, 3), r"\(5, 3\).*\(2, 3, 4, 4\).*\(2, 3\)"),        # N differs
    ((2, 3, 4, 4), (2, 4), r"\(2, 4\).*\(2, 3, 4, 4\).*\(2, 3\)"),        # C differs
])
def test_mismatched_shapes_are_refused(x_shape, s_shape, message):
    with pytest.raises(ValueError, match=message):
        scale_channels(Tensor(np.ones(x_shape)), Tensor(np.ones(s_shape)))


def test_mixed_dtypes_are_refused():
    with pytest.raises(TypeError, match=r"one floating dtype.*float32 \(2, 3, 4, 4\).*float64 \(2, 3\)"):
        scale_channels(Tensor(np.ones((2, 3, 4, 4), dtype=np.float32)), Tensor(np.ones((2, 3))))


def test_runs_on_the_device_stand_in(device_backend):
    rng = np.random.default_rng(3)
    host = [rng.standard_normal((2, 3, 4, 4)), rng.uniform(0, 1, (2, 3))]
    gy = rng.standard_normal((2, 3, 4, 4))
    expected = [Tensor(a, requires_grad=True) for a in host]
    scale_channels(*expected).backward(gy)
    tensors = [Tensor(device_backend.asarray(a), requires_grad=True) for a in host]
    y = scale_channels(*tensors)
    y.backward(device_backend.asarray(gy))
    assert y.device == device_backend.device
    np.testing.assert_array_equal(device_backend.to_numpy(y.data), reference_scale_channels(*host))
    for t, e in zip(tensors, expected):
        np.testing.assert_array_equal(device_backend.to_numpy(t.grad), e.grad)
