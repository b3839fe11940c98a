"""Reductions: sum, mean and max over axes.

A reduction removes axes; its backward puts them back and spreads the gradient along them:
every summed element receives gy, every averaged one gy / count, and for max only the elements
that were the maximum receive it (shared equally when several tie, as torch.amax does).
"""
import builtins

from ..backend import get_array_module
from ..function import Function


def _normalize_axes(axis, ndim):
    if axis is None:
        return tuple(range(ndim))
    axes = (axis,) if isinstance(axis, int) else tuple(axis)
    for a in axes:
        if not -ndim <= a < builtins.max(ndim, 1):
            raise ValueError(f"axis {a} is out of range for a tensor with {ndim} dimensions")
    normalized = tuple(sorted(a % builtins.max(ndim, 1) for a in axes))
    if len(set(normalized)) != len(normalized):
        raise ValueError(f"axis {axis} names an axis twice (for a tensor with {ndim} dimensions); "
                         "give each axis once")
    return normalized


def _expand(gy, axes, keepdims, shape):
    """Put the reduced axes back as size-1 axes, so gy broadcasts against the input."""
    if not keepdims:
        for a in axes:
            gy = get_array_module(gy).expand_dims(gy, a)
    return gy


class Sum(Function):
    """y = Σ over ``axis`` of x.

    Shapes   x (…) -> y (… without the summed axes, or with them as 1 if keepdims)
    Backward gx[i] = gy[i with the summed axes dropped]  (gy copied along the summed axes)
    """

    def __init__(self, axis=None, keepdims=False):
        self.axis, self.keepdims = axis, keepdims

    def forward(self, x):
        self.axes = _normalize_axes(self.axis, x.ndim)
        self.saved = x.shape
        return x.sum(axis=self.axes, keepdims=self.keepdims)

    def backward(self, gy):
        shape = self.saved
        gy = _expand(gy, self.axes, self.keepdims, shape)
        return (get_array_module(gy).broadcast_to(gy, shape),)


class Mean(Sum):
    """y = (1/n) Σ over ``axis`` of x, n the number of averaged elements.   Backward: gx = gy / n."""

    def forward(self, x):
        y = super().forward(x)
        self.count = 1
        for a in self.axes:
            self.count *= x.shape[a]
        return y / self.count

    def backward(self, gy):
        return super().backward(gy / self.count)     # divide the small gy, then broadcast (a view)


class Max(Function):
    """y = max over ``axis`` of x.

    Backward gx = gy · [x = y] / (number of elements equal to the max): the winners share gy.
    """

    def __init__(self, axis=None, keepdims=False):
        self.axis, self.keepdims = axis, keepdims

    def forward(self, x):
        self.axes = _normalize_axes(self.axis, x.ndim)
        y = x.max(axis=self.axes, keepdims=True)
        self.saved = (x, y)
        return y if self.keepdims else y.reshape([n for i, n in enumerate(x.shape) if i not in self.axes])

    def backward(self, gy):
        x, y = self.saved
        winners = (x == y).astype(x.dtype)                               # (…) like x
        share = winners / winners.sum(axis=self.axes, keepdims=True)
        return (share * _expand(gy, self.axes, self.keepdims, x.shape),)


def sum(x, axis=None, keepdims=False):
    return Sum(axis, keepdims)(x)


def mean(x, axis=None, keepdims=False):
    return Mean(axis, keepdims)(x)


def max(x, axis=None, keepdims=False):
    return Max(axis, keepdims)(x)
