"""Another right solution of relu_backward, in another style: np.where."""
import numpy as np

EXERCISE = "relu_backward"


def forward(x):
    """x (any shape) -> out (the same shape)."""
    out = np.maximum(x, 0)
    cache = x
    return out, cache


def backward(gout, cache):
    return np.where(cache > 0, gout, 0).astype(gout.dtype)
