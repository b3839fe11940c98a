"""Tensor: an array, plus what autograd needs to send gradients back to it.

    data           the array (numpy.ndarray on the CPU, cupy.ndarray on the GPU)
    requires_grad  should backward() compute d(output)/d(this)?
    grad           after backward(): an array shaped like ``data``, on the same device (else None)
    creator        the op (Function) that produced this tensor; None for a leaf you made yourself

The operators and methods that record ops (``+``, ``@``, ``.sum()``, indexing, ``.relu()``, ...)
are installed on the class once, by :mod:`minise.tensor_methods` when ``import minise`` runs: each
is an op of :mod:`minise.functional`, a Function with an explicit backward. This file defines
only what needs no op: the data, the autograd fields, element-wise comparisons, floor division
and remainder (which have no gradient) and the way out of the graph. So the arrows point one way:
functional -> tensor.
"""
from __future__ import annotations

import weakref
from typing import Any

import numpy as np

from . import backend
from .autograd import run_backward
from .hooks import add_hook
from .pytorch_names import missing


class Size(int):
    """A tensor's number of elements (an int, as NumPy's ``a.size``), also callable as PyTorch's
    ``x.size()``: ``x.size()`` is the shape, ``x.size(d)`` the length of dimension d."""

    def __new__(cls, n, shape):
        size = super().__new__(cls, n)
        size.shape = tuple(shape)
        return size

    def __call__(self, dim=None):
        if dim is None:
            return self.shape
        if isinstance(dim, bool) or not isinstance(dim, (int, np.integer)) or \
                not -len(self.shape) <= dim < len(self.shape):
            raise IndexError(f"size({dim!r}): dim out of range for a tensor of shape {self.shape}")
        return self.shape[dim]


class Tensor:
    """An n-dimensional array that can record the ops applied to it.

    ``Tensor(data, requires_grad=False, dtype=None)``: ``data`` may be Python numbers or lists
    (they become float32 on the current backend), a NumPy array (kept as it is, on the CPU) or a
    CuPy array (kept on the GPU). Only floating-point tensors can require gradients.
    """

    __array_ufunc__ = None          # `numpy_array + tensor` calls Tensor.__radd__, not NumPy
    __array_priority__ = 1000
    __hash__ = object.__hash__      # a Tensor is its own identity (== compares elements, as torch)
    _hooks = None                   # handle id -> hook, for a leaf (see register_hook)

    def __init__(self, data: Any, requires_grad: bool = False, dtype: Any = None) -> None:
        if isinstance(data, Tensor):
            data = data.data
        if data is None:                # NumPy would make it a NaN
            raise TypeError("cannot make a Tensor from None; give numbers, a list or an array")
        if isinstance(data, np.ndarray) or backend.device_of(data) == "cuda":
            array = data if dtype is None else data.astype(dtype, copy=False)
        elif isinstance(data, np.generic):
            array = np.asarray(data, dtype=dtype)
        else:
            try:
                host = np.asarray(data, dtype=dtype if dtype is not None else np.float32)
            except (TypeError, ValueError) as exc:
                raise TypeError(f"cannot make a Tensor from {type(data).__name__}: {exc}") from None
            xp = backend.default_module()
            array = host if xp is np else xp.asarray(host)
        if array.dtype.kind not in "biuf":
            raise TypeError(f"Tensor data must be numeric, got dtype {array.dtype}")
        self.data = array
        self.grad = None
        self.creator = None
        self._index = 0
        self.requires_grad = False
        if requires_grad:
            self.requires_grad_(True)

    @classmethod
    def _from_op(cls, array, requires_grad):
        """Wrap an op's output array as is (no conversion, no copy)."""
        t = cls.__new__(cls)
        t.data, t.grad, t.creator, t._index, t.requires_grad = array, None, None, 0, requires_grad
        return t

    def requires_grad_(self, flag=True):
        if flag and self.data.dtype.kind != "f":
            raise TypeError(f"only floating-point tensors can require grad; this one is {self.data.dtype}. "
                            "Make it float first, e.g. Tensor(data, dtype='float32', requires_grad=True)")
        self.requires_grad = bool(flag)
        return self

    # -- array-like facts -------------------------------------------------------------------------
    shape = property(lambda self: tuple(self.data.shape))
    dtype = property(lambda self: self.data.dtype)
    ndim = property(lambda self: self.data.ndim)
    size = property(lambda self: Size(self.data.size, self.data.shape))
    device = property(lambda self: backend.device_of(self.data))
    is_leaf = property(lambda self: self.creator is None)

    def numel(self):
        """The number of elements."""
        return int(self.data.size)

    def dim(self):
        """The number of dimensions (PyTorch's name for ``ndim``)."""
        return self.data.ndim

    def __len__(self):
        if self.ndim == 0:
            raise TypeError("len() of a 0-d tensor")
        return self.shape[0]

    def __repr__(self):
        body = np.array2string(backend.to_numpy(self.data), separator=", ", prefix="Tensor(")
        extras = ""
        if self.data.dtype != np.float32:
            extras += f", dtype={self.data.dtype}"
        if self.device != "cpu":
            extras += f", device='{self.device}'"
        if self.requires_grad:
            extras += ", requires_grad=True"
        return f"Tensor({body}{extras})"

    # -- leaving the graph ------------------------------------------------------------------------
    def detach(self) -> Tensor:
        """The same data, cut from the graph (no creator, no grad)."""
        return Tensor._from_op(self.data, False)

    def numpy(self) -> np.ndarray:
        """A NumPy copy of the data (copied from the GPU when needed)."""
        return np.array(backend.to_numpy(self.data), copy=True)

    def __array__(self, dtype=None, copy=None):
        """``np.asarray(t)``: the data of a CPU tensor, for NumPy code (as PyTorch's CPU tensors allow).
        A GPU tensor refuses, as CuPy's arrays do: copy it with ``t.numpy()`` or ``t.cpu()``."""
        if self.device != "cpu":
            raise TypeError("a tensor on the GPU does not convert to a NumPy array implicitly; "
                            "use t.numpy() (a copy) or t.cpu()")
        if copy:
            return np.array(self.data, dtype=dtype, copy=True)
        return self.data if dtype is None or np.dtype(dtype) == self.data.dtype else self.data.astype(dtype)

    def item(self) -> float | int | bool:
        """The single value of a one-element tensor, as a Python number."""
        if self.size != 1:
            raise ValueError(f"item() needs a tensor with one element; this one has shape {self.shape}")
        return self.data.item()

    def tolist(self):
        return backend.to_numpy(self.data).tolist()

    def __float__(self):
        """``float(loss)``: the value of a one-element tensor (as ``item()``)."""
        return float(self.item())

    def __int__(self):
        """``int(count)``: the value of a one-element tensor, truncated (as ``int(x.item())``)."""
        return int(self.item())

    def __index__(self):
        """A one-element integer tensor used as an index: ``classes[pred[0]]``, ``range(n)``."""
        if self.data.dtype.kind not in "iu" or self.size != 1:
            raise TypeError(f"only an integer tensor with one element can be used as an index; this one has "
                            f"dtype {self.dtype} and shape {self.shape}")
        return int(self.data.item())

    def __getattr__(self, name):                     # only called when normal lookup fails
        raise missing("minise.Tensor", name)

    # -- autograd ---------------------------------------------------------------------------------
    def backward(self, grad: Any = None, retain_graph: bool = False) -> None:
        """Compute the gradient of this tensor with respect to every leaf that requires grad.

        For a scalar (one element) the seed gradient is 1. For any other shape pass ``grad``, an
        array (or Tensor) of this tensor's shape: the result is then d(Σ self·grad)/d(leaf).
        Gradients accumulate into ``leaf.grad``: zero them between steps.
        """
        if not self.requires_grad:
            raise RuntimeError("backward() on a tensor that does not require grad: none of its inputs had "
                               "requires_grad=True, or it was computed under no_grad()")
        if grad is None:
            if self.size != 1:
                raise RuntimeError(f"backward() without a gradient works only on a scalar; this tensor has "
                                   f"shape {self.shape}. Reduce it first (y.sum().backward()) or pass "
                                   "grad=, an array of the same shape")
            grad = backend.get_array_module(self.data).ones_like(self.data)
        else:
            grad = grad.data if isinstance(grad, Tensor) else grad
            if tuple(getattr(grad, "shape", ())) != self.shape:
                raise ValueError(f"backward(grad=...) needs a gradient of shape {self.shape}, "
                                 f"got {tuple(getattr(grad, 'shape', ()))}")
            backend.check_same_device([self.data, grad], "backward()")
        run_backward([self], [grad], retain_graph=retain_graph)

    def retain_grad(self):
        """Keep this non-leaf tensor's gradient in ``.grad`` after backward (leaves always keep it)."""
        if self.creator is not None:
            if self.creator.retained is None:
                self.creator.retained = {}
            self.creator.retained[self._index] = weakref.ref(self)
        return self

    def register_hook(self, hook):
        """Call ``hook(grad)`` whenever the gradient with respect to this tensor is computed.

        ``grad`` is the summed gradient of this tensor, an array like ``.grad``. If the hook returns
        a value (an array, or a Tensor, of the same shape), that value replaces the gradient: it is
        what flows on to the ops below and what a leaf accumulates into ``.grad``. Hooks run in the
        order registered, and before retain_grad() keeps the gradient. Returns a handle:
        ``handle.remove()`` takes the hook off. As in PyTorch.
        """
        if not self.requires_grad:
            raise RuntimeError("cannot register a hook on a tensor that does not require grad")
        if self.creator is None:                     # a leaf keeps its own hooks
            if self._hooks is None:
                self._hooks = {}
            hooks = self._hooks
        else:                                        # the op that made it runs them, even if this Tensor is gone
            if self.creator.hooks is None:
                self.creator.hooks = {}
            hooks = self.creator.hooks.setdefault(self._index, {})
        return add_hook(hooks, _unwrapping(hook), "register_hook")

    def zero_grad(self):
        self.grad = None

    # -- element-wise comparisons: bool Tensors, outside the graph (as in PyTorch) --------------
    def _compare(self, other, op):
        if isinstance(other, Tensor):
            other = other.data
        elif not isinstance(other, (int, float, bool, np.generic, np.ndarray)) and \
                backend.device_of(other) != "cuda":
            return NotImplemented
        backend.check_same_device([self.data, other], f"comparison {op}")
        return Tensor._from_op(_COMPARISONS[op](self.data, other), False)

    def __eq__(self, other):
        return self._compare(other, "==")

    def __ne__(self, other):
        return self._compare(other, "!=")

    def __lt__(self, other):
        return self._compare(other, "<")

    def __le__(self, other):
        return self._compare(other, "<=")

    def __gt__(self, other):
        return self._compare(other, ">")

    def __ge__(self, other):
        return self._compare(other, ">=")

    # -- floor division and remainder: element-wise, outside the graph (their derivative is 0 or undefined)
    def _integer_op(self, other, op, reflected=False):
        if isinstance(other, Tensor):
            other = other.data
        elif not isinstance(other, (int, float, bool, np.generic, np.ndarray)) and \
                backend.device_of(other) != "cuda":
            return NotImplemented
        backend.check_same_device([self.data, other], f"operator {op}")
        a, b = (other, self.data) if reflected else (self.data, other)
        return Tensor._from_op(a // b if op == "//" else a % b, False)

    def __floordiv__(self, other):
        return self._integer_op(other, "//")

    def __rfloordiv__(self, other):
        return self._integer_op(other, "//", reflected=True)

    def __mod__(self, other):
        return self._integer_op(other, "%")

    def __rmod__(self, other):
        return self._integer_op(other, "%", reflected=True)

    def __bool__(self):
        if self.size != 1:
            raise ValueError(f"the truth value of a tensor with {self.size} elements is ambiguous; reduce it "
                             "first, e.g. bool((t > 0).sum() == t.numel()) for 'all'")
        return bool(self.data.item())


_COMPARISONS = {"==": lambda a, b: a == b, "!=": lambda a, b: a != b, "<": lambda a, b: a < b,
                "<=": lambda a, b: a <= b, ">": lambda a, b: a > b, ">=": lambda a, b: a >= b}


def _unwrapping(hook):
    """``hook``, with a Tensor it returns taken as its array (the engine works on arrays)."""
    if not callable(hook):
        return hook                                  # add_hook refuses it, naming register_hook
    def on_arrays(g):
        result = hook(g)
        return result.data if isinstance(result, Tensor) else result
    return on_arrays
