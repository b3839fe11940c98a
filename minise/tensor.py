"""Tensor: an array, plus what autograd needs to send gradients back to it.

    data           the array (numpy.ndarray on the CPU, cupy.ndarray on the GPU)
    requires_grad  should backward() compute d(output)/d(this)?
    grad           after backward(): an array shaped like ``data``, on the same device (else None)
    creator        the op (Function) that produced this tensor; None for a leaf you made yourself

Every operator below (``+``, ``@``, ``.sum()``, indexing, ...) is an op from
:mod:`minise.functional`, written as a Function with an explicit backward.
"""
import numpy as np

from . import backend


class Tensor:
    """An n-dimensional array that can record the ops applied to it.

    ``Tensor(data, requires_grad=False, dtype=None)``: ``data`` may be Python numbers or lists
    (they become float32 on the current backend), a NumPy array (kept as it is, on the CPU) or a
    CuPy array (kept on the GPU). Only floating-point tensors can require gradients.
    """

    __array_ufunc__ = None          # `numpy_array + tensor` calls Tensor.__radd__, not NumPy
    __array_priority__ = 1000

    def __init__(self, data, requires_grad=False, dtype=None):
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
    size = property(lambda self: int(self.data.size))
    device = property(lambda self: backend.device_of(self.data))
    is_leaf = property(lambda self: self.creator is None)

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
    def detach(self):
        """The same data, cut from the graph (no creator, no grad)."""
        return Tensor._from_op(self.data, False)

    def numpy(self):
        """A NumPy copy of the data (copied from the GPU when needed)."""
        return np.array(backend.to_numpy(self.data), copy=True)

    def item(self):
        """The single value of a one-element tensor, as a Python number."""
        if self.size != 1:
            raise ValueError(f"item() needs a tensor with one element; this one has shape {self.shape}")
        return self.data.item()

    def tolist(self):
        return backend.to_numpy(self.data).tolist()

    def to(self, device):
        """A copy on ``device`` ('cpu' or 'cuda'), still in the graph; self if already there."""
        from .functional.shape import to_device
        return to_device(self, device)

    def cpu(self):
        return self.to("cpu")

    def cuda(self):
        return self.to("cuda")

    def astype(self, dtype):
        from .functional.arithmetic import cast
        return cast(self, dtype)

    def float(self):
        return self.astype(np.float32)

    def double(self):
        return self.astype(np.float64)

    # -- autograd ---------------------------------------------------------------------------------
    def backward(self, grad=None, retain_graph=False):
        """Compute the gradient of this tensor with respect to every leaf that requires grad.

        For a scalar (one element) the seed gradient is 1. For any other shape pass ``grad``, an
        array (or Tensor) of this tensor's shape: the result is then d(Σ self·grad)/d(leaf).
        Gradients accumulate into ``leaf.grad``: zero them between steps.
        """
        from .autograd import run_backward
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
        import weakref
        if self.creator is not None:
            self.creator.retained[self._index] = weakref.ref(self)
        return self

    def zero_grad(self):
        self.grad = None

    # -- operators: each is an op with its own backward ------------------------------------------
    def __add__(self, other):
        from .functional.arithmetic import add
        return add(self, other)

    def __radd__(self, other):
        from .functional.arithmetic import add
        return add(other, self)

    def __sub__(self, other):
        from .functional.arithmetic import sub
        return sub(self, other)

    def __rsub__(self, other):
        from .functional.arithmetic import sub
        return sub(other, self)

    def __mul__(self, other):
        from .functional.arithmetic import mul
        return mul(self, other)

    def __rmul__(self, other):
        from .functional.arithmetic import mul
        return mul(other, self)

    def __truediv__(self, other):
        from .functional.arithmetic import div
        return div(self, other)

    def __rtruediv__(self, other):
        from .functional.arithmetic import div
        return div(other, self)

    def __pow__(self, other):
        from .functional.arithmetic import pow
        return pow(self, other)

    def __rpow__(self, other):
        from .functional.arithmetic import pow
        return pow(other, self)

    def __matmul__(self, other):
        from .functional.arithmetic import matmul
        return matmul(self, other)

    def __rmatmul__(self, other):
        from .functional.arithmetic import matmul
        return matmul(other, self)

    def __neg__(self):
        from .functional.arithmetic import neg
        return neg(self)

    def __pos__(self):
        return self

    def __getitem__(self, index):
        from .functional.shape import getitem
        return getitem(self, index)

    def exp(self):
        from .functional.arithmetic import exp
        return exp(self)

    def log(self):
        from .functional.arithmetic import log
        return log(self)

    def sum(self, axis=None, keepdims=False):
        from .functional.reduction import sum
        return sum(self, axis, keepdims)

    def mean(self, axis=None, keepdims=False):
        from .functional.reduction import mean
        return mean(self, axis, keepdims)

    def max(self, axis=None, keepdims=False):
        from .functional.reduction import max
        return max(self, axis, keepdims)

    def argmax(self, axis=None):
        """Indices of the largest values (an integer Tensor, outside the graph)."""
        xp = backend.get_array_module(self.data)
        return Tensor._from_op(xp.argmax(self.data, axis=axis), False)

    def reshape(self, *shape):
        from .functional.shape import reshape
        return reshape(self, *shape)

    def transpose(self, *axes):
        from .functional.shape import transpose
        return transpose(self, *axes)

    @property
    def T(self):
        return self.transpose()

    def flatten(self, start_dim=0, end_dim=-1):
        from .functional.shape import flatten
        return flatten(self, start_dim, end_dim)
