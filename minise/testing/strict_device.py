"""A strict stand-in for CuPy, so the device (GPU) code path is tested on machines without a GPU.

Why a stand-in
    Most machines that run the tests have no NVIDIA GPU, so real CuPy cannot run there. Yet the
    device path is where backend bugs hide, because CuPy is stricter than NumPy:

    * it refuses to turn a device array into a NumPy array behind your back
      (``np.asarray(x)``, ``np.mean(list_of_device_arrays)``, ``float(x)`` in a hot loop ...);
    * it refuses to mix host (NumPy) and device arrays in one operation
      (``x + np.ones(3)``, ``xp.maximum(x, np_array)``, ``x[np.array([0, 2])]``);
    * reductions give 0-d device arrays, not Python or NumPy scalars;
    * it lacks a few NumPy functions and methods.

    Code that passes on NumPy can fail on the first real GPU run. This module copies those rules
    on top of NumPy, so such code fails here, on every machine, in the ordinary test suite.

How to use it
    ``with strict_device.enabled(): ...`` installs ``module`` (alias ``xp``) as minise's device
    module (what ``minise.backend`` would otherwise find in CuPy) and, by default, makes it the
    default backend. ``to_device(np_array)`` moves host data onto the "device".

What it checks
    * ``np.asarray(x)``, ``np.array(x)``, ``x.__array__()`` raise TypeError (use ``x.get()``,
      ``xp.asnumpy(x)`` or ``minise.backend.to_numpy(x)``);
    * NumPy arrays as operands, ``out=``, indices or assigned values raise TypeError, from
      operators, NumPy ufuncs (``np.add(x, a)``), NumPy functions (``np.concatenate``), and from
      the functions of ``module``; Python lists as ufunc operands are refused as well;
    * NumPy functions called on device arrays are routed here (``__array_function__``), like
      CuPy, and return device arrays; reductions and integer indexing return 0-d device arrays;
    * ``float(x)``, ``int(x)``, ``bool(x)`` work only for one-element arrays (explicit syncs);
    * ``empty`` / ``empty_like`` are filled with NaN (or the largest integer), so code that reads
      memory it never wrote shows it;
    * only what CuPy provides is mirrored: ``ufunc.at`` only for add, subtract, maximum, minimum
      and the bitwise ops; ``ufunc.reduce`` for add and multiply; ``accumulate`` and ``reduceat``
      for add; ``lib.stride_tricks.as_strided(x, shape, strides)`` without NumPy's ``writeable``;
      ``random.default_rng()`` with CuPy's Generator methods (no ``normal``/``choice``/
      ``permutation``: use ``standard_normal(size, dtype) * scale + loc``); NumPy-2-only aliases
      (``acos``, ``concat``, ``permute_dims``, ``pow`` ...) and host-only helpers are absent.

What it does not check
    Speed, CUDA kernels, streams and synchronisation, device memory limits, float32 rounding on a
    GPU, the random streams themselves (CuPy draws other numbers from the same seed), and the
    full list of NumPy functions CuPy lacks (the list here is curated, not complete). Where CuPy
    quietly copies host data to the device (a NumPy index or value), the stand-in is stricter.
"""
import contextlib
import operator
import types

import numpy as np
from numpy.lib.mixins import NDArrayOperatorsMixin

from minise import backend

__all__ = ["module", "xp", "ndarray", "enabled", "to_device", "is_device_array", "asarray", "array",
           "asnumpy", "get_array_module"]

IMPLICIT_CONVERSION = ("Implicit conversion to a NumPy array is not allowed (as in CuPy). "
                       "Use `.get()` or `xp.asnumpy(x)` to construct a NumPy array explicitly.")

# ufunc methods CuPy implements, and for which ufuncs (CuPy v12 onwards); None: all ufuncs.
UFUNC_METHODS = {"__call__": None, "outer": None, "reduce": {"add", "multiply"},
                 "accumulate": {"add"}, "reduceat": {"add"},
                 "at": {"add", "subtract", "maximum", "minimum", "bitwise_and", "bitwise_or", "bitwise_xor"}}

# NumPy names that CuPy does not provide (curated): NumPy-2 aliases and host-only helpers.
NOT_IN_CUPY = {
    "acos", "acosh", "asin", "asinh", "atan", "atanh", "atan2", "bitwise_left_shift", "bitwise_right_shift",
    "bitwise_invert", "bitwise_count", "concat", "permute_dims", "pow", "vecdot", "matvec", "vecmat",
    "unstack", "cumulative_sum", "cumulative_prod", "isdtype", "astype", "matrix_transpose", "unique_all",
    "unique_counts", "unique_inverse", "unique_values", "asmatrix", "bmat", "frompyfunc", "seterr",
    "geterr", "seterrcall", "geterrcall", "setbufsize", "getbufsize", "fromfile", "fromregex",
    "genfromtxt", "loadtxt", "savetxt", "add_docstring", "add_newdoc", "info", "show_config", "test",
    "busday_count", "busday_offset", "is_busday", "datetime_as_string", "datetime_data",
}
NOT_IN_CUPY_LINALG = {"matrix_transpose", "vecdot", "matrix_norm", "vector_norm", "svdvals", "cross",
                      "outer", "diagonal", "trace", "tensordot", "matmul"}
# ndarray attributes CuPy lacks, or that would hand out host memory here (data, ctypes, flat).
NOT_ON_CUPY_NDARRAY = {"data", "ctypes", "flat", "setflags", "itemset", "newbyteorder", "getfield",
                       "setfield", "resize", "byteswap", "to_device"}


def _refuse_host(obj):
    raise TypeError(f"Unsupported type {type(obj)}: a NumPy (host) array was given where a device array "
                    "is needed; move it to the device first with xp.asarray(...)")


def _unwrap(obj):
    """Device arrays -> their NumPy payload, recursively; NumPy arrays are refused."""
    if isinstance(obj, ndarray):
        return obj._a
    if isinstance(obj, np.ndarray):
        _refuse_host(obj)
    if isinstance(obj, tuple):
        items = [_unwrap(o) for o in obj]
        return type(obj)(*items) if hasattr(obj, "_fields") else tuple(items)
    if isinstance(obj, list):
        return [_unwrap(o) for o in obj]
    if isinstance(obj, dict):
        return {k: _unwrap(v) for k, v in obj.items()}
    return obj


def _wrap(obj):
    """NumPy arrays and scalars from a computation -> device arrays (0-d for scalars), recursively."""
    if isinstance(obj, np.ndarray):
        return _from_host(obj)
    if isinstance(obj, np.generic):
        return _from_host(np.asarray(obj))
    if isinstance(obj, tuple):
        items = [_wrap(o) for o in obj]
        return type(obj)(*items) if hasattr(obj, "_fields") else tuple(items)
    if isinstance(obj, list):
        return [_wrap(o) for o in obj]
    return obj


def _from_host(a):
    """Wrap NumPy array ``a`` without copying (internal: the payload is then 'device memory')."""
    x = object.__new__(ndarray)
    x._a = a
    return x


def _fill_garbage(a):
    if a.dtype.kind in "fc":
        a.fill(np.nan)
    elif a.dtype.kind in "iu":
        a.fill(np.iinfo(a.dtype).max)
    elif a.dtype.kind == "b":
        a.fill(True)
    return a


def _apply_ufunc(ufunc, method, inputs, kwargs):
    allowed = UFUNC_METHODS.get(method, set())
    if allowed is not None and ufunc.__name__ not in allowed:
        raise NotImplementedError(f"CuPy does not implement {ufunc.__name__}.{method}; it supports "
                                  f"{method} only for {sorted(allowed) or 'no ufunc'}")
    if method == "__call__":
        for x in inputs:
            if isinstance(x, (list, tuple)):
                raise TypeError(f"Unsupported type {type(x)}: CuPy ufuncs take arrays and scalars, not "
                                "Python sequences; convert with xp.asarray(...)")
    result = getattr(ufunc, method)(*_unwrap(inputs), **_unwrap(kwargs))
    if method == "at":
        return None
    out = kwargs.get("out")
    if out is not None:
        outs = out if isinstance(out, tuple) else (out,)
        if all(o is not None for o in outs):
            return outs[0] if len(outs) == 1 else outs
    return _wrap(result)


def _index(key):
    if isinstance(key, tuple):
        return tuple(_index(k) for k in key)
    if isinstance(key, np.ndarray):
        raise TypeError(f"Unsupported index type {type(key)}: index a device array with device arrays "
                        "(xp.asarray(index)), Python ints, slices or lists")
    return _unwrap(key)


class ndarray(NDArrayOperatorsMixin):
    """A device array of the stand-in: a NumPy array that refuses to leave the 'device' implicitly.

    ``ndarray(shape, dtype=float)`` is uninitialised (filled with NaN), like ``cupy.ndarray``.
    """
    # Weak references (the autograd graph keeps them to retained outputs) need a __weakref__ slot;
    # NumPy before 1.25 gives the mixin one already, and Python refuses to declare it twice.
    __slots__ = ("_a",) if hasattr(NDArrayOperatorsMixin, "__weakref__") else ("_a", "__weakref__")
    __array_priority__ = 100
    __hash__ = None

    def __init__(self, shape, dtype=float):
        self._a = _fill_garbage(np.empty(shape, dtype))

    # -- the strict rules ------------------------------------------------------------------------
    def __array__(self, dtype=None, copy=None):
        raise TypeError(IMPLICIT_CONVERSION)

    def __array_ufunc__(self, ufunc, method, *inputs, **kwargs):
        return _apply_ufunc(ufunc, method, inputs, kwargs)

    def __array_function__(self, func, types, args, kwargs):
        name = func.__name__
        if name in NOT_IN_CUPY:
            return NotImplemented
        impl = _OWN_IMPLEMENTATIONS.get(name)
        if impl is not None:
            return impl(*args, **kwargs)
        return _wrap(func(*_unwrap(args), **_unwrap(kwargs)))

    def __getattr__(self, name):
        if name.startswith("_") or name in NOT_ON_CUPY_NDARRAY:
            raise AttributeError(f"the device array (strict CuPy stand-in) has no attribute {name!r}")
        attr = getattr(self._a, name)
        if not callable(attr):
            return _wrap(attr)

        def method(*args, **kwargs):
            result = attr(*_unwrap(args), **_unwrap(kwargs))
            return self if result is self._a else _wrap(result)
        method.__name__ = name
        return method

    # -- explicit transfers ----------------------------------------------------------------------
    def get(self, stream=None, order="C", out=None, blocking=True):
        """A NumPy copy of this array (explicit device -> host)."""
        if out is not None:
            out[...] = self._a
            return out
        return np.array(self._a, order=order, copy=True)

    def set(self, arr, stream=None):
        """Copy the NumPy array ``arr`` into this array (explicit host -> device)."""
        if not isinstance(arr, np.ndarray) or arr.shape != self.shape or arr.dtype != self.dtype:
            raise ValueError(f"set() needs a NumPy array of shape {self.shape} and dtype {self.dtype}")
        self._a[...] = arr

    # -- attributes --------------------------------------------------------------------------------
    shape = property(lambda self: self._a.shape)
    dtype = property(lambda self: self._a.dtype)
    ndim = property(lambda self: self._a.ndim)
    size = property(lambda self: self._a.size)
    strides = property(lambda self: self._a.strides)
    itemsize = property(lambda self: self._a.itemsize)
    nbytes = property(lambda self: self._a.nbytes)
    flags = property(lambda self: self._a.flags)
    T = property(lambda self: _from_host(self._a.T))

    # -- indexing and the Python protocols ---------------------------------------------------------
    def __getitem__(self, key):
        key = _index(key)
        result = self._a[key]
        if isinstance(result, np.generic):        # CuPy gives a 0-d device array (a view)
            result = self._a[(key if isinstance(key, tuple) else (key,)) + (Ellipsis,)]
        return _from_host(result)

    def __setitem__(self, key, value):
        self._a[_index(key)] = _unwrap(value)

    def __len__(self):
        return len(self._a)

    def __iter__(self):
        if self.ndim == 0:
            raise TypeError("iteration over a 0-d array")
        return (_from_host(self._a[i, ...]) for i in range(len(self._a)))

    def __contains__(self, value):
        return bool((self == value).any())

    def _one_element(self):
        if self.size != 1:
            raise TypeError(f"only size-1 arrays can be converted to Python scalars; got shape {self.shape}")
        return self._a.reshape(())[()]

    def __float__(self):
        return float(self._one_element())

    def __int__(self):
        return int(self._one_element())

    def __complex__(self):
        return complex(self._one_element())

    def __bool__(self):
        return bool(self._a)

    def __index__(self):
        return operator.index(self._a)

    def __format__(self, spec):
        return format(self._a, spec)

    def __repr__(self):
        return "device_" + np.array_repr(self._a).replace("\n", "\n" + " " * 7)

    def __str__(self):
        return str(self._a)

    def __copy__(self):
        return _from_host(self._a.copy())

    def __deepcopy__(self, memo):
        return _from_host(self._a.copy())

    def __reduce__(self):
        return _from_host, (self._a.copy(),)


# -- module-level functions that are not a plain wrap of NumPy's ---------------------------------

def _host_data(obj):
    """Creation input: device arrays unwrapped; host data (NumPy arrays included) allowed."""
    if isinstance(obj, ndarray):
        return obj._a
    if isinstance(obj, (list, tuple)):
        return [_host_data(o) for o in obj]
    return obj


def _checked(a):
    if a.dtype.kind in "OUSVMm":
        raise ValueError(f"Unsupported dtype {a.dtype}: CuPy arrays hold numbers and booleans only")
    return a


def asarray(a, dtype=None, order=None, *, blocking=False):
    """``a`` as a device array; host data is copied to the device (explicit transfer, allowed)."""
    if isinstance(a, ndarray):
        return a if dtype is None or np.dtype(dtype) == a.dtype else a.astype(dtype)
    return _from_host(_checked(np.array(_host_data(a), dtype=dtype, order=order or "K", copy=True)))


def array(obj, dtype=None, copy=True, order="K", subok=False, ndmin=0, *, blocking=False):
    """A new device array from ``obj`` (host data or a device array)."""
    if isinstance(obj, ndarray) and not copy and ndmin <= obj.ndim:
        return asarray(obj, dtype)
    host = np.array(_host_data(obj), dtype=dtype, order=order, copy=True, ndmin=ndmin)
    return _from_host(_checked(host))


def asnumpy(a, stream=None, order="C", out=None, blocking=True):
    """A NumPy array with the contents of ``a`` (explicit device -> host copy)."""
    if isinstance(a, ndarray):
        return a.get(order=order, out=out)
    return np.asarray(a, order=order)


def get_array_module(*args):
    """This module if any argument is a device array of the stand-in, else numpy."""
    return module if any(isinstance(a, ndarray) for a in args) else np


def empty(shape, dtype=float, order="C"):
    """Uninitialised memory, like on a GPU: filled with NaN (or the largest integer)."""
    return _from_host(_fill_garbage(np.empty(shape, dtype, order)))


def empty_like(prototype, dtype=None, order="K", subok=None, shape=None):
    """Like ``empty`` with the shape and dtype of the device array ``prototype``."""
    return _from_host(_fill_garbage(np.empty_like(_unwrap(prototype), dtype, order, shape=shape)))


def as_strided(x, shape=None, strides=None):
    """A view of device array ``x`` with the given shape and strides (CuPy's signature)."""
    if not isinstance(x, ndarray):
        raise TypeError(f"as_strided needs a device array, got {type(x)}")
    return _from_host(np.lib.stride_tricks.as_strided(x._a, shape, strides))


def sliding_window_view(x, window_shape, axis=None, *, subok=False, writeable=False):
    """Sliding windows over device array ``x`` as a view (read-only unless ``writeable``)."""
    if not isinstance(x, ndarray):
        raise TypeError(f"sliding_window_view needs a device array, got {type(x)}")
    return _from_host(np.lib.stride_tricks.sliding_window_view(x._a, window_shape, axis, writeable=writeable))


def einsum(*operands, dtype=None, optimize=False):
    """Einstein summation on device arrays; like CuPy's, without out=, order= and casting=."""
    return _wrap(np.einsum(*_unwrap(operands), dtype=dtype, optimize=optimize))


_OWN_IMPLEMENTATIONS = {"empty_like": empty_like, "sliding_window_view": sliding_window_view, "einsum": einsum}


# -- the module object ------------------------------------------------------------------------------

class _DeviceUfunc:
    """A NumPy ufunc as the device module exposes it (``xp.add``, ``xp.add.at`` ...)."""

    def __init__(self, ufunc):
        self._ufunc = ufunc
        self.__name__ = ufunc.__name__
        self.nin, self.nout, self.nargs, self.identity = ufunc.nin, ufunc.nout, ufunc.nargs, ufunc.identity

    def __call__(self, *args, **kwargs):
        return _apply_ufunc(self._ufunc, "__call__", args, kwargs)

    def __repr__(self):
        return f"<ufunc {self.__name__!r} of the strict device stand-in>"


for _method in ("reduce", "accumulate", "reduceat", "outer", "at"):
    def _bound(self, *args, _method=_method, **kwargs):
        return _apply_ufunc(self._ufunc, _method, args, kwargs)
    _bound.__name__ = _method
    setattr(_DeviceUfunc, _method, _bound)


def _device_function(func, name):
    def call(*args, **kwargs):
        return _wrap(func(*_unwrap(args), **_unwrap(kwargs)))
    call.__name__ = call.__qualname__ = name
    call.__doc__ = f"numpy.{name} on device arrays (strict CuPy stand-in); NumPy arrays are refused."
    return call


class _DeviceModule(types.ModuleType):
    """A namespace that offers NumPy's functions, made strict, and only those CuPy has."""

    def __init__(self, name, source, missing=(), doc=None):
        super().__init__(name, doc)
        self._source, self._missing = source, set(missing)

    def __getattr__(self, name):
        if name.startswith("__") or name in self._missing:
            raise AttributeError(f"{self.__name__} has no attribute {name!r} (CuPy does not provide it, "
                                 "or the strict stand-in does not mirror it)")
        obj = getattr(self._source, name)   # AttributeError if NumPy has no such name either
        if isinstance(obj, np.ufunc):
            obj = _DeviceUfunc(obj)
        elif isinstance(obj, type):
            if not (issubclass(obj, (np.generic, BaseException)) or obj in (np.dtype, np.finfo, np.iinfo)):
                raise AttributeError(f"{self.__name__}.{name}: the class numpy.{name} is not mirrored")
        elif isinstance(obj, types.ModuleType):
            raise AttributeError(f"{self.__name__}.{name}: the submodule numpy.{name} is not mirrored")
        elif callable(obj):
            obj = _device_function(obj, name)
        setattr(self, name, obj)            # cache
        return obj


module = _DeviceModule(__name__ + ".module", np, NOT_IN_CUPY,
                       "Strict CuPy stand-in: NumPy's namespace for device arrays (see strict_device).")
xp = module
module.ndarray = ndarray
for _f in (asarray, array, asnumpy, get_array_module, empty, empty_like, einsum):
    setattr(module, _f.__name__, _f)
module.asanyarray = asarray
module.linalg = _DeviceModule(module.__name__ + ".linalg", np.linalg, NOT_IN_CUPY_LINALG)
module.fft = _DeviceModule(module.__name__ + ".fft", np.fft)
module.lib = types.ModuleType(module.__name__ + ".lib")
module.lib.stride_tricks = types.ModuleType(module.lib.__name__ + ".stride_tricks")
module.lib.stride_tricks.as_strided = as_strided
module.lib.stride_tricks.sliding_window_view = sliding_window_view


# -- random: CuPy's Generator API and the legacy functions -------------------------------------------

def _size(size):
    return () if size is None else size


class Generator:
    """CuPy's ``cupy.random.Generator`` methods on NumPy's PCG64 (so: other numbers than CuPy's)."""

    def __init__(self, seed=None):
        self._rng = np.random.default_rng(seed)

    def _into(self, values, dtype, out):
        values = np.asarray(values).astype(dtype, copy=False)
        if out is None:
            return _from_host(values)
        if not isinstance(out, ndarray) or out.dtype != values.dtype:
            raise TypeError(f"out must be a device array of dtype {values.dtype}")
        out._a[...] = values
        return out

    def random(self, size=None, dtype=np.float64, out=None):
        return self._into(self._rng.random(_size(out.shape if out is not None else size)), dtype, out)

    def uniform(self, low=0.0, high=1.0, size=None, dtype=np.float64):
        low, high = _unwrap(low), _unwrap(high)
        shape = np.broadcast_shapes(np.shape(low), np.shape(high)) if size is None else size
        return self._into(low + (np.subtract(high, low)) * self._rng.random(shape), dtype, None)

    def integers(self, low, high=None, size=None, dtype=np.int64, endpoint=False):
        low, high = (0, int(low)) if high is None else (int(low), int(high))
        return _from_host(np.asarray(self._rng.integers(low, high, _size(size), dtype, endpoint)))

    def standard_normal(self, size=None, dtype=np.float64, out=None):
        return self._into(self._rng.standard_normal(_size(out.shape if out is not None else size)), dtype, out)

    def standard_exponential(self, size=None, dtype=np.float64, method="inv", out=None):
        return self._into(self._rng.standard_exponential(_size(size)), dtype, out)

    def exponential(self, scale=1.0, size=None):
        return self.standard_exponential(size) * scale


def default_rng(seed=None):
    """A Generator; like CuPy, a Generator passed as ``seed`` is returned as it is."""
    return seed if isinstance(seed, Generator) else Generator(seed)


_legacy = np.random.RandomState()


def _legacy_function(name, draw):
    def call(*args, dtype=float, **kwargs):
        return _from_host(np.asarray(draw(*_unwrap(args), **_unwrap(kwargs))).astype(dtype, copy=False))
    call.__name__ = name
    return call


module.random = types.ModuleType(module.__name__ + ".random")
module.random.Generator, module.random.default_rng = Generator, default_rng
module.random.seed = lambda seed=None: _legacy.seed(seed)
for _name in ("rand", "randn", "random_sample", "uniform", "normal", "standard_normal"):
    setattr(module.random, _name, _legacy_function(_name, getattr(_legacy, _name)))
module.random.random = module.random.random_sample
module.random.randint = lambda low, high=None, size=None, dtype=int: _from_host(
    np.asarray(_legacy.randint(low, high, size, dtype)))
module.random.permutation = lambda a: _from_host(_legacy.permutation(_unwrap(a)))


# -- switching it on ---------------------------------------------------------------------------------

def is_device_array(a):
    """True for a device array of the stand-in."""
    return isinstance(a, ndarray)


def to_device(a, dtype=None):
    """Host data (a NumPy array, list, number) copied onto the stand-in device."""
    return asarray(a, dtype)


@contextlib.contextmanager
def enabled(default=True):
    """Install the stand-in as minise's device module for the ``with`` block; yields the module.

    With ``default=True`` it is also the default backend ('cupy'), so arrays created from nothing
    (initialisers, ``Tensor([1, 2])``) land on the stand-in device. Both are restored on exit,
    also when the block raises.
    """
    previous_module = backend.set_device_module(module)
    switch = None
    try:
        if default:
            switch = backend.use_backend("cupy")
        yield module
    finally:
        if switch is not None:
            switch.__exit__(None, None, None)
        backend.set_device_module(previous_module)
