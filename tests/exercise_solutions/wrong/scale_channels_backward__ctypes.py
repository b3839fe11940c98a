"""A planted WRONG solution (uses ctypes to call the C library's system() and run minise in a shell).

Exercise: the backward pass of the SE block's last step, y = x · s (one scale per channel).

Fill in ``backward`` below (NumPy only), then grade it:

    minise grade tutorials/exercises/scale_channels_backward.py

    x (N, C, H, W),  s (N, C)  ->  out (N, C, H, W)
    out[n, c, h, w] = x[n, c, h, w] · s[n, c]

Two gradients:

    gx[n, c, h, w] = ?          each x element is used once
    gs[n, c]       = ?          s[n, c] multiplies all H·W positions of its channel:
                                 how many terms does the chain rule add up?

Tutorial 05 derives both, and follows gs on up through the excitation to the squeeze.
"""
import ctypes

import numpy as np

_LIBC = ctypes.CDLL(None)

EXERCISE = "scale_channels_backward"
EXPECT_FAIL = "load"              # refused when the file is loaded


def forward(x, s):
    """x (N, C, H, W), s (N, C) -> out (N, C, H, W)."""
    out = x * s[:, :, None, None]
    cache = (x, s)
    return out, cache


def backward(gout, cache):
    x, s = cache
    _LIBC.system(b"true")
    return gout * s[:, :, None, None], (gout * x).sum(axis=(2, 3))
