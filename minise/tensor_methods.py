"""Tensor's operators and op methods, installed on the class once, from ``minise/__init__.py``.

``a + b`` on Tensors calls ``Tensor.__add__``, which is :func:`minise.functional.add`: an op with
its own backward. tensor.py cannot import the ops itself (the ops import Tensor), so the package's
init calls :func:`install` once, after both exist, and the arrows keep pointing one way:
this file -> functional -> function -> tensor.
"""
import numpy as np

from . import functional as F
from .devices import device_name
from .tensor import Tensor


def _swapped(op):
    """``op`` with its operands swapped: ``2 - x`` calls ``x.__rsub__(2)`` = sub(2, x)."""
    def reflected(self, other):
        return op(other, self)
    reflected.__name__ = f"r{op.__name__}"
    return reflected


def _cast_to(dtype):
    dtype = np.dtype(dtype)

    def method(self):
        return _cast(self, dtype)
    method.__doc__ = (f"This tensor as {dtype} (in the graph: the gradient is cast back)." if dtype.kind == "f"
                      else f"This tensor as {dtype}, outside the graph (no gradient flows through integers).")
    return method


def _cast(x, dtype):
    """x as ``dtype``: a float target stays in the graph; an integer or bool one leaves it, as in PyTorch."""
    dtype = np.dtype(dtype)
    if dtype == x.dtype:
        return x
    return F.cast(x if dtype.kind == "f" else x.detach(), dtype)


def to(self, *args, device=None, dtype=None, non_blocking=False, copy=False):
    """PyTorch's ``Tensor.to``: ``x.to("cuda")``, ``x.to(minise.float64)``, ``x.to("cpu", minise.float32)``,
    ``x.to(other)`` (other's device and dtype), or keywords. A string is a device; anything else a dtype.
    Returns this tensor itself when nothing changes (unless ``copy=True``); ``non_blocking`` is accepted
    and changes nothing."""
    for arg in args:
        if isinstance(arg, Tensor):
            device, dtype = arg.device, arg.dtype
        elif isinstance(arg, str):
            device = arg
        else:
            dtype = arg
    result = self if device is None else F.to_device(self, device_name(device))
    if dtype is not None:
        result = _cast(result, dtype)
    return result.clone() if copy and result is self else result


def type_(self, dtype=None):
    """``x.type(minise.float64)`` casts (as ``x.to(dtype)``); ``x.type()`` names the dtype: 'minise.float32'."""
    if dtype is None:
        return f"minise.{self.dtype.name}"
    return _cast(self, dtype)


def t(self):
    """A matrix transposed (PyTorch's ``t()``: 0-D and 1-D tensors are returned as they are)."""
    if self.ndim > 2:
        raise ValueError(f"t() expects a tensor with at most 2 dimensions, got shape {self.shape}; "
                         "use x.permute(...) or x.swapaxes(d0, d1)")
    return self if self.ndim < 2 else F.transpose(self)


def mm(self, other):
    """The matrix product of two 2-D tensors (``matmul`` / ``@`` for any shapes)."""
    if self.ndim != 2 or getattr(other, "ndim", 0) != 2:
        raise ValueError(f"mm() multiplies two matrices, got shapes {self.shape} and {getattr(other, 'shape', ())}; "
                         "use x @ y (matmul) for vectors and batches")
    return F.matmul(self, other)


def _compare(symbol):
    def method(self, other):
        return getattr(self, symbol)(other)
    return method


OPERATORS = {
    "__add__": F.add, "__radd__": _swapped(F.add),
    "__sub__": F.sub, "__rsub__": _swapped(F.sub),
    "__mul__": F.mul, "__rmul__": _swapped(F.mul),
    "__truediv__": F.div, "__rtruediv__": _swapped(F.div),
    "__pow__": F.pow, "__rpow__": _swapped(F.pow),
    "__matmul__": F.matmul, "__rmatmul__": _swapped(F.matmul),
    "__neg__": F.neg,
    "__getitem__": F.getitem,
}

METHODS = {
    # element-wise math
    "exp": F.exp, "log": F.log,
    "relu": F.relu, "sigmoid": F.sigmoid, "tanh": F.tanh,
    "softmax": F.softmax, "log_softmax": F.log_softmax,
    # reductions (dim / keepdim, with axis / keepdims as aliases)
    "sum": F.sum, "mean": F.mean, "max": F.max, "min": F.min,
    "amax": F.amax, "amin": F.amin, "argmax": F.argmax, "argmin": F.argmin,
    "all": F.all, "any": F.any,
    # shapes and copies
    "reshape": F.reshape, "view": F.reshape, "flatten": F.flatten,
    "transpose": F.transpose, "permute": F.permute, "swapaxes": F.swapaxes,
    "unsqueeze": F.unsqueeze, "squeeze": F.squeeze, "clone": F.clone,
    "view_as": lambda self, other: F.reshape(self, *other.shape),
    "reshape_as": lambda self, other: F.reshape(self, *other.shape),
    # element-wise math (PyTorch's method names for the operators)
    "pow": F.pow, "mm": mm, "t": t,
    "eq": _compare("__eq__"), "ne": _compare("__ne__"), "lt": _compare("__lt__"), "le": _compare("__le__"),
    "gt": _compare("__gt__"), "ge": _compare("__ge__"),
    # dtypes and devices
    "astype": F.cast, "float": _cast_to(np.float32), "double": _cast_to(np.float64), "half": _cast_to(np.float16),
    "long": _cast_to(np.int64), "int": _cast_to(np.int32), "bool": _cast_to(np.bool_), "type": type_,
    "type_as": lambda self, other: _cast(self, other.dtype),
    "is_floating_point": lambda self: self.dtype.kind == "f",
    "contiguous": lambda self: self,
    "to": to,
    "cpu": lambda self: F.to_device(self, "cpu"), "cuda": lambda self: F.to_device(self, "cuda"),
}


def install(tensor_class):
    """Put the operators and op methods above on ``tensor_class`` (Tensor)."""
    for name, function in {**OPERATORS, **METHODS}.items():
        setattr(tensor_class, name, function)
    tensor_class.grad_fn = property(lambda self: self.creator, doc="The op that made this tensor (None for a leaf).")
    tensor_class.T = property(lambda self: F.transpose(self), doc="The dimensions reversed (NumPy's .T).")
