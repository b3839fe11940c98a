"""Joining tensors: cat (along an existing dimension) and stack (along a new one).

Each input lands in its own slice of the output, so its gradient is that slice of gy, cut back
out: the inverse of the join. Written like every op: forward and backward side by side.
"""
import itertools

import numpy as np

from ..backend import get_array_module
from ..function import Function
from ..tensor import Tensor


class CatFunction(Function):
    """y = x_0, x_1, … joined along ``dim``.

    Shapes   x_k (…, n_k, …) -> y (…, n_0 + n_1 + …, …)          (equal elsewhere)
    Forward  y[…, o_k + i, …] = x_k[…, i, …],   o_k = n_0 + … + n_(k−1)
    Backward gx_k = gy[…, o_k : o_k + n_k, …]                    (the slice that came from x_k)
    """

    def __init__(self, dim):
        self.dim = dim

    def forward(self, *xs):
        sizes = [x.shape[self.dim] for x in xs]
        self.save_for_backward(offsets=list(itertools.accumulate(sizes))[:-1])          # o_1, o_2, …
        return get_array_module(*xs).concatenate(xs, axis=self.dim)        # (…, Σ n_k, …)

    def backward(self, gy):
        return tuple(get_array_module(gy).split(gy, self.saved.offsets, axis=self.dim))


class StackFunction(Function):
    """y = x_0, x_1, … stacked along a new dimension ``dim``.

    Shapes   x_k (…) -> y (…, K, …)            K inputs of one shape; the new K at position dim
    Forward  y[…, k, …] = x_k[…]
    Backward gx_k = gy[…, k, …]
    """

    def __init__(self, dim):
        self.dim = dim

    def forward(self, *xs):
        return get_array_module(*xs).stack(xs, axis=self.dim)               # (…, K, …)

    def backward(self, gy):
        return tuple(gy[(slice(None),) * self.dim + (k,)] for k in range(gy.shape[self.dim]))


def _tensors(tensors, op):
    if isinstance(tensors, Tensor) or not isinstance(tensors, (list, tuple)) or not tensors:
        raise TypeError(f"{op} needs a non-empty list or tuple of Tensors, got {type(tensors).__name__}")
    tensors = [t if isinstance(t, Tensor) else Tensor(t) for t in tensors]
    if len({t.ndim for t in tensors}) > 1:
        raise ValueError(f"{op}: all tensors need the same number of dimensions, got shapes "
                         f"{[t.shape for t in tensors]}")
    return tensors


def _dim(dim, ndim, op):
    if isinstance(dim, bool) or not isinstance(dim, (int, np.integer)) or not -ndim <= dim < ndim:
        raise ValueError(f"{op}: dim {dim!r} is out of range; expected an integer from {-ndim} to {ndim - 1}")
    return int(dim) % ndim


def cat(tensors, dim=0):
    """Join ``tensors`` along dimension ``dim``; their shapes must agree in every other dimension."""
    tensors = _tensors(tensors, "cat")
    if tensors[0].ndim == 0:
        raise ValueError("cat: zero-dimensional tensors cannot be joined; use stack")
    dim = _dim(dim, tensors[0].ndim, "cat")
    rest = {t.shape[:dim] + t.shape[dim + 1:] for t in tensors}
    if len(rest) > 1:
        raise ValueError(f"cat: shapes {[t.shape for t in tensors]} differ outside dim {dim}")
    return CatFunction(dim)(*tensors)


def stack(tensors, dim=0):
    """Stack ``tensors`` (all of one shape) along a new dimension ``dim``."""
    tensors = _tensors(tensors, "stack")
    if len({t.shape for t in tensors}) > 1:
        raise ValueError(f"stack: all tensors need the same shape, got {[t.shape for t in tensors]}")
    return StackFunction(_dim(dim, tensors[0].ndim + 1, "stack"))(*tensors)
