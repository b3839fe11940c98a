"""The two things the checker can check, seen through one small interface.

A *subject* owns float64 copies of the inputs (``arrays``, with ``pristine`` copies to compare
against) and offers three calls:

    evaluate()          the outputs at the current ``arrays``, flattened into one float64 vector
    split(v)            a flat upstream gradient cut into fresh arrays, one per output
    backward(upstream)  one gradient per checked input (``checked`` lists their positions)

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


class TensorSubject:
    def __init__(self, fn, tensors, names):
        self.fn = fn
        self.copies = [Tensor(float64_copy(t.data), requires_grad=t.requires_grad) if t.data.dtype.kind == "f"
                       else t for t in tensors]
        guarded = [k for k, t in enumerate(tensors) if t.data.dtype.kind == "f"]
        self.names = [names[k] for k in guarded]
        self.arrays = [self.copies[k].data for k in guarded]
        self.pristine = [a.copy() for a in self.arrays]
        self.checked = [p for p, k in enumerate(guarded) if self.copies[k].requires_grad]
        self.leaves = [self.copies[guarded[p]] for p in self.checked]
        self.outputs = self._outputs()                          # records the graph, once

    def _outputs(self):
        out = self.fn(*self.copies)
        return [o for o in (out if isinstance(out, (tuple, list)) else (out,)) if o.dtype.kind == "f"]

    def evaluate(self):
        with no_grad():
            return _flatten([o.data for o in self._outputs()])

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


class ArraySubject:
    def __init__(self, forward, backward, arrays, names):
        self.forward, self._backward, self.names = forward, backward, names
        self.arrays = [float64_copy(a) for a in arrays]
        self.pristine = [a.copy() for a in self.arrays]
        self.checked = list(range(len(arrays)))
        out, self.cache = forward(*self.arrays)
        self.out = out if hasattr(out, "shape") else np.asarray(out, dtype=np.float64)

    def evaluate(self):
        return _flatten([self.forward(*self.arrays)[0]])

    def split(self, v):
        return _pieces(v, [self.out])

    def backward(self, upstream):
        grads = self._backward(upstream[0], self.cache)
        grads = list(grads) if isinstance(grads, (tuple, list)) else [grads]
        if len(grads) != len(self.arrays):
            raise TypeError(f"backward returned {len(grads)} gradient(s) for {len(self.arrays)} input(s)")
        for name, g, a in zip(self.names, grads, self.arrays):
            if g is not None and tuple(g.shape) != a.shape:
                raise ValueError(f"backward returned a gradient of shape {tuple(g.shape)} for input {name} "
                                 f"of shape {a.shape}")
        return grads
