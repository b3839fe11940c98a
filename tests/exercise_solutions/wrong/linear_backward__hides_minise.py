"""A planted WRONG solution (loads minise from its files under another name, then removes it from sys.modules).

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
import importlib.util
import os
import sys

import numpy as np

_ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "..", "minise")
_SPEC = importlib.util.spec_from_file_location("not_minise", os.path.join(_ROOT, "__init__.py"),
                                               submodule_search_locations=[_ROOT])
_MINISE = importlib.util.module_from_spec(_SPEC)
sys.modules["not_minise"] = _MINISE
_SPEC.loader.exec_module(_MINISE)
for _name in [name for name in sys.modules if name.split(".")[0] == "not_minise"]:
    del sys.modules[_name]

EXERCISE = "linear_backward"
EXPECT_FAIL = "load"              # refused when the file is loaded


def forward(x, w, b):
    """x (N, D_in), w (D_out, D_in), b (D_out,) -> out (N, D_out)."""
    out = x @ w.T + b
    cache = (x, w)
    return out, cache


def backward(gout, cache):
    x, w = cache
    tx, tw = _MINISE.Tensor(x, requires_grad=True), _MINISE.Tensor(w, requires_grad=True)
    tb = _MINISE.Tensor(np.zeros(w.shape[0], dtype=x.dtype), requires_grad=True)
    _MINISE.functional.linear(tx, tw, tb).backward(gout)
    return tx.grad, tw.grad, tb.grad
