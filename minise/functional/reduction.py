"""Reductions: sum, mean, max and min over dimensions (and, outside the graph, argmax, all, any).

A reduction removes dimensions; its backward puts them back and spreads the gradient along them:
every summed element receives gy, every averaged one gy / count, and for max (min) only the
elements that were the maximum (minimum) receive it, shared equally when several tie, as
torch.amax does.

The public names follow PyTorch: ``dim`` (an int, a tuple of ints, or None for all) and
``keepdim``. NumPy's ``axis`` and ``keepdims`` are accepted as aliases.
"""
import builtins
from typing import NamedTuple

from ..backend import get_array_module
from ..function import Function
from ..tensor import Tensor

# -- checks, apart from the math ---------------------------------------------------------------

def _dim_argument(dim, axis, keepdim, keepdims):
    """Merge the torch names with their NumPy aliases; refuse both given at once."""
    if axis is not None:
        if dim is not None:
            raise TypeError("give dim or its alias axis, not both")
        dim = axis
    if keepdims is not None:
        keepdim = keepdims
    return dim, bool(keepdim)


def normalize_dims(dim, ndim):
    """``dim`` (None, an int or a tuple of ints) as a sorted tuple of non-negative dimensions."""
    if dim is None:
        return tuple(range(ndim))
    dims = (dim,) if isinstance(dim, int) else tuple(dim)
    for d in dims:
        if isinstance(d, bool) or not isinstance(d, int) or not -ndim <= d < builtins.max(ndim, 1):
            raise ValueError(f"dim {d!r} is out of range for a tensor with {ndim} dimensions; expected an "
                             f"integer from {-builtins.max(ndim, 1)} to {builtins.max(ndim, 1) - 1}")
    normalized = tuple(sorted(d % builtins.max(ndim, 1) for d in dims))
    if len(set(normalized)) != len(normalized):
        raise ValueError(f"dim {dim} names a dimension twice (for a tensor with {ndim} dimensions); "
                         "give each dimension once")
    return normalized


def _tensor(x):
    return x if isinstance(x, Tensor) else Tensor(x)


def _expand(gy, dims, keepdim):
    """Put the reduced dimensions back as size-1 dimensions, so gy broadcasts against the input."""
    if not keepdim:
        gy = get_array_module(gy).expand_dims(gy, dims)
    return gy


# -- the ops ----------------------------------------------------------------------------------

class SumFunction(Function):
    """y = Σ over ``dims`` of x.

    Shapes   x (…) -> y (… without the summed dims, or with them as 1 if keepdim)
    Backward gx[i] = gy[i with the summed dims dropped]  (gy copied along the summed dims)
    """

    def __init__(self, dims, keepdim=False):
        self.dims, self.keepdim = dims, keepdim

    def forward(self, x):
        self.save_for_backward(shape=x.shape)
        return x.sum(axis=self.dims, keepdims=self.keepdim)

    def backward(self, gy):
        gy = _expand(gy, self.dims, self.keepdim)
        return (get_array_module(gy).broadcast_to(gy, self.saved.shape),)


class MeanFunction(SumFunction):
    """y = (1/n) Σ over ``dims`` of x, n the number of averaged elements.   Backward: gx = gy / n."""

    def forward(self, x):
        return super().forward(x) / _count(x.shape, self.dims)

    def backward(self, gy):
        n = _count(self.saved.shape, self.dims)
        return super().backward(gy / n)              # divide the small gy, then broadcast (a view)


def _count(shape, dims):
    """How many elements one output of a reduction over ``dims`` of ``shape`` gathers."""
    n = 1
    for d in dims:
        n *= shape[d]
    return n


class MaxFunction(Function):
    """y = max over ``dims`` of x (MinFunction: min).

    Backward gx = gy · [x = y] / (number of elements equal to y): the winners share gy.
    """

    pick = "max"

    def __init__(self, dims, keepdim=False):
        self.dims, self.keepdim = dims, keepdim

    def forward(self, x):
        y = getattr(x, self.pick)(axis=self.dims, keepdims=True)        # (…) with the dims as 1
        self.save_for_backward(x=x, y=y)
        return y if self.keepdim else y.squeeze(self.dims)

    def backward(self, gy):
        x, y = self.saved
        winners = (x == y).astype(x.dtype)                               # (…) like x
        share = winners / winners.sum(axis=self.dims, keepdims=True)
        return (share * _expand(gy, self.dims, self.keepdim),)


class MinFunction(MaxFunction):
    __doc__ = MaxFunction.__doc__
    pick = "min"


# -- the public functions ---------------------------------------------------------------------

def sum(x, dim=None, keepdim=False, *, axis=None, keepdims=None):
    """Σ of x over ``dim`` (all dimensions if None)."""
    x, (dim, keepdim) = _tensor(x), _dim_argument(dim, axis, keepdim, keepdims)
    return SumFunction(normalize_dims(dim, x.ndim), keepdim)(x)


def mean(x, dim=None, keepdim=False, *, axis=None, keepdims=None):
    """The average of x over ``dim`` (all dimensions if None)."""
    x, (dim, keepdim) = _tensor(x), _dim_argument(dim, axis, keepdim, keepdims)
    return MeanFunction(normalize_dims(dim, x.ndim), keepdim)(x)


def amax(x, dim=None, keepdim=False, *, axis=None, keepdims=None):
    """The largest values of x over ``dim`` (all dimensions if None): torch.amax, numpy.max."""
    x, (dim, keepdim) = _tensor(x), _dim_argument(dim, axis, keepdim, keepdims)
    return MaxFunction(normalize_dims(dim, x.ndim), keepdim)(x)


def amin(x, dim=None, keepdim=False, *, axis=None, keepdims=None):
    """The smallest values of x over ``dim`` (all dimensions if None): torch.amin, numpy.min."""
    x, (dim, keepdim) = _tensor(x), _dim_argument(dim, axis, keepdim, keepdims)
    return MinFunction(normalize_dims(dim, x.ndim), keepdim)(x)


class ValuesIndices(NamedTuple):
    """What ``max(x, dim)`` and ``min(x, dim)`` return for one ``dim``, as in PyTorch."""
    values: Tensor
    indices: Tensor


def max(x, dim=None, keepdim=False, *, axis=None, keepdims=None):
    """The largest values of x.

    Two habits give two answers, each as its own library does:

    * ``max(x)`` or NumPy's ``max(x, axis=...)``: the values (a Tensor), like ``amax``;
    * PyTorch's ``max(x, dim)`` for one int ``dim``: ``(values, indices)``, indices outside the graph.
    """
    return _extreme(x, dim, keepdim, axis, keepdims, amax, "argmax")


def min(x, dim=None, keepdim=False, *, axis=None, keepdims=None):
    """The smallest values of x: ``min(x)`` or ``min(x, axis=...)`` -> values; ``min(x, dim)`` ->
    ``(values, indices)``, as :func:`max`."""
    return _extreme(x, dim, keepdim, axis, keepdims, amin, "argmin")


def _extreme(x, dim, keepdim, axis, keepdims, values, arg):
    if dim is None:
        return values(x, axis=axis, keepdim=keepdim, keepdims=keepdims)
    if axis is not None or not isinstance(dim, int) or isinstance(dim, bool):
        raise TypeError(f"{arg[3:]}(x, dim) takes one integer dim, got {dim!r}; for several dimensions "
                        f"use a{arg[3:]}(x, dim) (values only)")
    return ValuesIndices(values(x, dim, keepdim, keepdims=keepdims),
                         _arg_extreme(x, dim, keepdim if keepdims is None else keepdims, arg))


def argmax(x, dim=None, keepdim=False, *, axis=None, keepdims=None):
    """Indices of the largest values along ``dim`` (of the flattened tensor if None): an int64
    Tensor outside the graph."""
    dim, keepdim = _dim_argument(dim, axis, keepdim, keepdims)
    return _arg_extreme(x, dim, keepdim, "argmax")


def argmin(x, dim=None, keepdim=False, *, axis=None, keepdims=None):
    """Indices of the smallest values along ``dim``, as :func:`argmax`."""
    dim, keepdim = _dim_argument(dim, axis, keepdim, keepdims)
    return _arg_extreme(x, dim, keepdim, "argmin")


def _arg_extreme(x, dim, keepdim, arg):
    x = _tensor(x)
    if dim is not None:
        dim = normalize_dims(dim, x.ndim)
        if len(dim) != 1:
            raise ValueError(f"{arg} takes one dim (an int) or None, got {dim}")
        dim = dim[0]
    xp = get_array_module(x.data)
    indices = getattr(xp, arg)(x.data, axis=dim, keepdims=keepdim)
    return Tensor._from_op(xp.asarray(indices, dtype="int64"), False)


def all(x, dim=None, keepdim=False):
    """True where every element along ``dim`` is non-zero (a bool Tensor outside the graph)."""
    return _logical(x, dim, keepdim, "all")


def any(x, dim=None, keepdim=False):
    """True where some element along ``dim`` is non-zero (a bool Tensor outside the graph)."""
    return _logical(x, dim, keepdim, "any")


def _logical(x, dim, keepdim, how):
    x = _tensor(x)
    dims = normalize_dims(dim, x.ndim)
    xp = get_array_module(x.data)
    return Tensor._from_op(xp.asarray(getattr(xp, how)(x.data, axis=dims, keepdims=keepdim)), False)


# The names these ops had before the ``…Function`` convention; no nn Module uses them.
Sum, Mean, Max = SumFunction, MeanFunction, MaxFunction
