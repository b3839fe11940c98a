"""batch_norm: training and eval mode, (N, C) and (N, C, H, W), running statistics, gradients."""
import warnings

import numpy as np
import pytest
from accuracy import assert_close_to_torch
from hypothesis import given
from hypothesis import strategies as hst

import minise
from minise import Tensor
from minise.functional.norm import BatchNorm2dFunction, batch_norm
from minise.testing import strategies as st


def reference_batch_norm(x, mean, var, weight, bias, eps=1e-5):
    """Channel by channel, from the definition y = γ (x − μ)/√(σ² + ε) + β."""
    y = np.empty_like(x)
    for c in range(x.shape[1]):
        y[:, c] = weight[c] * (x[:, c] - mean[c]) / np.sqrt(var[c] + eps) + bias[c]
    return y


def channel_stats(x):
    """Per-channel mean and biased variance over every axis but 1."""
    values = np.moveaxis(x, 1, 0).reshape(x.shape[1], -1)        # (C, m)
    return values.mean(axis=1), ((values - values.mean(axis=1, keepdims=True)) ** 2).mean(axis=1)


SHAPES = [(6, 3), (4, 3, 2, 5)]


@pytest.mark.parametrize("shape", SHAPES)
def test_forward_matches_the_definition(shape):
    rng = np.random.default_rng(0)
    x, weight, bias = rng.standard_normal(shape), rng.standard_normal(3), rng.standard_normal(3)
    running_mean, running_var = rng.standard_normal(3), rng.uniform(0.5, 2, 3)
    mean, var = channel_stats(x)
    m = x.size // 3
    y = batch_norm(Tensor(x), running_mean, running_var, Tensor(weight), Tensor(bias), training=True, momentum=0.2)
    np.testing.assert_allclose(y.data, reference_batch_norm(x, mean, var, weight, bias), rtol=1e-10, atol=1e-12)
    # running statistics moved towards the batch's, the variance unbiased (× m / (m − 1))
    old_mean, old_var = running_mean.copy(), running_var.copy()
    batch_norm(Tensor(x), running_mean, running_var, training=True, momentum=0.2)
    np.testing.assert_allclose(running_mean, 0.8 * old_mean + 0.2 * mean, rtol=1e-12)
    np.testing.assert_allclose(running_var, 0.8 * old_var + 0.2 * var * m / (m - 1), rtol=1e-12)
    # eval mode: the running statistics instead of the batch's
    y = batch_norm(Tensor(x), running_mean, running_var, Tensor(weight), Tensor(bias))
    np.testing.assert_allclose(y.data, reference_batch_norm(x, running_mean, running_var, weight, bias), rtol=1e-10)


def test_running_variance_is_the_unbiased_estimate_by_hand():
    x = np.array([[1.0], [3.0]])                 # mean 2, biased variance 1, unbiased 2
    running_mean, running_var = Tensor(np.zeros(1)), Tensor(np.ones(1))     # Tensors work as well
    batch_norm(Tensor(x), running_mean, running_var, training=True, momentum=0.1)
    np.testing.assert_allclose(running_mean.data, [0.2])
    np.testing.assert_allclose(running_var.data, [0.9 * 1 + 0.1 * 2])


@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("training", [True, False])
@pytest.mark.parametrize("affine", [True, False])
def test_forward_gradients_and_running_stats_match_torch(shape, training, affine):
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(1)
    x = rng.standard_normal(shape) * 3 + 1
    params = {"weight": rng.standard_normal(3), "bias": rng.standard_normal(3)} if affine else {}
    running = [rng.standard_normal(3), rng.uniform(0.5, 2, 3)]
    running_torch = [torch.tensor(r.copy()) for r in running]
    ours = {"x": Tensor(x, requires_grad=True), **{k: Tensor(v, requires_grad=True) for k, v in params.items()}}
    theirs = {"x": torch.tensor(x, requires_grad=True),
              **{k: torch.tensor(v, requires_grad=True) for k, v in params.items()}}
    y = batch_norm(ours["x"], *running, ours.get("weight"), ours.get("bias"), training=training, momentum=0.3)
    y_torch = torch.nn.functional.batch_norm(theirs["x"], *running_torch, theirs.get("weight"), theirs.get("bias"),
                                             training=training, momentum=0.3)
    gy = rng.standard_normal(shape)
    y.backward(gy)
    y_torch.backward(torch.tensor(gy))
    assert_close_to_torch(y.data, y_torch)
    for k in ours:
        assert_close_to_torch(ours[k].grad, theirs[k].grad)
    for r, r_torch in zip(running, running_torch):
        assert_close_to_torch(r, r_torch)


# -- finite differences over drawn shapes, both modes --------------------------------------------

@hst.composite
def batch_norm_shapes(draw, spatial_dims):
    """Shapes with m = N·(spatial size) ≥ 3 values per channel. Training needs m ≥ 2, and at m = 2
    x̂ = ±1 whatever x is: its gradient is ~0 and the check could not tell right from wrong."""
    n, c = draw(hst.integers(1, 4)), draw(hst.integers(1, 3))
    spatial = tuple(draw(hst.integers(1, 3)) for _ in range(spatial_dims))
    if n * int(np.prod(spatial)) < 3:
        n = 3
    return (n, c) + spatial


@pytest.mark.filterwarnings("error::minise.gradcheck.GradcheckWarning")      # every drawn check discriminates
@pytest.mark.parametrize("layout", ["(N, C)", "(N, C, H, W)"])
@pytest.mark.parametrize("training", [True, False])
@given(data=hst.data(), seed=st.seeds())
def test_backward_matches_finite_differences(layout, training, data, seed):
    shape = data.draw(batch_norm_shapes(0 if layout == "(N, C)" else 2), label="shape")
    c = shape[1]
    rng = np.random.default_rng(seed)
    running_mean, running_var = rng.standard_normal(c), rng.uniform(0.5, 2, c)
    inputs = {"x": Tensor(st.make_array(shape, seed, tie_free=True, gap=0.05), requires_grad=True),
              "weight": Tensor(st.make_array((c,), seed + 1), requires_grad=True),
              "bias": Tensor(st.make_array((c,), seed + 2), requires_grad=True)}
    assert minise.gradcheck(lambda x, w, b: batch_norm(x, running_mean, running_var, w, b, training=training),
                            inputs, seed=seed)


# -- planted wrong backwards ---------------------------------------------------------------------

class BatchNormWithoutXhatTerm(BatchNorm2dFunction):
    """Planted bug: gx = (1/m)(γ/σ)(m·gŷ − Σgŷ), the x̂·Σ(gŷ·x̂) term (the path through σ) forgotten."""

    def backward(self, gy):
        x_hat, inv_std, weight = self.saved
        axes = (0,) + tuple(range(2, x_hat.ndim))                    # every axis but the channels
        per_channel = (1, x_hat.shape[1]) + (1,) * (x_hat.ndim - 2)
        gx, _, _, gw, gb = super().backward(gy)
        g_xhat = gy * weight.reshape(per_channel)
        m = x_hat.size // x_hat.shape[1]
        return gx + inv_std.reshape(per_channel) / m * x_hat * (g_xhat * x_hat).sum(axis=axes, keepdims=True), \
            None, None, gw, gb


class BatchNormWithoutMeanTerm(BatchNorm2dFunction):
    """Planted bug: the Σgŷ term (the path through μ) forgotten."""

    def backward(self, gy):
        x_hat, inv_std, weight = self.saved
        axes = (0,) + tuple(range(2, x_hat.ndim))                    # every axis but the channels
        per_channel = (1, x_hat.shape[1]) + (1,) * (x_hat.ndim - 2)
        gx, _, _, gw, gb = super().backward(gy)
        m = x_hat.size // x_hat.shape[1]
        g_xhat = gy * weight.reshape(per_channel)
        return gx + inv_std.reshape(per_channel) / m * g_xhat.sum(axis=axes, keepdims=True), None, None, gw, gb


class BatchNormEvalWithBatchFormula(BatchNorm2dFunction):
    """Planted bug: eval mode back-propagated as if μ and σ came from the batch."""

    def backward(self, gy):
        self.training = True
        return super().backward(gy)


class BatchNormWeightGradWithoutXhat(BatchNorm2dFunction):
    """Planted bug: gγ = Σ gy, as if γ were a bias (x̂ forgotten)."""

    def backward(self, gy):
        gx, _, _, gw, gb = super().backward(gy)
        return gx, None, None, gb.copy(), gb


def bn_inputs(shape, seed=10):
    """Inputs drawn from another seed than gradcheck's upstream gradient (seed 0): with gy = x, the
    true training-mode gx is exactly 0 (m·gx̂ − Σgx̂ − x̂·Σgx̂x̂ vanishes), and the check could not
    tell a right backward from a wrong one."""
    rng = np.random.default_rng(seed)
    return {"x": Tensor(rng.standard_normal(shape), requires_grad=True),
            "weight": Tensor(rng.standard_normal(shape[1]), requires_grad=True),
            "bias": Tensor(rng.standard_normal(shape[1]), requires_grad=True)}


@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("bad, training, wrong", [
    (BatchNormWithoutXhatTerm, True, "x"), (BatchNormWithoutMeanTerm, True, "x"),
    (BatchNormEvalWithBatchFormula, False, "x"), (BatchNormWeightGradWithoutXhat, True, "weight"),
    (BatchNormWeightGradWithoutXhat, False, "weight")])
def test_planted_wrong_backward_is_caught(shape, bad, training, wrong):
    c = shape[1]
    running = (np.zeros(c), np.ones(c))
    right = lambda x, w, b: BatchNorm2dFunction(training, 0.1, 1e-5)(x, *running, w, b)   # noqa: E731
    op = lambda x, w, b: bad(training, 0.1, 1e-5)(x, *running, w, b)        # noqa: E731
    assert minise.gradcheck(right, bn_inputs(shape), seed=0)
    with pytest.raises(minise.GradcheckError, match=f"input {wrong} "):
        minise.gradcheck(op, bn_inputs(shape), seed=0)


@pytest.mark.parametrize("shape", SHAPES)
def test_random_upstream_gradient_is_what_catches_the_missing_xhat_term(shape):
    """For gy = const the forgotten term is γ·const·x̂·Σx̂ = 0: an all-ones check cannot see it."""
    c = shape[1]
    running = (np.zeros(c), np.ones(c))
    op = lambda x, w, b: BatchNormWithoutXhatTerm(True, 0.1, 1e-5)(x, *running, w, b)   # noqa: E731
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", minise.GradcheckWarning)
        assert minise.gradcheck(lambda x, w, b: op(x, w, b).sum(), bn_inputs(shape), seed=0)   # all-ones passes
    with pytest.raises(minise.GradcheckError, match="input x"):
        minise.gradcheck(op, bn_inputs(shape), seed=0)                                          # random: caught


@pytest.mark.parametrize("shape", SHAPES)
def test_eval_mode_uses_and_keeps_the_running_statistics(shape):
    """Eval mode normalises with the running statistics, not the batch's, and leaves them as they were."""
    rng = np.random.default_rng(5)
    x = rng.standard_normal(shape) * 2 + 3
    running_mean, running_var = rng.standard_normal(3), rng.uniform(0.5, 2, 3)
    before = running_mean.copy(), running_var.copy()
    t = Tensor(x, requires_grad=True)
    y = batch_norm(t, running_mean, running_var, training=False)
    np.testing.assert_array_equal(running_mean, before[0])
    np.testing.assert_array_equal(running_var, before[1])
    np.testing.assert_allclose(y.data, reference_batch_norm(x, *before, np.ones(3), np.zeros(3)), rtol=1e-12)
    gy = rng.standard_normal(shape)
    y.backward(gy)
    per_channel = (1, 3) + (1,) * (len(shape) - 2)
    np.testing.assert_allclose(t.grad, gy / np.sqrt(before[1] + 1e-5).reshape(per_channel), rtol=1e-12)


# -- bad input -----------------------------------------------------------------------------------

def test_bad_input_is_refused():
    x = Tensor(np.ones((4, 3, 2, 2)))
    with pytest.raises(ValueError, match=r"running_mean .*\(4,\).*\(4, 3, 2, 2\).*3 channels"):
        batch_norm(x, np.zeros(4), np.ones(3))
    with pytest.raises(ValueError, match=r"weight .*\(2,\).*3 channels"):
        batch_norm(x, np.zeros(3), np.ones(3), weight=np.ones(2))
    with pytest.raises(ValueError, match=r"\(4,\)"):
        batch_norm(Tensor(np.ones(4)), np.zeros(4), np.ones(4))
    with pytest.raises(ValueError, match="eval mode"):
        batch_norm(x, None, None)
    with pytest.raises(ValueError, match=r"more than one value per channel.*\(1, 3\)"):
        batch_norm(Tensor(np.ones((1, 3))), np.zeros(3), np.ones(3), training=True)
    with pytest.raises(TypeError, match="list"):
        batch_norm(x, [0.0, 0.0, 0.0], np.ones(3))
    with pytest.raises(ValueError, match="momentum must be a number in"):
        batch_norm(x, np.zeros(3), np.ones(3), training=True, momentum=None)
    with pytest.raises(TypeError, match="running_mean must be floating point.*int64"):
        batch_norm(x, np.zeros(3, dtype=np.int64), np.ones(3), training=True)


def test_numpy_scalars_are_accepted_for_momentum():
    x = Tensor(np.random.default_rng(0).standard_normal((4, 3, 2, 2)))
    for momentum in (np.float32(0.25), 0.25):
        running_mean, running_var = np.zeros(3), np.ones(3)
        batch_norm(x, running_mean, running_var, training=True, momentum=momentum)
        np.testing.assert_allclose(running_mean, 0.25 * x.data.mean(axis=(0, 2, 3)), rtol=1e-6)


# -- device stand-in -----------------------------------------------------------------------------

@pytest.mark.parametrize("training", [True, False])
def test_runs_on_the_device_stand_in(device_backend, training):
    rng = np.random.default_rng(4)
    x, w, b, gy = rng.standard_normal((4, 3, 2, 2)), rng.standard_normal(3), rng.standard_normal(3), \
        rng.standard_normal((4, 3, 2, 2))
    running_host = [np.zeros(3), np.ones(3)]
    expected = [Tensor(a, requires_grad=True) for a in (x, w, b)]
    y_expected = batch_norm(expected[0], *running_host, *expected[1:], training=training)
    y_expected.backward(gy)

    running = [device_backend.asarray(r) for r in (np.zeros(3), np.ones(3))]
    tensors = [Tensor(device_backend.asarray(a), requires_grad=True) for a in (x, w, b)]
    y = batch_norm(tensors[0], *running, *tensors[1:], training=training)
    y.backward(device_backend.asarray(gy))
    assert y.device == device_backend.device
    np.testing.assert_array_equal(device_backend.to_numpy(y.data), y_expected.data)
    for t, e in zip(tensors, expected):
        np.testing.assert_array_equal(device_backend.to_numpy(t.grad), e.grad)
    for r, e in zip(running, running_host):
        np.testing.assert_array_equal(device_backend.to_numpy(r), e)
