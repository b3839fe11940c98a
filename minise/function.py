"""The Function base class: how an op joins the autograd graph.

An op is a subclass with two methods that work on raw arrays (numpy or cupy), never on Tensors::

    class Cube(minise.Function):
        def forward(self, a):                 # arrays in, array out
            self.save_for_backward(a=a)       # what backward will need, by name
            return a ** 3
        def backward(self, gy):               # gradient of the output in,
            a = self.saved.a                  # one gradient per input out
            return (3 * a ** 2 * gy,)

    y = Cube()(x)                             # call an instance on Tensors: the graph is recorded

Calling an instance (``__call__``) unwraps the Tensors, runs ``forward``, wraps the result and, when
gradients are wanted, remembers where each input came from (its "edge", see :mod:`minise.autograd`).
``backward`` is later called by that engine. Hyper-parameters (stride, dim, ...) go to ``__init__``.

Conventions every op follows:

* ``self.needs_input_grad`` (one bool per input) is set before ``forward`` runs, so an op can skip
  saving or computing what no gradient needs.
* What backward needs is kept one way: ``self.save_for_backward(name=value, ...)`` in forward, read
  back as ``self.saved.name`` (or unpacked, ``x, s = self.saved``, in the order saved). Saved values
  are released after backward (or at once, when no gradient is wanted), so a graph keeps only what
  it must. Hyper-parameters (stride, dim, ...) are set in ``__init__`` and never change.
* An input may be None (an absent bias): ``forward`` receives None and ``backward`` returns None.
* An instance is one node of the graph: it records one call. Calling it again once it has
  recorded one is refused (the second call would overwrite what the first one's backward needs).
"""
import numpy as np

from .autograd import edge_of
from .backend import check_same_device, get_array_module
from .tensor import Tensor

_grad_enabled = True


def is_grad_enabled():
    """True unless inside ``no_grad()``."""
    return _grad_enabled


class no_grad:
    """Context manager (or decorator) that stops recording the graph::

        with minise.no_grad():
            logits = model(x)        # no graph, no saved arrays: evaluation and optimizer steps
    """

    def __enter__(self):
        global _grad_enabled
        self.previous, _grad_enabled = _grad_enabled, False
        return self

    def __exit__(self, *exc):
        global _grad_enabled
        _grad_enabled = self.previous
        return False

    def _again(self):
        """A fresh context of the same kind and mode, for each call of a decorated function."""
        return type(self)()

    def __call__(self, func):
        def wrapper(*args, **kwargs):
            with self._again():
                return func(*args, **kwargs)
        wrapper.__name__, wrapper.__doc__ = func.__name__, func.__doc__
        return wrapper


class set_grad_enabled(no_grad):
    """Record the graph or not, as ``mode`` says: ``minise.set_grad_enabled(False)`` switches recording
    off from here on; ``with minise.set_grad_enabled(is_training): ...`` for one block (as in PyTorch)."""

    def __init__(self, mode):
        global _grad_enabled
        if not isinstance(mode, bool):
            raise TypeError(f"set_grad_enabled(mode) takes a bool, got {type(mode).__name__}")
        self.previous, self.mode = _grad_enabled, mode
        _grad_enabled = mode

    def __enter__(self):                   # the mode was set already, by __init__ (as in PyTorch)
        return self

    def _again(self):
        return set_grad_enabled(self.mode)


class enable_grad(no_grad):
    """Context manager (or decorator) that records the graph again, inside a ``no_grad()`` block."""

    def __enter__(self):
        global _grad_enabled
        self.previous, _grad_enabled = _grad_enabled, True
        return self


class inference_mode(no_grad):
    """PyTorch's ``inference_mode()``: in minise the same as ``no_grad()`` (``inference_mode(False)``
    records as usual)."""

    def __init__(self, mode=True):
        self.mode = mode

    def __enter__(self):
        global _grad_enabled
        self.previous = _grad_enabled
        _grad_enabled = _grad_enabled and not self.mode
        return self

    def _again(self):
        return inference_mode(self.mode)


def _as_input(x):
    """Tensors pass; arrays and numbers become constant Tensors; None stays None."""
    if x is None or isinstance(x, Tensor):
        return x
    if isinstance(x, (list, tuple, str)):
        raise TypeError(f"an op input must be a Tensor, an array or a number, not {type(x).__name__}")
    return Tensor(x)


class Saved:
    """What an op's forward kept for its backward: named values, read as attributes or unpacked
    in the order they were saved (``x, s = self.saved``)."""

    def __init__(self, **values):
        self.__dict__.update(values)

    def __iter__(self):
        return iter(self.__dict__.values())

    def __repr__(self):
        return "Saved(" + ", ".join(self.__dict__) + ")"


class Function:
    """Base class of every op; subclasses define ``forward`` and ``backward`` on arrays."""

    saved = None
    needs_input_grad = ()
    _freed = False
    retained = None             # output index -> weakref of a tensor that asked for retain_grad()
    hooks = None                # output index -> {handle id: hook} from Tensor.register_hook

    def save_for_backward(self, **values):
        """Keep ``values`` (arrays, shapes, masks) for backward, by name: ``self.saved.<name>``."""
        self.saved = Saved(**values)

    def forward(self, *arrays):
        raise NotImplementedError(f"{type(self).__name__} must define forward(self, *arrays)")

    def backward(self, gy):
        raise NotImplementedError(f"{type(self).__name__} must define backward(self, gy)")

    def __call__(self, *inputs):
        if self.__dict__.get("edges") is not None:
            raise RuntimeError(f"this {type(self).__name__} instance already recorded a call in the graph, and a "
                               "second call would overwrite what its backward needs; make a new instance for "
                               f"every call: {type(self).__name__}(...)(x), not op = {type(self).__name__}(...) "
                               "used twice")
        tensors = [_as_input(x) for x in inputs]
        arrays = [None if t is None else t.data for t in tensors]
        check_same_device(arrays, f"{type(self).__name__}")
        record = _grad_enabled and any(t is not None and t.requires_grad for t in tensors)
        self.needs_input_grad = tuple(record and t is not None and t.requires_grad for t in tensors)

        outputs = self.forward(*arrays)
        several = isinstance(outputs, tuple)
        outputs = outputs if several else (outputs,)
        results = tuple(Tensor._from_op(_as_array(y, arrays), record) for y in outputs)

        if record:
            self.edges = tuple(edge_of(t) for t in tensors)
            self.input_shapes = tuple(None if t is None else t.shape for t in tensors)
            self.outputs_meta = tuple((r.shape, r.dtype) for r in results)
            for index, r in enumerate(results):
                r.creator, r._index = self, index
        else:
            self.saved = None
        return results if several else results[0]

    def __repr__(self):
        return f"<{type(self).__name__}>"


def _as_array(y, inputs):
    """NumPy reductions return scalars (np.float64); the engine wants 0-d arrays."""
    if isinstance(y, np.generic) or isinstance(y, (int, float)):
        xp = get_array_module(*inputs)
        return xp.asarray(y)
    return y
