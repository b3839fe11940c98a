"""A planted WRONG solution (measures the gradient a column at a time: exact, but thousands of forwards on the large case).

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
EXPECT_FAIL = "large input"       # the grader check that must catch it


def forward(x, w, b):
    """x (N, D_in), w (D_out, D_in), b (D_out,) -> out (N, D_out)."""
    out = x @ w.T + b
    cache = (x, w)
    return out, cache


_forward = forward   # a private reference: these calls are not counted as calls of forward()



def backward(gout, cache):
    x, w = cache
    dtype = x.dtype
    x, w, g = x.astype(np.float64), w.astype(np.float64), gout.astype(np.float64)
    b = np.zeros(w.shape[0])
    gx, gw = np.zeros_like(x), np.zeros_like(w)
    for i in range(x.shape[1]):                     # out is linear in x and in w: a step of 1 is exact
        step = np.zeros_like(x)
        step[:, i] = 1
        gx[:, i] = (g * (_forward(x + step, w, b)[0] - _forward(x - step, w, b)[0]) / 2).sum(axis=1)
        step = np.zeros_like(w)
        step[:, i] = 1
        gw[:, i] = (g * (_forward(x, w + step, b)[0] - _forward(x, w - step, b)[0]) / 2).sum(axis=0)
    return gx.astype(dtype), gw.astype(dtype), g.sum(axis=0).astype(dtype)
