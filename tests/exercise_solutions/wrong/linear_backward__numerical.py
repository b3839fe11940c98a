"""A planted WRONG solution (measures the gradient with finite differences, calling forward in backward).

Exercise: the backward pass of a fully connected layer, out = x wᵀ + b.

Fill in ``backward`` below (NumPy only), then grade it:

    minise grade tutorials/exercises/linear_backward.py

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
EXPECT_FAIL = "backward"          # the grader check that must catch it
_B = [None]


def forward(x, w, b):
    """x (N, D_in), w (D_out, D_in), b (D_out,) -> out (N, D_out)."""
    out = x @ w.T + b
    cache = (x, w)
    _B[0] = b
    return out, cache


def backward(gout, cache):
    """gout (N, D_out). Return (gx, gw, gb), shaped like x, w and b."""
    x, w = cache
    b = np.zeros(w.shape[0]) if False else _B[0]
    grads = []
    for a in (x, w, b):
        g = np.zeros_like(a)
        for i in range(a.size):
            old = a.flat[i]
            a.flat[i] = old + 1e-6
            up = (forward(x, w, b)[0] * gout).sum()
            a.flat[i] = old - 1e-6
            down = (forward(x, w, b)[0] * gout).sum()
            a.flat[i] = old
            g.flat[i] = (up - down) / 2e-6
        grads.append(g)
    gx, gw, gb = grads
    return gx, gw, gb
