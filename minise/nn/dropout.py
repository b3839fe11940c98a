"""Dropout as a layer: active in training mode, the identity in evaluation mode (``model.eval()``)."""
import numbers

from ..functional.dropout import dropout
from .module import Module


class Dropout(Module):
    """``Dropout(p=0.5)``: in training, zero each element with probability p and scale the others
    by 1/(1 − p) (see :func:`minise.functional.dropout`); after ``eval()``, return the input as is.

    Shapes   x (…) -> y (…)
    """

    def __init__(self, p=0.5, inplace=False):
        super().__init__()
        if inplace:
            raise ValueError("Dropout: minise has no in-place ops; use inplace=False")
        if isinstance(p, bool) or not isinstance(p, numbers.Real) or not 0.0 <= p <= 1.0:
            raise ValueError(f"Dropout: p must be a probability in [0, 1], got {p!r}")
        self.p = float(p)

    def forward(self, x):
        return dropout(x, self.p, self.training)

    def extra_repr(self):
        return f"p={self.p}"
