"""pad_channels(x, extra): zero channels appended (the CIFAR ResNets' shortcut "A")."""
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as hst

import minise
from minise import Tensor
from minise.functional.pad import PadChannelsFunction, pad_channels
from minise.testing import strategies as st

pytestmark = pytest.mark.filterwarnings("error::minise.gradcheck.GradcheckWarning")


def test_forward_keeps_x_and_appends_zeros():
    x = np.random.default_rng(0).standard_normal((2, 3, 4, 5))
    y = pad_channels(Tensor(x), 2)
    assert y.shape == (2, 5, 4, 5)
    np.testing.assert_array_equal(y.data[:, :3], x)
    assert not y.data[:, 3:].any()


@given(st.shapes(min_dims=4, max_dims=4, max_side=4), hst.integers(0, 3), st.seeds())
def test_backward_matches_finite_differences(shape, extra, seed):
    x = Tensor(st.make_array(shape, seed), requires_grad=True)
    assert minise.gradcheck(lambda t: pad_channels(t, extra), [x], seed=seed)     # a random upstream gradient


class PadChannelsFromTheEnd(PadChannelsFunction):
    """Planted bug: the gradient of the last C channels (the zeros among them) instead of the first C."""

    def backward(self, gy):
        return (gy[:, -self.saved.channels:],)


def test_planted_wrong_backward_is_caught():
    x = Tensor(st.make_array((2, 3, 2, 2), 1), requires_grad=True)
    assert minise.gradcheck(lambda t: PadChannelsFunction(2)(t), [x], seed=0)
    with pytest.raises(minise.GradcheckError, match="input x"):
        minise.gradcheck(lambda t: PadChannelsFromTheEnd(2)(t), {"x": x}, seed=0)


@pytest.mark.parametrize("shape, extra, error, message", [
    ((2, 3, 4), 1, ValueError, r"4-D \(N, C, H, W\), got shape \(2, 3, 4\)"),
    ((2, 3, 4, 4), -1, ValueError, r"extra must be an int ≥ 0.*-1"),
    ((2, 3, 4, 4), 1.5, ValueError, r"extra must be an int ≥ 0.*1\.5"),
])
def test_bad_input_is_refused(shape, extra, error, message):
    with pytest.raises(error, match=message):
        pad_channels(Tensor(np.ones(shape)), extra)


def test_runs_on_the_device_stand_in(device_backend):
    rng = np.random.default_rng(3)
    x, gy = rng.standard_normal((2, 3, 2, 2)), rng.standard_normal((2, 5, 2, 2))
    t = Tensor(device_backend.asarray(x), requires_grad=True)
    y = pad_channels(t, 2)
    y.backward(device_backend.asarray(gy))
    assert y.device == device_backend.device
    np.testing.assert_array_equal(device_backend.to_numpy(y.data)[:, :3], x)
    np.testing.assert_array_equal(device_backend.to_numpy(t.grad), gy[:, :3])
