"""cross_entropy and nll_loss: references, PyTorch, finite differences, bad labels, stability."""
import math
import warnings

import numpy as np
import pytest
from accuracy import assert_close_to_torch
from hypothesis import given
from hypothesis import strategies as hst

import minise
from minise import Tensor
from minise.functional.loss import CrossEntropyFunction, NLLLossFunction, cross_entropy, nll_loss
from minise.testing import strategies as st

# a gradient check that warns (a kink, a gradient that is zero everywhere) is an error here
pytestmark = pytest.mark.filterwarnings("error::minise.gradcheck.GradcheckWarning")

REDUCTIONS = ["mean", "sum", "none"]


def reference_cross_entropy(logits, target, label_smoothing=0.0):
    """Per-sample loss: −Σ_c q_c log p_c with p = softmax(row), q = (1 − ε)·onehot + ε/C."""
    losses = []
    for row, t in zip(logits, target):
        total = sum(math.exp(v) for v in row)
        log_p = [math.log(math.exp(v) / total) for v in row]
        q = [(1 - label_smoothing) * (c == t) + label_smoothing / len(row) for c in range(len(row))]
        losses.append(-sum(qc * lp for qc, lp in zip(q, log_p)))
    return np.array(losses)


def reduce(losses, reduction):
    return {"mean": losses.mean(), "sum": losses.sum(), "none": losses}[reduction]


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("label_smoothing", [0.0, 0.1, 1.0])
def test_forward_matches_the_definition(reduction, label_smoothing):
    rng = np.random.default_rng(0)
    x, t = rng.standard_normal((5, 4)), rng.integers(0, 4, 5)
    loss = cross_entropy(Tensor(x), t, reduction=reduction, label_smoothing=label_smoothing)
    np.testing.assert_allclose(loss.data, reduce(reference_cross_entropy(x, t, label_smoothing), reduction),
                               rtol=1e-12)
    log_p = np.log(np.exp(x) / np.exp(x).sum(axis=1, keepdims=True))
    np.testing.assert_allclose(nll_loss(Tensor(log_p), Tensor(t), reduction=reduction).data,
                               reduce(-log_p[np.arange(5), t], reduction), rtol=1e-12)


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("name, label_smoothing", [("cross_entropy", 0.0), ("cross_entropy", 0.25),
                                                    ("nll_loss", 0.0)])
def test_forward_and_gradient_match_torch(reduction, label_smoothing, name):
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(1)
    x, t = rng.standard_normal((6, 5)) * 3, rng.integers(0, 5, 6)
    xt, x_torch = Tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    if name == "cross_entropy":
        loss = cross_entropy(xt, t, reduction=reduction, label_smoothing=label_smoothing)
        loss_torch = torch.nn.functional.cross_entropy(x_torch, torch.tensor(t), reduction=reduction,
                                                       label_smoothing=label_smoothing)
    else:
        loss = nll_loss(xt, t, reduction=reduction)
        loss_torch = torch.nn.functional.nll_loss(x_torch, torch.tensor(t), reduction=reduction)
    gy = rng.standard_normal(loss.shape)
    loss.backward(gy)
    loss_torch.backward(torch.tensor(gy))
    assert_close_to_torch(loss.data, loss_torch)
    assert_close_to_torch(xt.grad, x_torch.grad)


@pytest.mark.parametrize("name", ["cross_entropy", "nll_loss"])
@given(n=hst.integers(1, 5), classes=hst.integers(2, 5), reduction=hst.sampled_from(REDUCTIONS),
       label_smoothing=hst.sampled_from([0.0, 0.1, 0.5, 1.0]), seed=st.seeds())
def test_backward_matches_finite_differences(name, n, classes, reduction, label_smoothing, seed):
    x = Tensor(st.make_array((n, classes), seed, low=-4, high=4), requires_grad=True)
    t = np.random.default_rng(seed).integers(0, classes, n)
    if name == "cross_entropy":
        op = lambda x: cross_entropy(x, t, reduction=reduction, label_smoothing=label_smoothing)   # noqa: E731
    else:
        op = lambda x: nll_loss(x, t, reduction=reduction)                                         # noqa: E731
    assert minise.gradcheck(op, [x], seed=seed)


class CrossEntropyWithoutOneOverN(CrossEntropyFunction):
    """Planted bug: the mean's 1/N forgotten in backward (gx = (p − q)·gy)."""

    def backward(self, gy):
        N = self.saved.log_p.shape[0]
        gx, _ = super().backward(gy)
        return gx * N, None


class CrossEntropyWithoutSmoothing(CrossEntropyFunction):
    """Planted bug: backward uses the plain one-hot target even when label smoothing is on."""

    def backward(self, gy):
        log_p, target = self.saved
        onehot = (np.arange(log_p.shape[1]) == target[:, None]).astype(log_p.dtype)
        return (np.exp(log_p) - onehot) * gy / log_p.shape[0], None


@pytest.mark.parametrize("bad", [CrossEntropyWithoutOneOverN, CrossEntropyWithoutSmoothing])
def test_planted_wrong_backward_is_caught(bad):
    rng = np.random.default_rng(2)
    x, t = Tensor(rng.standard_normal((4, 3)), requires_grad=True), Tensor(rng.integers(0, 3, 4))
    assert minise.gradcheck(lambda x: CrossEntropyFunction("mean", 0.2)(x, t), [x], seed=0)
    with pytest.raises(minise.GradcheckError):
        minise.gradcheck(lambda x: bad("mean", 0.2)(x, t), [x], seed=0)


class NLLLossWithoutSign(NLLLossFunction):
    """Planted bug: gx = +onehot·gy/N, the minus sign of −x[n, t[n]] forgotten."""

    def backward(self, gy):
        (gx, _) = super().backward(gy)
        return -gx, None


class NLLLossEveryClass(NLLLossFunction):
    """Planted bug: the gradient spread over every class, not only the target's."""

    def backward(self, gy):
        (gx, _) = super().backward(gy)
        return gx.sum(axis=1, keepdims=True) + 0 * gx, None


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("bad", [NLLLossWithoutSign, NLLLossEveryClass])
def test_planted_wrong_nll_backward_is_caught(bad, reduction):
    rng = np.random.default_rng(4)
    x, t = Tensor(rng.standard_normal((4, 3)), requires_grad=True), Tensor(rng.integers(0, 3, 4))
    assert minise.gradcheck(lambda x: NLLLossFunction(reduction)(x, t), [x], seed=0)
    with pytest.raises(minise.GradcheckError):
        minise.gradcheck(lambda x: bad(reduction)(x, t), [x], seed=0)


# -- bad input -----------------------------------------------------------------------------------

@pytest.mark.parametrize("target, error, message", [
    (np.array([0, 3, 1]), ValueError, r"outside \[0, 3\).*\(3, 3\)"),
    (np.array([0, -1, 1]), ValueError, r"outside \[0, 3\)"),
    (np.array([0.0, 1.0, 2.0]), TypeError, r"integer .*float64"),
    ([0, 1, 2], TypeError, "list"),
    (np.array([0, 1]), ValueError, r"\(2,\).*\(3, 3\).*\(3,\)"),
    (np.array([[0], [1], [2]]), ValueError, r"\(3, 1\).*\(3, 3\)"),
])
def test_bad_labels_are_refused(target, error, message):
    for op in (cross_entropy, nll_loss):
        with pytest.raises(error, match=message):
            op(Tensor(np.zeros((3, 3))), target)


def test_bad_arguments_are_refused():
    x, t = Tensor(np.zeros((3, 4))), np.array([0, 1, 2])
    for smoothing in (-0.1, 1.5):
        with pytest.raises(ValueError, match=r"label_smoothing .*\[0, 1\]"):
            cross_entropy(x, t, label_smoothing=smoothing)
    with pytest.raises(ValueError, match="unknown reduction 'avg'"):
        cross_entropy(x, t, reduction="avg")
    with pytest.raises(ValueError, match=r"2-D .*\(3, 4, 1\)"):
        cross_entropy(Tensor(np.zeros((3, 4, 1))), t)
    with pytest.raises(TypeError, match="floating-point"):
        cross_entropy(Tensor(np.zeros((3, 4), dtype=np.int64)), t)


# -- device stand-in -----------------------------------------------------------------------------

@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("name", ["cross_entropy", "nll_loss"])
def test_runs_on_the_device_stand_in(device_backend, reduction, name):
    op = {"cross_entropy": lambda x, t: cross_entropy(x, t, reduction=reduction, label_smoothing=0.1),
          "nll_loss": lambda x, t: nll_loss(x, t, reduction=reduction)}[name]
    rng = np.random.default_rng(3)
    x, t = rng.standard_normal((4, 5)), rng.integers(0, 5, 4)
    gy = rng.standard_normal(4) if reduction == "none" else np.array(rng.standard_normal())
    expected = Tensor(x, requires_grad=True)
    loss_expected = op(expected, t)
    loss_expected.backward(gy)
    xt = Tensor(device_backend.asarray(x), requires_grad=True)
    loss = op(xt, Tensor(device_backend.asarray(t)))
    loss.backward(device_backend.asarray(gy))
    assert loss.device == device_backend.device
    np.testing.assert_array_equal(device_backend.to_numpy(loss.data), loss_expected.data)
    np.testing.assert_array_equal(device_backend.to_numpy(xt.grad), expected.grad)


# -- stability -----------------------------------------------------------------------------------

@pytest.mark.parametrize("big", [100.0, 1000.0])
@pytest.mark.parametrize("label_smoothing", [0.0, 0.1])
def test_finite_and_silent_for_large_logits_in_float32(big, label_smoothing):
    """Logits ±big, float32: finite loss and gradient, no warning (underflow to 0 is the right answer)."""
    x = Tensor(np.array([[big, -big, 0.0], [-big, big, -big]], dtype=np.float32), requires_grad=True)
    t = np.array([1, 1])
    with warnings.catch_warnings(), np.errstate(over="raise", divide="raise", invalid="raise", under="ignore"):
        warnings.simplefilter("error")
        loss = cross_entropy(x, t, reduction="none", label_smoothing=label_smoothing)
        loss.backward(np.ones(2, dtype=np.float32))
    assert loss.dtype == np.float32 and np.all(np.isfinite(loss.data)) and np.all(np.isfinite(x.grad))
    if label_smoothing == 0.0:
        np.testing.assert_allclose(loss.data, [2 * big, 0.0], atol=1e-6 * big)     # −log p of the true class
        np.testing.assert_allclose(x.grad, [[1, -1, 0], [0, 0, 0]], atol=1e-6)       # softmax − onehot


@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_a_ruled_out_class_gives_a_finite_loss_and_gradient_like_torch(reduction):
    """A logit of −∞ that is not the target: log p = −∞ there, but q = 0 there too, so it adds
    nothing (PyTorch: a finite loss, 0.474 for the rows below); its gradient is 0."""
    torch = pytest.importorskip("torch")
    logits = np.array([[1.0, -np.inf, 0.5], [-np.inf, 2.0, 0.0]])
    target = np.array([0, 2])
    x = Tensor(logits, requires_grad=True)
    loss = cross_entropy(x, target, reduction=reduction)
    gy = np.random.default_rng(3).standard_normal(loss.shape)
    loss.backward(gy)
    tx = torch.tensor(logits, requires_grad=True)
    tloss = torch.nn.functional.cross_entropy(tx, torch.tensor(target), reduction=reduction)
    tloss.backward(torch.tensor(gy))
    assert np.isfinite(loss.data).all() and np.isfinite(x.grad).all()
    np.testing.assert_allclose(loss.data, tloss.detach().numpy(), rtol=1e-12)
    np.testing.assert_allclose(x.grad, tx.grad.numpy(), rtol=1e-12, atol=1e-15)
    assert x.grad[0, 1] == 0 and x.grad[1, 0] == 0
    one_row = cross_entropy(Tensor(np.array([[0.0, -np.inf, 0.5]])), np.array([2]))
    np.testing.assert_allclose(one_row.data, np.log1p(np.exp(-0.5)), rtol=1e-12)     # 0.474, the finite answer

