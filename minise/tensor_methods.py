"""Tensor's operators and op methods, installed on the class once, from ``minise/__init__.py``.

``a + b`` on Tensors calls ``Tensor.__add__``, which is :func:`minise.functional.add`: an op with
its own backward. tensor.py cannot import the ops itself (the ops import Tensor), so the package's
init calls :func:`install` once, after both exist, and the arrows keep pointing one way:
this file -> functional -> function -> tensor.
"""
import numpy as np

from . import functional as F


def _swapped(op):
    """``op`` with its operands swapped: ``2 - x`` calls ``x.__rsub__(2)`` = sub(2, x)."""
    def reflected(self, other):
        return op(other, self)
    reflected.__name__ = f"r{op.__name__}"
    return reflected


def _cast_to(dtype):
    def method(self):
        return F.cast(self, dtype)
    method.__doc__ = f"This tensor as {np.dtype(dtype)} (in the graph: the gradient is cast back)."
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
    # dtypes and devices
    "astype": F.cast, "float": _cast_to(np.float32), "double": _cast_to(np.float64),
    "to": F.to_device,
    "cpu": lambda self: F.to_device(self, "cpu"), "cuda": lambda self: F.to_device(self, "cuda"),
}


def install(tensor_class):
    """Put the operators and op methods above on ``tensor_class`` (Tensor)."""
    for name, function in {**OPERATORS, **METHODS}.items():
        setattr(tensor_class, name, function)
    tensor_class.T = property(lambda self: F.transpose(self), doc="The dimensions reversed (NumPy's .T).")
