"""Exercise: the backward pass of a 2-D convolution (with stride and zero padding).

Fill in ``backward`` below (NumPy only), then grade it:

    minise grade conv2d_backward.py

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
import numpy as np

EXERCISE = "conv2d_backward"


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
    raise NotImplementedError("derive gx, gw and gb and write them here")
