"""A planted WRONG solution (a one-sided difference of step 2**-40, written out without calling forward: right everywhere but at 0)."""
import numpy as np

EXERCISE = "relu_backward"
EXPECT_FAIL = "kinks"          # the grader check that must catch it


def forward(x):
    """x (any shape) -> out (the same shape)."""
    out = np.maximum(x, 0)
    cache = x
    return out, cache


def backward(gout, cache):
    x, h = cache, 2.0 ** -40
    slope = (np.maximum(x + h, 0) - np.maximum(x, 0)) / h
    return (gout * slope).astype(cache.dtype)
