"""Making tensors from nothing, with PyTorch's names: tensor, zeros, ones, full, empty, eye, rand,
randn, randint, arange, linspace and from_numpy; zeros_like, ones_like, full_like, empty_like,
rand_like and randn_like (the dtype names, minise.float32, minise.long, ..., are in dtypes.py).

New arrays are created on the default backend (``minise.use_backend``), except by
:func:`from_numpy`, which shares the NumPy array it is given. Random ones draw from minise's
generator on the host (``minise.manual_seed`` repeats them, on NumPy and on CuPy alike).
"""
import numbers

import numpy as np

from . import backend, rng
from .tensor import Tensor

float32, int64 = np.dtype("float32"), np.dtype("int64")

def _on_default_device(host, requires_grad):
    xp = backend.default_module()
    return Tensor(host if xp is np else xp.asarray(host), requires_grad=requires_grad)


def _size(size, op):
    """``f(2, 3)`` and ``f((2, 3))`` alike -> (2, 3)."""
    if len(size) == 1 and isinstance(size[0], (tuple, list)):
        size = tuple(size[0])
    if not all(isinstance(n, numbers.Integral) and not isinstance(n, bool) and n >= 0 for n in size):
        raise ValueError(f"{op}: a size is non-negative integers, got {size}")
    return tuple(size)


def tensor(data, dtype=None, requires_grad=False):
    """A new Tensor holding a copy of ``data`` (numbers, lists, an array or a Tensor), on the
    default backend. As in PyTorch, Python integers become int64, Python floats float32, and an
    array keeps its dtype unless ``dtype`` is given."""
    if isinstance(data, Tensor):
        data = data.data
    if backend.device_of(data) == "cuda":
        return Tensor(data.astype(dtype or data.dtype, copy=True), requires_grad=requires_grad)
    host = np.array(data, dtype=dtype)
    if dtype is None and not isinstance(data, (np.ndarray, np.generic)) and host.dtype == np.float64:
        host = host.astype(np.float32)                                    # Python floats: float32
    return _on_default_device(host, requires_grad)


def zeros(*size, dtype=float32, requires_grad=False):
    """A tensor of zeros: ``zeros(2, 3)`` or ``zeros((2, 3))``."""
    return _on_default_device(np.zeros(_size(size, "zeros"), dtype=dtype), requires_grad)


def ones(*size, dtype=float32, requires_grad=False):
    """A tensor of ones: ``ones(2, 3)`` or ``ones((2, 3))``."""
    return _on_default_device(np.ones(_size(size, "ones"), dtype=dtype), requires_grad)


def full(size, fill_value, dtype=None, requires_grad=False):
    """A tensor of ``fill_value``: ``full((2, 3), 0.5)``. A float value gives float32, an int int64, a
    bool bool, unless ``dtype`` is given (as in PyTorch)."""
    if dtype is None:
        dtype = np.bool_ if isinstance(fill_value, bool) else \
            int64 if isinstance(fill_value, numbers.Integral) else float32
    size = _size((size,) if isinstance(size, numbers.Integral) else tuple(size), "full")
    return _on_default_device(np.full(size, fill_value, dtype=dtype), requires_grad)


def empty(*size, dtype=float32, requires_grad=False):
    """A tensor to be filled (minise gives zeros, so its values are never garbage)."""
    return zeros(*size, dtype=dtype, requires_grad=requires_grad)


def eye(n, m=None, dtype=float32, requires_grad=False):
    """The n×m identity matrix (n×n by default)."""
    return _on_default_device(np.eye(n, n if m is None else m, dtype=dtype), requires_grad)


def linspace(start, end, steps, dtype=float32, requires_grad=False):
    """``steps`` evenly spaced values from ``start`` to ``end``, both included."""
    return _on_default_device(np.linspace(start, end, steps).astype(dtype), requires_grad)


def _like(input, host, dtype, requires_grad):
    """A new tensor from the host array ``host``, on ``input``'s device, with ``input``'s dtype by default."""
    array = input.data if isinstance(input, Tensor) else input
    host = host.astype(array.dtype if dtype is None else dtype, copy=False)
    on_device = host if backend.device_of(array) == "cpu" else backend.to_device(host, "cuda")
    return Tensor(on_device, requires_grad=requires_grad)


def zeros_like(input, dtype=None, requires_grad=False):
    """Zeros of ``input``'s shape, dtype and device."""
    return _like(input, np.zeros(input.shape), dtype, requires_grad)


def ones_like(input, dtype=None, requires_grad=False):
    """Ones of ``input``'s shape, dtype and device."""
    return _like(input, np.ones(input.shape), dtype, requires_grad)


def full_like(input, fill_value, dtype=None, requires_grad=False):
    """``fill_value`` everywhere, in ``input``'s shape, dtype and device."""
    return _like(input, np.full(input.shape, fill_value), dtype, requires_grad)


def empty_like(input, dtype=None, requires_grad=False):
    """A tensor of ``input``'s shape, dtype and device to be filled (zeros in minise)."""
    return zeros_like(input, dtype, requires_grad)


def rand_like(input, dtype=None, requires_grad=False):
    """U[0, 1) numbers in ``input``'s shape, dtype and device, from minise's generator."""
    return _like(input, rng.generator().random(input.shape), dtype, requires_grad)


def randn_like(input, dtype=None, requires_grad=False):
    """N(0, 1) numbers in ``input``'s shape, dtype and device, from minise's generator."""
    return _like(input, rng.generator().standard_normal(input.shape), dtype, requires_grad)


def rand(*size, dtype=float32, requires_grad=False):
    """Uniform random numbers in [0, 1), drawn from minise's generator."""
    host = rng.generator().random(_size(size, "rand")).astype(dtype)
    return _on_default_device(host, requires_grad)


def randn(*size, dtype=float32, requires_grad=False):
    """Standard normal random numbers (mean 0, variance 1), drawn from minise's generator."""
    host = rng.generator().standard_normal(_size(size, "randn")).astype(dtype)
    return _on_default_device(host, requires_grad)


def randint(low, high=None, size=None, dtype=int64):
    """Random integers in [low, high): ``randint(high, size)`` or ``randint(low, high, size)``."""
    if size is None:                     # randint(high, size), PyTorch's short form
        low, high, size = 0, low, high
    if high is None or size is None:
        raise TypeError("randint needs high and size: randint(high, size) or randint(low, high, size)")
    if not low < high:
        raise ValueError(f"randint: low ({low}) must be below high ({high})")
    size = _size((size,) if isinstance(size, numbers.Integral) else tuple(size), "randint")
    return _on_default_device(rng.generator().integers(low, high, size).astype(dtype), False)


def arange(start, end=None, step=1, dtype=None, requires_grad=False):
    """Evenly spaced values in [start, end): ``arange(5)``, ``arange(1, 4)``, ``arange(0, 1, 0.25)``.
    Integers give int64, any float float32, unless ``dtype`` says otherwise."""
    if end is None:
        start, end = 0, start
    if step == 0:
        raise ValueError("arange: step must not be zero")
    if dtype is None:
        every_int = all(isinstance(v, numbers.Integral) for v in (start, end, step))
        dtype = int64 if every_int else float32
    return _on_default_device(np.arange(start, end, step).astype(dtype), requires_grad)


def from_numpy(array):
    """A Tensor sharing memory with the NumPy ``array`` (on the CPU, whatever the default backend)."""
    if not isinstance(array, np.ndarray):
        raise TypeError(f"from_numpy needs a numpy.ndarray, got {type(array).__name__}")
    return Tensor(array)
