"""Plumbing: ops that move values around without changing them.

reshape, transpose, flatten and indexing only rearrange or select elements, so their backward
rearranges the gradient the other way: reshape back, transpose with the inverse permutation,
scatter into zeros at the selected places (adding where an index repeats).
"""
import numpy as np

from .. import backend
from ..backend import get_array_module
from ..function import Function
from ..tensor import Tensor


class Reshape(Function):
    """y = x viewed with another shape (same elements, same order).   Backward: gx = gy reshaped to x's shape."""

    def __init__(self, shape):
        self.shape = shape

    def forward(self, x):
        self.saved = x.shape
        return x.reshape(self.shape)

    def backward(self, gy):
        return (gy.reshape(self.saved),)


class Transpose(Function):
    """y = x with its axes permuted by ``axes``.   Backward: gx = gy permuted by the inverse permutation."""

    def __init__(self, axes=None):
        self.axes = axes

    def forward(self, x):
        self.perm = tuple(range(x.ndim))[::-1] if self.axes is None else tuple(a % x.ndim for a in self.axes)
        return x.transpose(self.perm)

    def backward(self, gy):
        return (gy.transpose(tuple(np.argsort(self.perm))),)


def _is_basic(index):
    """Basic indexing (ints, slices, None, ...) selects each element at most once."""
    parts = index if isinstance(index, tuple) else (index,)
    return all(p is None or p is Ellipsis or isinstance(p, (int, slice, np.integer)) for p in parts)


class GetItem(Function):
    """y = x[index].

    Backward gx = zeros like x, with gy written (or, for integer-array indices that may repeat an
    element, added) at the indexed places.
    """

    def __init__(self, index):
        self.index = index

    def forward(self, x):
        self.saved = (x.shape, x.dtype)
        return x[self.index]

    def backward(self, gy):
        shape, dtype = self.saved
        xp = get_array_module(gy)
        gx = xp.zeros(shape, dtype=dtype)
        if _is_basic(self.index) or _only_boolean(self.index):
            gx[self.index] = gy
        else:
            xp.add.at(gx, self.index, gy)
        return (gx,)


def _only_boolean(index):
    parts = index if isinstance(index, tuple) else (index,)
    arrays = [p for p in parts if hasattr(p, "dtype")]
    return bool(arrays) and all(p.dtype == bool for p in arrays) and len(arrays) == 1


class ToDevice(Function):
    """y = x copied to another device.   Backward: gx = gy copied back."""

    def __init__(self, device):
        self.device = device

    def forward(self, x):
        self.saved = backend.device_of(x)
        return backend.to_device(x, self.device)

    def backward(self, gy):
        return (backend.to_device(gy, self.saved),)


def reshape(x, *shape):
    if len(shape) == 1 and isinstance(shape[0], (tuple, list)):
        shape = tuple(shape[0])
    known = int(np.prod([n for n in shape if n != -1]))
    if shape.count(-1) > 1 or (shape.count(-1) == 0 and known != x.size) or \
            (shape.count(-1) == 1 and (known == 0 or x.size % known)):
        raise ValueError(f"cannot reshape a tensor of shape {x.shape} ({x.size} elements) into {tuple(shape)}")
    return Reshape(tuple(shape))(x)


def transpose(x, *axes):
    if len(axes) == 1 and isinstance(axes[0], (tuple, list)):
        axes = tuple(axes[0])
    if axes and sorted(a % max(x.ndim, 1) for a in axes) != list(range(x.ndim)):
        raise ValueError(f"transpose axes {axes} are not a permutation of the {x.ndim} axes of shape {x.shape}")
    return Transpose(axes or None)(x)


def flatten(x, start_dim=0, end_dim=-1):
    """Merge axes start_dim…end_dim into one: (N, C, H, W) -> (N, C·H·W) for start_dim=1."""
    if x.ndim == 0:
        return reshape(x, 1)
    for name, dim in (("start_dim", start_dim), ("end_dim", end_dim)):
        if not -x.ndim <= dim < x.ndim:
            raise ValueError(f"flatten: {name} {dim} is out of range for shape {x.shape}; expected "
                             f"{-x.ndim} ≤ {name} < {x.ndim}")
    start, end = start_dim % x.ndim, end_dim % x.ndim
    if start > end:
        raise ValueError(f"flatten: start_dim {start_dim} comes after end_dim {end_dim} for shape {x.shape}")
    merged = int(np.prod(x.shape[start:end + 1]))
    return reshape(x, *x.shape[:start], merged, *x.shape[end + 1:])


def getitem(x, index):
    return GetItem(_unwrap_index(index, get_array_module(x.data)))(x)


def _unwrap_index(index, xp):
    """Tensors and lists inside an index become arrays on x's device."""
    if isinstance(index, tuple):
        return tuple(_unwrap_index(i, xp) for i in index)
    if isinstance(index, Tensor):
        return index.data
    if isinstance(index, list):
        return xp.asarray(index)
    return index


def to_device(x, device):
    if device not in ("cpu", "cuda"):
        raise ValueError(f"unknown device {device!r}; expected 'cpu' or 'cuda'")
    if x.device == device:
        return x
    return ToDevice(device)(x)
