"""A planted WRONG solution (a central difference with a step relative to each element: right everywhere but exactly at 0)."""
import numpy as np

EXERCISE = "relu_backward"
EXPECT_FAIL = "kinks"          # the grader check that must catch it


def forward(x):
    """x (any shape) -> out (the same shape)."""
    out = np.maximum(x, 0)
    cache = x
    return out, cache


def backward(gout, cache):
    x = cache.astype(np.float64)
    h = np.maximum(np.abs(x) * 1e-6, 1e-300)
    slope = (np.maximum(x + h, 0) - np.maximum(x - h, 0)) / (2 * h)
    return (gout * slope).astype(cache.dtype)
