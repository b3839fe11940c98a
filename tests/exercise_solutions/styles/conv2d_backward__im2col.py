"""Another right solution of conv2d_backward, in another style: im2col: every window as a column, gw and gx as matrix products."""
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
    (n, c, h, width), (f, _, kh, kw) = x.shape, w.shape
    _, _, ho, wo = gout.shape
    x_pad = np.pad(x, ((0, 0), (0, 0), (padding, padding), (padding, padding)))
    cols = np.empty((n, c, kh, kw, ho, wo), dtype=x.dtype)
    for p in range(kh):
        for q in range(kw):
            cols[:, :, p, q] = x_pad[:, :, p:p + stride * (ho - 1) + 1:stride, q:q + stride * (wo - 1) + 1:stride]
    cols = cols.reshape(n, c * kh * kw, ho * wo)                    # (N, C·kH·kW, Ho·Wo)
    g = gout.reshape(n, f, ho * wo)                                 # (N, F, Ho·Wo)
    gw = np.matmul(g, cols.transpose(0, 2, 1)).sum(axis=0).reshape(w.shape)
    gcols = np.matmul(w.reshape(f, -1).T, g).reshape(n, c, kh, kw, ho, wo)
    gx_pad = np.zeros_like(x_pad)
    for p in range(kh):
        for q in range(kw):
            gx_pad[:, :, p:p + stride * (ho - 1) + 1:stride, q:q + stride * (wo - 1) + 1:stride] += gcols[:, :, p, q]
    return gx_pad[:, :, padding:padding + h, padding:padding + width], gw, gout.sum(axis=(0, 2, 3))
