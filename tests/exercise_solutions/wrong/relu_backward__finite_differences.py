"""A planted WRONG solution (measures every slope at once with two forwards; wrong next to the kink).

Exercise: the backward pass of ReLU.

Fill in ``backward`` below (NumPy only), then grade it:

    minise grade tutorials/exercises/relu_backward.py

The forward pass is given. Derive on paper first:

    out[i] = max(x[i], 0)

Every out[i] depends on x[i] alone, so the chain rule has one term per element:

    gx[i] = ∂L/∂x[i] = gout[i] · ∂out[i]/∂x[i]

What is ∂out[i]/∂x[i] for x[i] > 0, and for x[i] < 0? (At exactly 0 there is no derivative;
use 0 there, as PyTorch does. The grader keeps x away from 0.)
"""
import numpy as np

EXERCISE = "relu_backward"
EXPECT_FAIL = "backward"          # the grader check that must catch it


def forward(x):
    """x (any shape) -> out (the same shape)."""
    out = np.maximum(x, 0)
    cache = x
    return out, cache


_forward = forward   # a private reference: these calls are not counted as calls of forward()



def backward(gout, cache):
    x = cache.astype(np.float64)
    h = 1e-3                                        # exact for a piecewise-linear function, away from its kink
    slope = (_forward(x + h)[0] - _forward(x - h)[0]) / (2 * h)
    return (gout * slope).astype(cache.dtype)
