"""A planted WRONG solution (the mask x >= 0: slope 1 at exactly 0, where the convention says 0)."""
import numpy as np

EXERCISE = "relu_backward"
EXPECT_FAIL = "kinks"          # the grader check that must catch it


def forward(x):
    """x (any shape) -> out (the same shape)."""
    out = np.maximum(x, 0)
    cache = x
    return out, cache


def backward(gout, cache):
    return gout * (cache >= 0)
