"""Losses as layers, with PyTorch's names: ``criterion = nn.CrossEntropyLoss(); loss = criterion(logits, y)``.

Each holds its options and calls one functional op (:mod:`minise.functional.loss`), where the
math and its backward live.
"""
from ..functional.loss import REDUCTIONS, cross_entropy, nll_loss
from .module import Module


def _reduction(reduction, layer):
    if reduction not in REDUCTIONS:
        raise ValueError(f"{layer}: unknown reduction {reduction!r}; expected one of {', '.join(REDUCTIONS)}")
    return reduction


class CrossEntropyLoss(Module):
    """``CrossEntropyLoss(reduction="mean", label_smoothing=0.0)``: logits (N, C) and class
    indices (N,) -> the loss (a scalar for "mean" and "sum", (N,) for "none")."""

    def __init__(self, reduction="mean", label_smoothing=0.0):
        super().__init__()
        if not 0.0 <= label_smoothing <= 1.0:
            raise ValueError(f"CrossEntropyLoss: label_smoothing must be in [0, 1], got {label_smoothing!r}")
        self.reduction = _reduction(reduction, "CrossEntropyLoss")
        self.label_smoothing = float(label_smoothing)

    def forward(self, input, target):
        return cross_entropy(input, target, reduction=self.reduction, label_smoothing=self.label_smoothing)

    def extra_repr(self):
        return f"reduction={self.reduction!r}, label_smoothing={self.label_smoothing}"


class NLLLoss(Module):
    """``NLLLoss(reduction="mean")``: log-probabilities (N, C) and class indices (N,) -> the loss."""

    def __init__(self, reduction="mean"):
        super().__init__()
        self.reduction = _reduction(reduction, "NLLLoss")

    def forward(self, input, target):
        return nll_loss(input, target, reduction=self.reduction)

    def extra_repr(self):
        return f"reduction={self.reduction!r}"
