"""Dropout as a layer: active in training mode, the identity in evaluation mode (``model.eval()``)."""
import numbers

from ..functional.dropout import dropout
from .module import Module


class Dropout(Module):
    """``Dropout(p=0.5)``: in training, zero each element with probability p and scale the others
    by 1/(1 − p) (see :func:`minise.functional.dropout`); after ``eval()``, return the input as is.
    ``inplace`` is accepted for PyTorch code and changes nothing (minise's ops never overwrite their
    input), as for ReLU.

    Shapes   x (…) -> y (…)
    """

    def __init__(self, p=0.5, inplace=False):
        super().__init__()
        if isinstance(p, bool) or not isinstance(p, numbers.Real) or not 0.0 <= p <= 1.0:
            raise ValueError(f"Dropout: p must be a probability in [0, 1], got {p!r}")
        self.p = float(p)
        self.inplace = bool(inplace)

    def forward(self, x):
        return dropout(x, self.p, self.training)

    def extra_repr(self):
        return f"p={self.p}" + (", inplace=True" if self.inplace else "")
