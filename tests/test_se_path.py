"""The Squeeze-and-Excitation path, end to end, and why its gradient check uses small images.

    squeeze     s = mean over H, W of x                        (N, C)   global average pooling
    excitation  e = σ(w2 · relu(w1 · s + b1) + b2)               (N, C)   C -> C/r -> C
    scale       y = x · e, channel by channel                  (N, C, H, W)

x reaches y two ways: directly (gy · e) and through the squeeze. The squeeze path's gradient
reaching each x[n, c, h, w] carries the mean's 1/(H·W), so at 56×56 it is a small correction
to the direct path. A backward that drops it is still "roughly right", and a loose check cannot
tell. Small images, a per-element tolerance and a random upstream gradient can.
"""
import numpy as np
import pytest
from accuracy import assert_close_to_torch
from hypothesis import given
from hypothesis import strategies as hst

import minise
from minise import Tensor
from minise.functional.activation import relu, sigmoid
from minise.functional.adaptive import (
    AdaptiveAvgPool2dFunction,
    AdaptiveMaxPool2dFunction,
    adaptive_avg_pool2d,
    adaptive_max_pool2d,
)
from minise.functional.linear import linear
from minise.functional.scale import ScaleChannelsFunction, scale_channels
from minise.testing import strategies as st

# a gradient check that warns (a kink, a gradient that is zero everywhere) is an error here
pytestmark = pytest.mark.filterwarnings("error::minise.gradcheck.GradcheckWarning")


SQUEEZES = {"avg": lambda x: adaptive_avg_pool2d(x, 1),                   # the paper's squeeze
            "max": lambda x: adaptive_max_pool2d(x, 1)}                   # its ablation


def se_path(x, w1, b1, w2, b2, scale=scale_channels, detach_squeeze=False, squeeze=SQUEEZES["avg"]):
    squeezed = squeeze(x.detach() if detach_squeeze else x).flatten(1)    # (N, C, 1, 1) -> (N, C)
    hidden = relu(linear(squeezed, w1, b1))                                # (N, C/r)
    excitation = sigmoid(linear(hidden, w2, b2))                           # (N, C)
    return scale(x, excitation)                                            # (N, C, H, W)


def se_inputs(n, c, reduction, h, w, seed, tie_free=False):
    """x and the excitation's weights, scaled like a fresh layer (w ~ 1/√fan_in); a tie-free x
    (values ≥ 0.01 apart) for the max squeeze. b1 keeps every hidden unit alive on the first image
    (for either squeeze): a unit dead on every image would leave its weights a zero gradient, and
    a check that cannot discriminate."""
    hidden = max(c // reduction, 1)
    rng = np.random.default_rng([seed, 1])      # not gradcheck's stream for this seed: gy must not equal x
    x = st.make_array((n, c, h, w), seed, tie_free=True) if tie_free else rng.standard_normal((n, c, h, w))
    w1 = rng.standard_normal((hidden, c)) / np.sqrt(c)
    lowest = np.minimum(w1 @ x[0].mean(axis=(1, 2)), w1 @ x[0].max(axis=(1, 2)))     # (hidden,)
    arrays = {"x": x, "w1": w1, "b1": rng.uniform(0.2, 1.0, hidden) + np.maximum(0.0, -lowest),
              "w2": rng.standard_normal((c, hidden)) / np.sqrt(hidden), "b2": rng.uniform(-0.5, 0.5, c)}
    return {k: Tensor(a, requires_grad=True) for k, a in arrays.items()}


def gradient_of_x(fn, inputs, gy):
    x = Tensor(inputs["x"].data, requires_grad=True)
    fn(x, *[inputs[k] for k in ("w1", "b1", "w2", "b2")]).backward(gy)
    return x.grad


@pytest.mark.parametrize("squeeze", SQUEEZES)
@given(hst.integers(1, 2), hst.sampled_from([2, 4, 6]), hst.sampled_from([1, 2]),
       hst.integers(2, 4), hst.integers(2, 4), st.seeds())
def test_se_path_backward_matches_finite_differences(squeeze, n, c, reduction, h, w, seed):
    inputs = se_inputs(n, c, reduction, h, w, seed, tie_free=squeeze == "max")
    assert minise.gradcheck(lambda *ts: se_path(*ts, squeeze=SQUEEZES[squeeze]), inputs, seed=seed)


def test_the_tensor_mean_squeeze_is_the_same_path():
    """x.mean over H, W (what the SE block may write) and adaptive_avg_pool2d(x, 1) agree, gradients too."""
    inputs = se_inputs(2, 4, 2, 3, 4, seed=7)
    gy = np.random.default_rng(8).standard_normal((2, 4, 3, 4))
    mean_squeeze = lambda x: x.mean(axis=(2, 3))                            # noqa: E731
    g_pool = gradient_of_x(se_path, inputs, gy)
    g_mean = gradient_of_x(lambda *ts: se_path(*ts, squeeze=mean_squeeze), inputs, gy)
    np.testing.assert_allclose(g_mean, g_pool, rtol=1e-12, atol=1e-15)


@pytest.mark.parametrize("squeeze", SQUEEZES)
def test_se_path_matches_torch(squeeze):
    torch = pytest.importorskip("torch")
    F = torch.nn.functional
    ours = se_inputs(2, 4, 2, 3, 3, seed=0, tie_free=squeeze == "max")
    theirs = {k: torch.tensor(t.data, requires_grad=True) for k, t in ours.items()}
    y = se_path(*ours.values(), squeeze=SQUEEZES[squeeze])
    x_t = theirs["x"]
    pool = F.adaptive_avg_pool2d if squeeze == "avg" else F.adaptive_max_pool2d
    squeezed = pool(x_t, 1).flatten(1)
    excitation = torch.sigmoid(F.linear(F.relu(F.linear(squeezed, theirs["w1"], theirs["b1"])),
                                        theirs["w2"], theirs["b2"]))
    y_torch = x_t * excitation[:, :, None, None]
    gy = np.random.default_rng(1).standard_normal(y.shape)
    y.backward(gy)
    y_torch.backward(torch.tensor(gy))
    assert_close_to_torch(y.data, y_torch)
    for k in ours:
        assert_close_to_torch(ours[k].grad, theirs[k].grad)


class ScaleChannelsWithoutGs(ScaleChannelsFunction):
    """Planted bug: no gradient flows into the excitation (gs = 0)."""

    def backward(self, gy):
        gx, gs = super().backward(gy)
        return gx, gs * 0


def test_planted_zero_gs_is_caught():
    inputs = se_inputs(2, 4, 2, 4, 4, seed=2)
    bad = lambda *ts: se_path(*ts, scale=lambda x, e: ScaleChannelsWithoutGs()(x, e))   # noqa: E731
    with pytest.raises(minise.GradcheckError) as caught:
        minise.gradcheck(bad, inputs, seed=0)
    for name in ("x", "w1", "b1", "w2", "b2"):
        assert f"input {name} " in str(caught.value)


class SqueezeWithoutGradient(AdaptiveAvgPool2dFunction):
    """Planted bug: the squeeze's backward sends nothing back (the gradient through it is dropped)."""

    def backward(self, gy):
        (gx,) = super().backward(gy)
        return (gx * 0,)


class MaxSqueezeWithoutGradient(AdaptiveMaxPool2dFunction):
    """Planted bug: the max squeeze's backward sends nothing back."""

    def backward(self, gy):
        (gx,) = super().backward(gy)
        return (gx * 0,)


@pytest.mark.parametrize("size", [(2, 2), (3, 3), (4, 4), (2, 4), (4, 3)])
@pytest.mark.parametrize("squeeze, planted", [("avg", SqueezeWithoutGradient), ("max", MaxSqueezeWithoutGradient)])
def test_a_squeeze_that_drops_its_gradient_is_caught_at_small_sizes(size, squeeze, planted):
    """The SE path at 2×2 to 4×4: the right one passes, the one whose squeeze drops its gradient fails,
    on x only (the excitation weights do not see the squeeze's backward)."""
    inputs = se_inputs(2, 4, 2, *size, seed=9, tie_free=squeeze == "max")
    assert minise.gradcheck(lambda *ts: se_path(*ts, squeeze=SQUEEZES[squeeze]), inputs, seed=0)
    bad = lambda *ts: se_path(*ts, squeeze=lambda x: planted(1)(x))         # noqa: E731
    with pytest.raises(minise.GradcheckError, match="input x ") as caught:
        minise.gradcheck(bad, inputs, seed=0)
    assert "input w1 " not in str(caught.value).split("\n")[0]


def loose_check(g_test, g_right):
    """The kind of check that looks reasonable and is not: norms within 1 %, and every element
    within 1 % of the gradient's largest element."""
    norms_agree = abs(np.linalg.norm(g_test) - np.linalg.norm(g_right)) <= 1e-2 * np.linalg.norm(g_right)
    elements_agree = np.abs(g_test - g_right).max() <= 1e-2 * np.abs(g_right).max()
    return bool(norms_agree and elements_agree)


def test_size_matters_a_loose_check_misses_a_dropped_squeeze_at_56x56_ours_catches_it_at_4x4():
    detached = lambda *ts: se_path(*ts, detach_squeeze=True)               # noqa: E731

    # 56×56, as in SE-ResNet-50's first stage: the reference gradient is right (sampled finite
    # differences agree), and yet the loose check passes the backward that drops the squeeze path.
    big = se_inputs(2, 8, 4, 56, 56, seed=3)
    assert minise.gradcheck(lambda x: se_path(x, *[big[k] for k in ("w1", "b1", "w2", "b2")]),
                            {"x": big["x"]}, seed=0, max_elements=24)
    gy = np.random.default_rng(4).standard_normal((2, 8, 56, 56))
    g_right, g_bug = gradient_of_x(se_path, big, gy), gradient_of_x(detached, big, gy)
    assert not np.array_equal(g_right, g_bug)                 # the bug is there ...
    assert loose_check(g_bug, g_right)                        # ... and the loose check lets it through

    # 4×4: the squeeze path's share of each x's gradient, 1/(H·W) times a sum of H·W random terms,
    # shrinks like 1/√(H·W): here it is 56/4 = 14 times larger, and our check (per element, random
    # upstream gradient, small image) fails the same bug; so would the loose check.
    small = se_inputs(2, 8, 4, 4, 4, seed=3)
    assert minise.gradcheck(se_path, small, seed=0)
    with pytest.raises(minise.GradcheckError, match="input x "):
        minise.gradcheck(detached, small, seed=0)
    gy = np.random.default_rng(4).standard_normal((2, 8, 4, 4))
    assert not loose_check(gradient_of_x(detached, small, gy), gradient_of_x(se_path, small, gy))


@pytest.mark.parametrize("squeeze", SQUEEZES)
def test_se_path_runs_on_the_device_stand_in(device_backend, squeeze):
    host = {k: t.data for k, t in se_inputs(2, 4, 2, 3, 3, seed=5, tie_free=squeeze == "max").items()}
    gy = np.random.default_rng(6).standard_normal((2, 4, 3, 3))
    expected = {k: Tensor(a, requires_grad=True) for k, a in host.items()}
    y_expected = se_path(*expected.values(), squeeze=SQUEEZES[squeeze])
    y_expected.backward(gy)
    tensors = {k: Tensor(device_backend.asarray(a), requires_grad=True) for k, a in host.items()}
    y = se_path(*tensors.values(), squeeze=SQUEEZES[squeeze])
    y.backward(device_backend.asarray(gy))
    assert y.device == device_backend.device
    np.testing.assert_array_equal(device_backend.to_numpy(y.data), y_expected.data)
    for k in host:
        np.testing.assert_array_equal(device_backend.to_numpy(tensors[k].grad), expected[k].grad)
