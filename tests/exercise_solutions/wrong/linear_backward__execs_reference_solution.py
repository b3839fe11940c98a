"""A planted WRONG solution (reads the tests' reference solution and runs its backward).

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
import os

import numpy as np

_HERE = os.path.dirname(os.path.abspath(__file__))
_NAMESPACE = {}
with open(os.path.join(os.path.dirname(_HERE), "linear_backward.py"), encoding="utf-8") as _file:
    exec(compile(_file.read(), "reference", "exec"), _NAMESPACE)

EXERCISE = "linear_backward"
EXPECT_FAIL = "load"              # refused when the file is loaded


def forward(x, w, b):
    """x (N, D_in), w (D_out, D_in), b (D_out,) -> out (N, D_out)."""
    out = x @ w.T + b
    cache = (x, w)
    return out, cache


backward = _NAMESPACE["backward"]
