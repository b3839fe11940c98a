"""Exercise: the backward pass of the SE block's last step, y = x · s (one scale per channel).

Fill in ``backward`` below (NumPy only), then grade it:

    minise grade scale_channels_backward.py

    x (N, C, H, W),  s (N, C)  ->  out (N, C, H, W)
    out[n, c, h, w] = x[n, c, h, w] · s[n, c]

Two gradients:

    gx[n, c, h, w] = ?          each x element is used once
    gs[n, c]       = ?          s[n, c] multiplies all H·W positions of its channel:
                                 how many terms does the chain rule add up?

Tutorial 05 derives both, and follows gs on up through the excitation to the squeeze.
"""
import numpy as np

EXERCISE = "scale_channels_backward"


def forward(x, s):
    """x (N, C, H, W), s (N, C) -> out (N, C, H, W)."""
    out = x * s[:, :, None, None]
    cache = (x, s)
    return out, cache


def backward(gout, cache):
    """gout (N, C, H, W). Return (gx, gs), shaped like x and s, of their dtype."""
    x, s = cache
    raise NotImplementedError("derive gx and gs and write them here")
