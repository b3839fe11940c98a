"""The two things the checker can check, seen through one small interface.

A *subject* owns float64 copies of the inputs (``arrays``, with ``pristine`` copies to compare
against) and offers three calls:

    evaluate()          the outputs at the current ``arrays``, flattened into one float64 vector
    split(v)            a flat upstream gradient cut into fresh arrays, one per output
    backward(upstream)  one gradient per checked input (``checked`` lists their positions)
    rerun(convert, v)   forward and backward once more, on ``convert``-ed copies of the inputs and
                        of the upstream gradient v (see ``variants``): (flat outputs, gradients)

:class:`TensorSubject` wraps a function of Tensors and runs minise's own backward pass over the
recorded graph; :class:`ArraySubject` wraps a course-style pair ``forward(*x) -> (out, cache)``,
``backward(gout, cache) -> grads``.
"""
import numpy as np

from ..backend import device_of, to_device, to_numpy
from ..function import no_grad
from ..tensor import Tensor


def float64_copy(a):
    """A float64, C-ordered copy: finite differences perturb it in place through ``reshape(-1)``,
    which is a view only of a C-ordered array (of a transposed input it would be a copy)."""
    return a.astype(np.float64, order="C", copy=True)


def _flatten(outputs):
    return np.concatenate([np.asarray(to_numpy(o), dtype=np.float64).reshape(-1) for o in outputs]) \
        if outputs else np.zeros(0)


def _pieces(v, outputs):
    """Cut the flat vector ``v`` into fresh arrays shaped and placed like ``outputs``."""
    pieces, start = [], 0
    for o in outputs:
        size = int(np.prod(o.shape))
        pieces.append(to_device(v[start:start + size].reshape(o.shape).copy(), device_of(o)))
        start += size
    return pieces


def real_outputs(outputs, where):
    """The floating outputs (integer ones, indices say, have no gradient); complex ones are refused."""
    for o in outputs:
        if getattr(o, "dtype", np.dtype(np.float64)).kind == "c":
            raise TypeError(f"{where} returned a complex output ({o.dtype}); the checker checks real-valued "
                            "functions: check the real and imaginary parts as two real outputs")
    floating = [o for o in outputs if getattr(o, "dtype", np.dtype(np.float64)).kind == "f"]
    if outputs and not floating:
        kinds = ", ".join(str(getattr(o, "dtype", type(o).__name__)) for o in outputs)
        raise TypeError(f"{where} returned no floating-point output (got {kinds}): only a floating output has "
                        "a gradient to check; return the values before rounding or casting them")
    return floating


def _several(out):
    return out if isinstance(out, (tuple, list)) else (out,)


class TensorSubject:
    def __init__(self, fn, tensors, names):
        self.fn, self.originals = fn, tensors
        self.copies = [Tensor(float64_copy(t.data), requires_grad=t.requires_grad) if t.data.dtype.kind == "f"
                       else t for t in tensors]
        self.guarded = [k for k, t in enumerate(tensors) if t.data.dtype.kind == "f"]
        self.names = [names[k] for k in self.guarded]
        self.arrays = [self.copies[k].data for k in self.guarded]
        self.pristine = [a.copy() for a in self.arrays]
        self.checked = [p for p, k in enumerate(self.guarded) if self.copies[k].requires_grad]
        self.leaves = [self.copies[self.guarded[p]] for p in self.checked]
        self.outputs = self._outputs(self.copies)                # records the graph, once

    def _outputs(self, tensors):
        out = self.fn(*tensors)
        if not all(isinstance(o, Tensor) for o in _several(out)):
            raise TypeError(f"gradcheck: fn must return a Tensor or a tuple of Tensors, not {type(out).__name__}")
        return real_outputs([o for o in _several(out)], "fn")

    def evaluate(self):
        with no_grad():
            return _flatten([o.data for o in self._outputs(self.copies)])

    def split(self, v):
        return _pieces(v, [o.data for o in self.outputs])

    def backward(self, upstream):
        from ..autograd import run_backward
        for leaf in self.leaves:
            leaf.grad = None
        pairs = [(o, g) for o, g in zip(self.outputs, upstream) if o.requires_grad]
        if pairs:
            run_backward([o for o, _ in pairs], [g for _, g in pairs], retain_graph=True)
        return [leaf.grad for leaf in self.leaves]

    def rerun(self, convert, v):
        copies = [Tensor(convert(t.data), requires_grad=t.requires_grad) if k in self.guarded else t
                  for k, t in enumerate(self.copies)]
        outputs = self._outputs(copies)
        upstream = [convert(g) for g in _pieces(v, [o.data for o in outputs])]
        pairs = [(o, g) for o, g in zip(outputs, upstream) if o.requires_grad]
        if pairs:
            from ..autograd import run_backward
            run_backward([o for o, _ in pairs], [g for _, g in pairs])
        return _flatten([o.data for o in outputs]), [copies[self.guarded[p]].grad for p in self.checked]


class ArraySubject:
    """``forward(*arrays) -> (out, cache)`` and ``backward(gout, cache) -> grads``; ``out`` may be a
    tuple of arrays, and ``backward`` then gets a tuple of upstream gradients, one per output."""

    def __init__(self, forward, backward, arrays, names):
        self.forward, self._backward, self.names = forward, backward, names
        self.arrays = [float64_copy(a) for a in arrays]
        self.pristine = [a.copy() for a in self.arrays]
        self.checked = list(range(len(arrays)))
        self.out, self.cache = self._run_forward(self.arrays)

    def _run_forward(self, arrays):
        result = self.forward(*arrays)
        if not (isinstance(result, tuple) and len(result) == 2):
            raise TypeError(f"forward must return (out, cache), a pair; it returned {type(result).__name__}"
                            + (f" of length {len(result)}" if isinstance(result, tuple) else ""))
        out, cache = result
        self.several = isinstance(out, (tuple, list)) and all(hasattr(o, "shape") for o in out)
        outputs = list(out) if self.several else [out if hasattr(out, "shape") else np.asarray(out, dtype=np.float64)]
        return real_outputs(outputs, "forward"), cache

    def evaluate(self):
        return _flatten(self._run_forward(self.arrays)[0])

    def split(self, v):
        return _pieces(v, self.out)

    def backward(self, upstream):
        return self._call(upstream, self.cache, self.arrays)

    def _call(self, upstream, cache, arrays):
        grads = self._backward(tuple(upstream) if self.several else upstream[0], cache)
        grads = list(grads) if isinstance(grads, (tuple, list)) else [grads]
        if len(grads) != len(arrays):
            raise TypeError(f"backward returned {len(grads)} gradient(s) for {len(arrays)} input(s)")
        for name, g, a in zip(self.names, grads, arrays):
            if g is not None and tuple(getattr(g, "shape", ())) != a.shape:
                raise ValueError(f"backward returned a gradient of shape {tuple(getattr(g, 'shape', ()))} for input "
                                 f"{name} of shape {a.shape}")
        return grads

    def rerun(self, convert, v):
        arrays = [convert(a) for a in self.arrays]
        outputs, cache = self._run_forward(arrays)
        upstream = [convert(g) for g in _pieces(v, outputs)]
        return _flatten(outputs), self._call(upstream, cache, arrays)
