"""Exercise: the backward pass of ReLU.

Fill in ``backward`` below (NumPy only), then grade it:

    minise grade relu_backward.py

The forward pass is given. Derive on paper first:

    out[i] = max(x[i], 0)

Every out[i] depends on x[i] alone, so the chain rule has one term per element:

    gx[i] = ∂L/∂x[i] = gout[i] · ∂out[i]/∂x[i]

What is ∂out[i]/∂x[i] for x[i] > 0, and for x[i] < 0?

At exactly x[i] = 0 there is no derivative. This exercise's convention (PyTorch's): the slope at
0 is 0, so gx[i] = 0 there. The grader puts some x exactly at 0, and some a hair away from it.
"""
import numpy as np

EXERCISE = "relu_backward"


def forward(x):
    """x (any shape) -> out (the same shape)."""
    out = np.maximum(x, 0)
    cache = x
    return out, cache


def backward(gout, cache):
    """gout = ∂L/∂out, shaped like out. Return gx = ∂L/∂x: x's shape and x's dtype.

    Do not change gout or x in place: other layers may still need them.
    """
    x = cache
    raise NotImplementedError("derive gx = ∂L/∂x and write it here")
