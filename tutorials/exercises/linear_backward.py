"""Exercise: the backward pass of a fully connected layer, out = x wᵀ + b.

Fill in ``backward`` below (NumPy only), then grade it:

    minise grade linear_backward.py

Shapes (PyTorch's layout: one row of w per output unit):

    x (N, D_in),  w (D_out, D_in),  b (D_out,)  ->  out (N, D_out)
    out[n, o] = Σ_i x[n, i] · w[o, i] + b[o]

Derive each gradient element by element, then write it as a matrix product:

    gx[n, i] = Σ_o gout[n, o] · ∂out[n, o]/∂x[n, i]     = ?
    gw[o, i] = Σ_n gout[n, o] · ∂out[n, o]/∂w[o, i]     = ?   (w is used by every sample n)
    gb[o]    = Σ_n gout[n, o]                           (b is added to every row)

Check the shapes of your products: each gradient has its input's shape.
"""
import numpy as np

EXERCISE = "linear_backward"


def forward(x, w, b):
    """x (N, D_in), w (D_out, D_in), b (D_out,) -> out (N, D_out)."""
    out = x @ w.T + b
    cache = (x, w)
    return out, cache


def backward(gout, cache):
    """gout (N, D_out). Return (gx, gw, gb), shaped like x, w and b."""
    x, w = cache
    raise NotImplementedError("derive gx, gw and gb and write them here")
