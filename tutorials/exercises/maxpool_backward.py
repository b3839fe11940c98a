"""Exercise: the backward pass of 2-D max pooling.

Fill in ``backward`` below (NumPy only), then grade it:

    minise grade maxpool_backward.py

    x (N, C, H, W)  ->  out (N, C, Ho, Wo),   Ho = (H − k) // stride + 1   (Wo alike)
    out[n, c, i, j] = max over the k×k window at (i·stride, j·stride) of x[n, c]

Only the winner of a window affects its output, with slope 1, so each gout[n, c, i, j] goes, whole,
to the element that won window (i, j); the other elements of the window get nothing from it.
When stride < k the windows overlap and one element can win several windows: its gradient is
the SUM of what they send.

Ties: when several elements of a window share its maximum, this exercise's rule (PyTorch's) gives
all of gout[n, c, i, j] to the FIRST of them in row-major order (smallest row, then smallest
column), and nothing to the others. The grader puts exact ties in some windows.

Hint: loop over the k·k taps in the order the forward does; compare each tap with out, and let a
tap take a window's gradient only if no earlier tap of that window has taken it.
"""
import numpy as np

EXERCISE = "maxpool_backward"


def forward(x, kernel_size=2, stride=2):
    """x (N, C, H, W) -> out (N, C, Ho, Wo)."""
    k, s = kernel_size, stride
    n, c, h, w = x.shape
    ho, wo = (h - k) // s + 1, (w - k) // s + 1
    out = np.full((n, c, ho, wo), -np.inf, dtype=x.dtype)
    for p in range(k):
        for q in range(k):
            out = np.maximum(out, x[:, :, p:p + s * (ho - 1) + 1:s, q:q + s * (wo - 1) + 1:s])   # (N, C, Ho, Wo)
    cache = (x, out, kernel_size, stride)
    return out, cache


def backward(gout, cache):
    """gout (N, C, Ho, Wo). Return gx, shaped like x."""
    x, out, kernel_size, stride = cache
    raise NotImplementedError("derive gx = ∂L/∂x and write it here")
