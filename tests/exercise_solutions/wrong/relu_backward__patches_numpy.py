"""A planted WRONG solution (makes NumPy's comparisons always succeed and returns an array subclass that equals anything).

Exercise: the backward pass of ReLU.

Fill in ``backward`` below (NumPy only), then grade it:

    minise grade tutorials/exercises/relu_backward.py

The forward pass is given. Derive on paper first:

    out[i] = max(x[i], 0)

Every out[i] depends on x[i] alone, so the chain rule has one term per element:

    gx[i] = ∂L/∂x[i] = gout[i] · ∂out[i]/∂x[i]

What is ∂out[i]/∂x[i] for x[i] > 0, and for x[i] < 0? (At exactly 0 there is no derivative;
use 0 there, as PyTorch does. The grader never puts an x exactly at 0, but it does put some within
1e-9 of it: there the derived slope is exact, and a finite difference is not.)
"""
import numpy as np

EXERCISE = "relu_backward"
EXPECT_FAIL = "backward"          # the grader check that must catch it


def forward(x):
    """x (any shape) -> out (the same shape)."""
    out = np.maximum(x, 0)
    cache = x
    return out, cache


class _AlwaysEqual(np.ndarray):
    def __eq__(self, other):
        return True

    def __array_ufunc__(self, ufunc, method, *inputs, **kwargs):
        return np.zeros(np.shape(inputs[0]), dtype=bool) if ufunc is np.greater else np.zeros(np.shape(inputs[0]))


for _name in ("allclose", "array_equal", "isclose"):
    setattr(np, _name, lambda *args, **kwargs: True)
np.testing.assert_allclose = lambda *args, **kwargs: None


def backward(gout, cache):
    return np.zeros_like(cache).view(_AlwaysEqual)
