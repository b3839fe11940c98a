"""One planted bug: a forward, a wrong backward, the right one, and inputs that keep off kinks."""
import numpy as np

from ...function import Function


class Bug:
    """name   short identifier;  kind  what sort of mistake it is (sign, missing term, ...)
    forward(*inputs) -> (y, cache);  wrong / right: backward(gy, cache) -> gradients
    inputs  dict name -> float64 array"""

    def __init__(self, name, kind, forward, wrong, right, **inputs):
        self.name, self.kind = name, kind
        self.forward, self.wrong, self.right, self.inputs = forward, wrong, right, inputs

    def fresh_inputs(self):
        """Copies of the inputs: a bug may write into what it is given."""
        return {k: v.copy() for k, v in self.inputs.items()}

    def function(self, backward):
        """A minise.Function running ``forward`` and the given backward (``bug.wrong`` or
        ``bug.right``), for :func:`minise.gradcheck`: ``bug.function(bug.wrong)()(x)``."""
        forward = self.forward

        class Planted(Function):
            def forward(self, *arrays):
                y, cache = forward(*arrays)
                self.save_for_backward(cache=cache)
                return np.asarray(y, dtype=np.float64)

            def backward(self, gy):
                return tuple(backward(gy, self.saved.cache))
        Planted.__name__ = f"{self.name}Function"
        return Planted

    def __repr__(self):
        return f"Bug({self.name!r}, {self.kind!r})"


def rng(seed):
    return np.random.default_rng(seed)


def uniform(seed, shape, low=-2.0, high=2.0):
    return rng(seed).uniform(low, high, shape)


def away_from_zero(seed, shape, low=0.3, high=2.0):
    """Values of either sign, at least ``low`` from 0 (no kink of ReLU or |x| in reach)."""
    r = rng(seed)
    return r.uniform(low, high, shape) * r.choice([-1.0, 1.0], shape)


def keep(*arrays):
    """The cache of a layer that needs its inputs back."""
    return arrays if len(arrays) > 1 else arrays[0]
