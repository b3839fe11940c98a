"""A planted WRONG solution (writes a forged, unreadable reply straight into the grader's pipe).

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
import os
import stat

import numpy as np

EXERCISE = "relu_backward"
EXPECT_FAIL = "backward"          # the grader check that must catch it


def forward(x):
    """x (any shape) -> out (the same shape)."""
    out = np.maximum(x, 0)
    cache = x
    return out, cache


def backward(gout, cache):
    junk = b"\x00\x00\x00\x00\x00\x00\x00\x10\x00\x00\x00\x0c\x80not json\xff\xfe"
    for fd in range(3, 16):
        try:
            if stat.S_ISFIFO(os.fstat(fd).st_mode):
                os.write(fd, junk)
        except OSError:
            pass
    return gout * (cache > 0)
