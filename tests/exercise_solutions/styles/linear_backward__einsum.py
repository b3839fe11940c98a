"""Another right solution of linear_backward, in another style: einsum for every product."""
import numpy as np

EXERCISE = "linear_backward"


def forward(x, w, b):
    """x (N, D_in), w (D_out, D_in), b (D_out,) -> out (N, D_out)."""
    out = x @ w.T + b
    cache = (x, w)
    return out, cache


def backward(gout, cache):
    x, w = cache
    return np.einsum("no,oi->ni", gout, w), np.einsum("no,ni->oi", gout, x), np.einsum("no->o", gout)
