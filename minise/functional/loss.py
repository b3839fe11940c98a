"""Classification losses: cross-entropy on logits, and the negative log-likelihood it is made of.

cross_entropy(logits, t) = nll_loss(log_softmax(logits), t). Here it is one fused op: the
log-softmax is computed with the row maximum subtracted (stable for any logits), and the
backward collapses to the famous (softmax − target distribution), with no log or division.
"""
from __future__ import annotations

from typing import Any

from ..arguments import check_ndim
from ..backend import get_array_module
from ..function import Function
from ..tensor import Tensor

REDUCTIONS = ("mean", "sum", "none")


def _reduce_backward(gy, reduction, n):
    """The upstream gradient for each sample, shaped (N, 1) to broadcast over the classes."""
    if reduction == "none":
        return gy[:, None]                                      # (N, 1)
    if reduction == "mean":
        return gy / n                                           # () : each sample weighs 1/N
    return gy


def _reduce(losses, reduction):
    if reduction == "mean":
        return losses.mean()
    if reduction == "sum":
        return losses.sum()
    return losses


class CrossEntropyFunction(Function):
    """Cross-entropy of logits against integer class labels, with optional label smoothing.

    Shapes   logits x (N, C), target t (N,) integers in [0, C) -> loss () or (N,) for "none"
    Target   q[n, c] = (1 − ε)·[c = t[n]] + ε/C       (ε = label_smoothing; ε = 0: one-hot)
    Forward  log p[n, c] = x[n, c] − m[n] − log Σ_k e^(x[n, k] − m[n]),   m[n] = max_k x[n, k]
             loss[n] = −Σ_c q[n, c] · log p[n, c]
                     = −(1 − ε) · log p[n, t[n]] − (ε/C) · Σ_c log p[n, c]
             reduced: mean over n (÷ N), sum, or none
    Backward ∂loss[n]/∂x[n, c] = p[n, c] − q[n, c]   (Σ_c q = 1 makes the normaliser's term p)
             gx[n, c] = (p[n, c] − q[n, c]) · gy / N  for "mean",  · gy for "sum",
                        · gy[n] for "none"
    A logit of −∞ (a class ruled out) has log p = −∞ and p = 0: it adds nothing to the loss as
    long as q is 0 there (the second form above never multiplies 0 by −∞), and its gradient is 0.
    """

    def __init__(self, reduction, label_smoothing):
        self.reduction, self.label_smoothing = reduction, label_smoothing

    def forward(self, x, target):
        xp, (N, C), eps = get_array_module(x, target), x.shape, self.label_smoothing
        shifted = x - x.max(axis=1, keepdims=True)              # (N, C), all ≤ 0
        log_p = shifted - xp.log(xp.exp(shifted).sum(axis=1, keepdims=True))   # (N, C)
        losses = -(1 - eps) * log_p[xp.arange(N), target]       # (N,)  the target's term
        if eps:
            losses = losses - (eps / C) * log_p.sum(axis=1)     # (N,)  the smoothing's terms
        self.save_for_backward(log_p=log_p, target=target)
        return _reduce(losses, self.reduction)

    def backward(self, gy):
        log_p, target = self.saved
        xp, (N, C), eps = get_array_module(log_p), log_p.shape, self.label_smoothing
        onehot = (xp.arange(C)[None, :] == target[:, None]).astype(log_p.dtype)  # (N, C)
        q = (1 - eps) * onehot + eps / C                        # (N, C), rows sum to 1
        return (xp.exp(log_p) - q) * _reduce_backward(gy, self.reduction, N), None     # (N, C)


class NLLLossFunction(Function):
    """Negative log-likelihood: pick each sample's log-probability of its true class.

    Shapes   log-probabilities x (N, C), target t (N,) -> loss () or (N,) for "none"
    Forward  loss[n] = −x[n, t[n]],  then reduced (mean ÷ N, sum, or none)
    Backward gx[n, c] = −[c = t[n]] · gy / N for "mean" (· gy for "sum", · gy[n] for "none")
    """

    def __init__(self, reduction):
        self.reduction = reduction

    def forward(self, x, target):
        xp = get_array_module(x, target)
        onehot = (xp.arange(x.shape[1])[None, :] == target[:, None]).astype(x.dtype)   # (N, C)
        self.save_for_backward(onehot=onehot)
        return _reduce(-(x * onehot).sum(axis=1), self.reduction)

    def backward(self, gy):
        onehot = self.saved.onehot
        return -onehot * _reduce_backward(gy, self.reduction, onehot.shape[0]), None


def _check(name, input, target, reduction):
    """Every way a loss's inputs can be wrong, each named with the shapes involved."""
    input = input if isinstance(input, Tensor) else Tensor(input)
    if not isinstance(target, Tensor):
        if not hasattr(target, "dtype"):
            raise TypeError(f"{name}: target must be an integer array or Tensor of class indices, "
                            f"got {type(target).__name__}")
        target = Tensor(target)
    check_ndim(input, "(N, C)", "input", name)
    if input.dtype.kind != "f":
        raise TypeError(f"{name}: input must be floating-point, got dtype {input.dtype}")
    if target.dtype.kind not in "iu":
        raise TypeError(f"{name}: target must hold integer class indices, got dtype {target.dtype} "
                        f"(shape {target.shape}); convert labels with .astype('int64')")
    if target.shape != input.shape[:1]:
        raise ValueError(f"{name}: target of shape {target.shape} does not match input of shape {input.shape}; "
                         f"expected ({input.shape[0]},), one class index per row")
    if reduction not in REDUCTIONS:
        raise ValueError(f"{name}: unknown reduction {reduction!r}; expected one of {', '.join(REDUCTIONS)}")
    if input.shape[0] == 0:
        raise ValueError(f"{name}: empty batch, input of shape {input.shape}")
    classes = input.shape[1]
    out_of_range = (target.data < 0) | (target.data >= classes)
    if bool(out_of_range.any()):                                # one explicit sync on a GPU
        raise ValueError(f"{name}: target holds class indices outside [0, {classes}) for input of shape "
                         f"{input.shape} with {classes} classes")
    return input, target


def cross_entropy(input: Tensor, target: Any, *, reduction: str = "mean", label_smoothing: float = 0.0) -> Tensor:
    """Cross-entropy of logits (N, C) against class indices (N,), like torch.nn.functional.cross_entropy."""
    if not 0.0 <= label_smoothing <= 1.0:
        raise ValueError(f"cross_entropy: label_smoothing must be in [0, 1], got {label_smoothing}")
    input, target = _check("cross_entropy", input, target, reduction)
    return CrossEntropyFunction(reduction, float(label_smoothing))(input, target)


def nll_loss(input: Tensor, target: Any, *, reduction: str = "mean") -> Tensor:
    """Negative log-likelihood of log-probabilities (N, C) at class indices (N,), like torch's nll_loss."""
    input, target = _check("nll_loss", input, target, reduction)
    return NLLLossFunction(reduction)(input, target)


CrossEntropy, NLLLoss = CrossEntropyFunction, NLLLossFunction    # the earlier names of the op classes
