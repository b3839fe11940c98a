"""Dropout: during training, zero each element with probability p and scale the rest by 1/(1 − p).

Inverted dropout (Srivastava et al., 2014, with the scaling moved to training time as PyTorch
does): the expected value of every element is unchanged, so evaluation uses the input as it is.
The random mask is drawn by :func:`dropout` from minise's generator (``minise.manual_seed``
repeats it) and handed to the op as a second, constant input, so forward and backward are plain
math on arrays and a test can fix the mask.
"""
from __future__ import annotations

import numbers

from .. import rng
from ..backend import get_array_module
from ..function import Function
from ..tensor import Tensor


class DropoutFunction(Function):
    """y = x · m, where m holds 0 (dropped) or 1/(1 − p) (kept) per element.

    Shapes   x (…), m (…) -> y (…)
    Forward  y[i] = x[i] · m[i]
    Backward gx[i] = gy[i] · m[i]       (dropped elements get no gradient; kept ones are scaled)
             the mask is a constant: no gradient
    """

    def forward(self, x, mask):
        self.save_for_backward(mask=mask)
        return x * mask

    def backward(self, gy):
        return gy * self.saved.mask, None


def dropout_mask(shape, p, like):
    """A mask of ``shape`` for dropout with probability ``p``, on ``like``'s device and dtype:
    0 where dropped, 1/(1 − p) where kept."""
    keep = rng.generator().random(shape) >= p                               # drawn on the host
    scale = 0.0 if p == 1 else 1.0 / (1.0 - p)
    xp = get_array_module(like)
    return xp.asarray((keep * scale).astype(like.dtype))


def dropout(input: Tensor, p: float = 0.5, training: bool = True, inplace: bool = False) -> Tensor:
    """Zero each element of x = ``input`` with probability ``p`` and scale the others by 1/(1 − p),
    when ``training``; x itself otherwise (as torch.nn.functional.dropout). ``inplace`` is accepted
    for PyTorch code and changes nothing: minise's ops never overwrite their input (autograd keeps
    x), so use the returned tensor, as ``x = F.dropout(x, inplace=True)`` does anyway."""
    x = input
    if isinstance(p, bool) or not isinstance(p, numbers.Real) or not 0.0 <= p <= 1.0:
        raise ValueError(f"dropout probability p must be a number in [0, 1], got {p!r}")
    x = x if isinstance(x, Tensor) else Tensor(x)
    if not training or p == 0:
        return x
    if x.dtype.kind != "f":
        raise TypeError(f"dropout needs a floating-point tensor, got dtype {x.dtype}")
    mask = dropout_mask(x.shape, float(p), x.data)
    return DropoutFunction()(x, Tensor._from_op(mask, False))


