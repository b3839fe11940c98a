"""In-place updates of a tensor's data, outside the graph, as PyTorch writes them.

    with minise.no_grad():
        for p in model.parameters():
            p -= lr * p.grad                 # the Parameter itself changes: the model sees it
    w.zero_(); w.fill_(0.5); w.copy_(other); w.uniform_(-1, 1); x[x < 0] = 0

minise records no in-place op in the graph, so these change ``.data`` (the array, in its memory)
only where no gradient can depend on it:

* under ``minise.no_grad()`` (an optimizer step by hand, an initialisation), or
* on a tensor that neither requires grad nor was made by a recorded op (data, counters).

Elsewhere the rules are PyTorch's: a leaf that requires grad refuses an in-place change while the
graph is recorded (``RuntimeError``, as in PyTorch); for a tensor inside the graph, ``x += y``
records ``x = x + y`` (a new tensor, bound to the name x), and the methods (``x.add_(y)``) refuse,
naming the out-of-place op to write instead. The result keeps the tensor's dtype, and its shape:
``x += y`` broadcasts y to x, never x to y. Python's ``x -= y`` on a Tensor without these methods
would silently bind x to a new tensor and leave a Parameter unchanged; here it changes it.

One hazard stays, as with ``p.data -= ...``: an array an op saved for a backward still to come
sees the change (PyTorch detects this; minise does not). Change data after ``backward()``.
"""
import numpy as np

from . import backend, rng
from .function import is_grad_enabled
from .tensor import Tensor

OUT_OF_PLACE = {"add_": "x = x + y", "sub_": "x = x - y", "mul_": "x = x * y", "div_": "x = x / y",
                "pow_": "x = x ** y", "zero_": "x = minise.zeros_like(x)", "fill_": "x = minise.full_like(x, v)",
                "copy_": "x = y.clone()", "uniform_": "x = minise.rand_like(x)", "normal_": "x = minise.randn_like(x)",
                "clamp_": "x = x.relu() for clamp(min=0)", "__setitem__": "a mask: x = x * (x >= 0)",
                "+=": "x = x + y", "-=": "x = x - y", "*=": "x = x * y", "/=": "x = x / y"}


def _writable(tensor, what, other=None):
    """Refuse an in-place change the graph would miss; say what to write instead."""
    if not is_grad_enabled():
        return
    if tensor.requires_grad and tensor.creator is None:
        raise RuntimeError(f"{what}: a leaf tensor that requires grad cannot change in place while the graph is "
                           "recorded (as in PyTorch); do it under `with minise.no_grad():` (an optimizer step "
                           "by hand), or use minise.optim")
    if tensor.creator is not None or (isinstance(other, Tensor) and other.requires_grad):
        raise RuntimeError(f"{what}: minise records no in-place op in the graph, and this one would be part of it; "
                           f"write the out-of-place op instead ({OUT_OF_PLACE.get(what, 'x = f(x)')})")


def _operand(tensor, other, what):
    """``other`` as an array (or a Python number) that fits ``tensor`` in place."""
    if isinstance(other, Tensor):
        other = other.data
    elif not isinstance(other, (int, float, bool, np.generic, np.ndarray)) and backend.device_of(other) != "cuda":
        raise TypeError(f"{what}: expected a Tensor, an array or a number, got {type(other).__name__}")
    backend.check_same_device([tensor.data, other], what)
    shape = tuple(getattr(other, "shape", ()))
    try:
        fits = np.broadcast_shapes(tensor.shape, shape) == tensor.shape
    except ValueError:
        fits = False
    if not fits:
        raise ValueError(f"{what}: an operand of shape {shape} does not broadcast to this tensor's shape "
                         f"{tensor.shape}, which an in-place change keeps")
    return other


def _update(ufunc_name, what):
    def method(self, other):
        _writable(self, what, other)
        other = _operand(self, other, what)
        xp = backend.get_array_module(self.data)
        try:
            getattr(xp, ufunc_name)(self.data, other, out=self.data, casting="same_kind")
        except TypeError as error:          # NumPy's UFuncTypeError: the result cannot stay this dtype
            raise TypeError(f"{what}: the result cannot be stored in this tensor's dtype {self.dtype} ({error}); "
                            "make it a floating tensor first, e.g. x = x.float()") from None
        return self
    method.__name__ = what
    method.__doc__ = f"``{OUT_OF_PLACE[what]}`` in place, on the data (see minise.tensor_inplace)."
    return method


def _augmented(ufunc_name, what, binary):
    """``x += y``: in place where allowed; inside the graph, the recorded op, bound to the name."""
    in_place = _update(ufunc_name, what)

    def method(self, other):
        other_needs_grad = isinstance(other, Tensor) and other.requires_grad
        if is_grad_enabled() and (self.creator is not None or (other_needs_grad and not self.requires_grad)):
            return getattr(self, binary)(other)                  # recorded: x = x + y
        return in_place(self, other)
    method.__name__ = binary.replace("__", "__i", 1)
    return method


def zero_(self):
    """Set every element to 0, in place."""
    _writable(self, "zero_")
    self.data[...] = 0
    return self


def fill_(self, value):
    """Set every element to ``value`` (a number, or a one-element tensor), in place."""
    _writable(self, "fill_", value)
    self.data[...] = value.item() if isinstance(value, Tensor) else value
    return self


def copy_(self, source):
    """Copy ``source`` (broadcast to this tensor's shape) into this tensor's memory, in place; from
    either device, converting its dtype (as PyTorch's ``copy_``)."""
    _writable(self, "copy_", source)
    if isinstance(source, Tensor):
        source = source.data
    if backend.device_of(source) != self.device and hasattr(source, "shape"):
        source = backend.to_device(source, self.device)
    source = _operand(self, source, "copy_")
    xp = backend.get_array_module(self.data)
    xp.copyto(self.data, source, casting="unsafe")      # copy_ converts, as in PyTorch
    return self


def _draw(what, draw):
    def method(self, *args):
        _writable(self, what)
        host = draw(rng.generator(), self.shape, *args).astype(self.dtype)
        self.data[...] = host if backend.device_of(self.data) == "cpu" else backend.to_device(host, "cuda")
        return self
    method.__name__ = what
    return method


uniform_ = _draw("uniform_", lambda g, shape, a=0.0, b=1.0: g.uniform(a, b, shape))
uniform_.__doc__ = "Fill with U(a, b) numbers from minise's generator, in place (default a=0, b=1)."
normal_ = _draw("normal_", lambda g, shape, mean=0.0, std=1.0: g.normal(mean, std, shape))
normal_.__doc__ = "Fill with N(mean, std²) numbers from minise's generator, in place (default 0, 1)."


def clamp_(self, min=None, max=None):
    """Clip every element into [min, max], in place."""
    _writable(self, "clamp_")
    backend.get_array_module(self.data).clip(self.data, min, max, out=self.data)
    return self


def setitem(self, index, value):
    """``x[index] = value``, in place (``x[x < 0] = 0``)."""
    _writable(self, "__setitem__", value)
    if isinstance(index, Tensor):
        index = index.data
    elif isinstance(index, tuple):
        index = tuple(i.data if isinstance(i, Tensor) else i for i in index)
    self.data[index] = value.data if isinstance(value, Tensor) else value


METHODS = {
    "__iadd__": _augmented("add", "+=", "__add__"), "__isub__": _augmented("subtract", "-=", "__sub__"),
    "__imul__": _augmented("multiply", "*=", "__mul__"), "__itruediv__": _augmented("true_divide", "/=", "__truediv__"),
    "add_": _update("add", "add_"), "sub_": _update("subtract", "sub_"), "mul_": _update("multiply", "mul_"),
    "div_": _update("true_divide", "div_"), "pow_": _update("power", "pow_"),
    "zero_": zero_, "fill_": fill_, "copy_": copy_, "uniform_": uniform_, "normal_": normal_, "clamp_": clamp_,
    "__setitem__": setitem,
}


def install(tensor_class):
    """Put the in-place methods above on ``tensor_class`` (Tensor)."""
    for name, function in METHODS.items():
        setattr(tensor_class, name, function)
