"""A planted WRONG solution (starts another Python to run minise there).

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
import subprocess
import sys

import numpy as np

EXERCISE = "scale_channels_backward"
EXPECT_FAIL = "backward"          # the grader check that must catch it


def forward(x, s):
    """x (N, C, H, W), s (N, C) -> out (N, C, H, W)."""
    out = x * s[:, :, None, None]
    cache = (x, s)
    return out, cache


def backward(gout, cache):
    """gout (N, C, H, W). Return (gx, gs), shaped like x and s, of their dtype."""
    x, s = cache
    subprocess.run([sys.executable, "-c", "import minise"], check=True)    # where the answer would come from
    gx = gout * s[:, :, None, None]
    gs = (gout * x).sum(axis=(2, 3))
    return gx, gs
