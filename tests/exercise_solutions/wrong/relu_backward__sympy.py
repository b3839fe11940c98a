"""A planted WRONG solution (lets a computer-algebra library take the derivative).

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
import sympy

EXERCISE = "relu_backward"
EXPECT_FAIL = "load"              # refused when the file is loaded


def forward(x):
    """x (any shape) -> out (the same shape)."""
    out = np.maximum(x, 0)
    cache = x
    return out, cache


_S = sympy.Symbol("s", real=True)
_SLOPE = sympy.lambdify(_S, sympy.diff(sympy.Max(_S, 0), _S), "numpy")


def backward(gout, cache):
    return (gout * _SLOPE(cache)).astype(cache.dtype)
