"""A planted WRONG solution (loads minise's conv code from its file, under another name).

Exercise: the backward pass of a 2-D convolution (with stride and zero padding).

Fill in ``backward`` below (NumPy only), then grade it:

    minise grade tutorials/exercises/conv2d_backward.py

    x (N, C, H, W),  w (F, C, kH, kW),  b (F,)  ->  out (N, F, Ho, Wo)
    x_pad = x with `padding` rows/columns of zeros on each side
    out[n, f, i, j] = b[f] + Σ_{c, p, q} x_pad[n, c, i·stride + p, j·stride + q] · w[f, c, p, q]
    Ho = (H + 2·padding − kH) // stride + 1            (Wo alike)

The forward below loops over the kernel's taps (p, q): for each one, the strided slice of x_pad it
reads is an (N, C, Ho, Wo) array. Mirror it:

    gb[f]          = Σ_{n,i,j} gout[n, f, i, j]
    gw[f, c, p, q] = Σ_{n,i,j} gout[n, f, i, j] · (that slice for tap p, q)[n, c, i, j]
    gx_pad         : tap (p, q) sends Σ_f gout[n, f, i, j] · w[f, c, p, q] back into the same
                     slice of a zero array shaped like x_pad. Windows overlap, so ADD (+=),
                     then cut the padding off.

Tutorial 03 derives all three and shows the im2col form.
"""
import importlib.util
import os
import sys

import numpy as np

_HERE = os.path.dirname(os.path.abspath(__file__))
_ROOT = os.path.dirname(os.path.dirname(os.path.dirname(_HERE)))
_SPEC = importlib.util.spec_from_file_location(
    'not_minise', os.path.join(_ROOT, 'minise', '__init__.py'),
    submodule_search_locations=[os.path.join(_ROOT, 'minise')])
_MODULE = importlib.util.module_from_spec(_SPEC)
sys.modules['not_minise'] = _MODULE
_SPEC.loader.exec_module(_MODULE)

EXERCISE = "conv2d_backward"
EXPECT_FAIL = "load"              # refused when the file is loaded


def forward(x, w, b, stride=1, padding=0):
    """x (N, C, H, W), w (F, C, kH, kW), b (F,) -> out (N, F, Ho, Wo)."""
    (n, c, h, width), (f, _, kh, kw) = x.shape, w.shape
    x_pad = np.pad(x, ((0, 0), (0, 0), (padding, padding), (padding, padding)))   # (N, C, Hp, Wp)
    ho = (h + 2 * padding - kh) // stride + 1
    wo = (width + 2 * padding - kw) // stride + 1
    out = np.zeros((n, f, ho, wo), dtype=x.dtype)
    for p in range(kh):
        for q in range(kw):
            tap = x_pad[:, :, p:p + stride * (ho - 1) + 1:stride, q:q + stride * (wo - 1) + 1:stride]  # (N, C, Ho, Wo)
            out += np.einsum("nchw,fc->nfhw", tap, w[:, :, p, q])
    out += b[None, :, None, None]
    cache = (x, w, stride, padding)
    return out, cache


def backward(gout, cache):
    """gout (N, F, Ho, Wo). Return (gx, gw, gb), shaped like x, w and b."""
    x, w, stride, padding = cache
    (n, c, h, width), (f, _, kh, kw) = x.shape, w.shape
    _, _, ho, wo = gout.shape
    x_pad = np.pad(x, ((0, 0), (0, 0), (padding, padding), (padding, padding)))
    gx_pad, gw = np.zeros_like(x_pad), np.zeros_like(w)
    gb = gout.sum(axis=(0, 2, 3))
    for p in range(kh):
        for q in range(kw):
            where = (slice(None), slice(None), slice(p, p + stride * (ho - 1) + 1, stride),
                     slice(q, q + stride * (wo - 1) + 1, stride))
            gw[:, :, p, q] = np.einsum("nfhw,nchw->fc", gout, x_pad[where])
            gx_pad[where] += np.einsum("nfhw,fc->nchw", gout, w[:, :, p, q])
    gx = gx_pad[:, :, padding:padding + h, padding:padding + width]
    return gx, gw, gb
