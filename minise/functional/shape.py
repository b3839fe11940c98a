"""Plumbing: ops that move values around without changing them.

reshape (and view, flatten, squeeze, unsqueeze), transpose (and permute, swapaxes) and indexing
only rearrange or select elements, so their backward rearranges the gradient the other way:
reshape back, transpose with the inverse permutation, scatter into zeros at the selected places
(adding where an index repeats). clone copies, and its gradient passes through unchanged.
"""
import numpy as np

from .. import backend
from ..backend import get_array_module
from ..function import Function
from ..tensor import Tensor


class ReshapeFunction(Function):
    """y = x viewed with another shape (same elements, same order).   Backward: gx = gy reshaped to x's shape."""

    def __init__(self, shape):
        self.shape = shape

    def forward(self, x):
        self.save_for_backward(shape=x.shape)
        return x.reshape(self.shape)

    def backward(self, gy):
        return (gy.reshape(self.saved.shape),)


class TransposeFunction(Function):
    """y = x with its dimensions permuted: y.shape[i] = x.shape[perm[i]].
    Backward: gx = gy permuted by the inverse permutation."""

    def __init__(self, perm):
        self.perm = perm

    def forward(self, x):
        return x.transpose(self.perm)

    def backward(self, gy):
        return (gy.transpose(tuple(np.argsort(self.perm))),)


class CloneFunction(Function):
    """y = a copy of x, in new memory.   Backward: gx = gy."""

    def forward(self, x):
        return x.copy()

    def backward(self, gy):
        return (gy,)


def _is_basic(index):
    """Basic indexing (ints, slices, None, ...) selects each element at most once."""
    parts = index if isinstance(index, tuple) else (index,)
    return all(p is None or p is Ellipsis or isinstance(p, (int, slice, np.integer)) for p in parts)


class GetItemFunction(Function):
    """y = x[index].

    Backward gx = zeros like x, with gy written (or, for integer-array indices that may repeat an
    element, added) at the indexed places.
    """

    def __init__(self, index):
        self.index = index

    def forward(self, x):
        self.save_for_backward(shape=x.shape, dtype=x.dtype)
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


class ToDeviceFunction(Function):
    """y = x copied to another device.   Backward: gx = gy copied back."""

    def __init__(self, device):
        self.device = device

    def forward(self, x):
        self.save_for_backward(device=backend.device_of(x))
        return backend.to_device(x, self.device)

    def backward(self, gy):
        return (backend.to_device(gy, self.saved.device),)


def reshape(x, *shape):
    """x with another shape and the same elements in the same order; one entry may be −1 (inferred)."""
    x = _tensor(x)
    shape = _dims_argument(shape)
    known = int(np.prod([n for n in shape if n != -1]))
    if shape.count(-1) > 1 or (shape.count(-1) == 0 and known != x.size) or \
            (shape.count(-1) == 1 and (known == 0 or x.size % known)):
        raise ValueError(f"cannot reshape a tensor of shape {x.shape} ({x.size} elements) into {tuple(shape)}")
    return ReshapeFunction(tuple(shape))(x)


def transpose(x, *axes):
    """NumPy's transpose: the dimensions in the order ``axes`` (reversed if none are given).
    PyTorch's ``transpose(d0, d1)``, which swaps two dimensions, is :func:`swapaxes` here."""
    x = _tensor(x)
    axes = _dims_argument(axes)
    if not axes:
        axes = tuple(range(x.ndim))[::-1]
    if sorted(a % max(x.ndim, 1) for a in axes) != list(range(x.ndim)) or \
            not all(-x.ndim <= a < x.ndim for a in axes):
        raise ValueError(f"transpose axes {axes} are not a permutation of the {x.ndim} axes of shape {x.shape}")
    return TransposeFunction(tuple(a % x.ndim for a in axes))(x)


def permute(x, *dims):
    """PyTorch's permute: y.shape[i] = x.shape[dims[i]] (dims must name every dimension once)."""
    x = _tensor(x)
    dims = _dims_argument(dims)
    if len(dims) != x.ndim:
        raise ValueError(f"permute needs one entry per dimension of shape {x.shape}, got {dims}")
    return transpose(x, dims)


def swapaxes(x, dim0, dim1):
    """x with dimensions ``dim0`` and ``dim1`` swapped (PyTorch's ``transpose(dim0, dim1)``)."""
    x = _tensor(x)
    perm = list(range(x.ndim))
    d0, d1 = (_dim_index(d, x.ndim, "swapaxes") for d in (dim0, dim1))
    perm[d0], perm[d1] = perm[d1], perm[d0]
    return TransposeFunction(tuple(perm))(x)


def unsqueeze(x, dim):
    """x with a new dimension of size 1 at position ``dim`` (−(ndim+1) ≤ dim ≤ ndim)."""
    x = _tensor(x)
    d = _dim_index(dim, x.ndim + 1, "unsqueeze")
    return reshape(x, *x.shape[:d], 1, *x.shape[d:])


def squeeze(x, dim=None):
    """x without its size-1 dimensions (all of them, or only ``dim``, an int or a tuple, when they
    have size 1: PyTorch's rule)."""
    x = _tensor(x)
    if dim is None:
        dims = [d for d, n in enumerate(x.shape) if n == 1]
    else:
        dims = [_dim_index(d, x.ndim, "squeeze") for d in ((dim,) if isinstance(dim, int) else dim)]
        dims = [d for d in dims if x.shape[d] == 1]
    return reshape(x, *[n for d, n in enumerate(x.shape) if d not in dims])


def clone(x):
    """A copy of x in new memory, still in the graph (its gradient flows back to x)."""
    return CloneFunction()(x)


def _tensor(x):
    return x if isinstance(x, Tensor) else Tensor(x)


def _dims_argument(dims):
    """Both ``f(x, 1, 0)`` and ``f(x, (1, 0))``."""
    if len(dims) == 1 and isinstance(dims[0], (tuple, list)):
        return tuple(dims[0])
    return tuple(dims)


def _dim_index(dim, ndim, op):
    """``dim`` as an index in [0, ndim), or a clear error."""
    if isinstance(dim, bool) or not isinstance(dim, (int, np.integer)) or not -ndim <= dim < max(ndim, 1):
        raise ValueError(f"{op}: dim {dim!r} is out of range for {ndim} dimensions; expected an integer "
                         f"from {-ndim} to {ndim - 1}")
    return int(dim) % max(ndim, 1)


def flatten(x, start_dim=0, end_dim=-1):
    """Merge axes start_dim…end_dim into one: (N, C, H, W) -> (N, C·H·W) for start_dim=1."""
    x = _tensor(x)
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
    x = _tensor(x)
    return GetItemFunction(_unwrap_index(index, get_array_module(x.data)))(x)


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
    return ToDeviceFunction(device)(x)

# The names these ops had before the ``…Function`` convention; no nn Module uses them.
Reshape, Transpose, GetItem, ToDevice = ReshapeFunction, TransposeFunction, GetItemFunction, ToDeviceFunction
