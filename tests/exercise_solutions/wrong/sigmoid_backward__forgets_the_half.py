"""A planted WRONG solution (d tanh(x/2)/dx without the chain rule's 1/2, and σ' taken as 1 − t²)."""
import numpy as np

EXERCISE = "sigmoid_backward"
EXPECT_FAIL = "backward"          # the grader check that must catch it


def forward(x):
    """x (any shape) -> out (the same shape)."""
    t = np.tanh(0.5 * x)
    out = 0.5 * (1 + t)
    cache = t
    return out, cache


def backward(gout, cache):
    """gout (x's shape). Return gx, shaped like x."""
    t = cache
    return gout * (1 - t * t)
