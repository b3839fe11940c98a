"""A planted WRONG solution (sends gx back as if the stride were 1)."""
import numpy as np

EXERCISE = "conv2d_backward"
EXPECT_FAIL = "backward"          # the grader check that must catch it


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
            where_x = (slice(None), slice(None), slice(p, p + ho), slice(q, q + wo))
            gx_pad[where_x] += np.einsum("nfhw,fc->nchw", gout, w[:, :, p, q])
    gx = gx_pad[:, :, padding:padding + h, padding:padding + width]
    return gx, gw, gb
