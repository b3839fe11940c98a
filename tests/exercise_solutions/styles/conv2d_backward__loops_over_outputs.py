"""Another right solution of conv2d_backward, in another style: a loop over the output positions (i, j), one window at a time."""
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
    x, w, stride, padding = cache
    (_, _, h, width), (_, _, kh, kw) = x.shape, w.shape
    _, _, ho, wo = gout.shape
    x_pad = np.pad(x, ((0, 0), (0, 0), (padding, padding), (padding, padding)))
    gx_pad, gw = np.zeros_like(x_pad), np.zeros_like(w)
    for i in range(ho):
        for j in range(wo):
            rows, cols = slice(i * stride, i * stride + kh), slice(j * stride, j * stride + kw)
            gw += np.einsum("nf,nchw->fchw", gout[:, :, i, j], x_pad[:, :, rows, cols])
            gx_pad[:, :, rows, cols] += np.einsum("nf,fchw->nchw", gout[:, :, i, j], w)
    return gx_pad[:, :, padding:padding + h, padding:padding + width], gw, gout.sum(axis=(0, 2, 3))
