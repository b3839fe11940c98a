"""A planted WRONG solution (reads the taps next to each other, as if dilation were 1)."""
import numpy as np

EXERCISE = "conv2d_grouped_backward"
EXPECT_FAIL = "backward"          # the grader check that must catch it


def forward(x, w, b, stride=1, padding=0, dilation=1, groups=1):
    """x (N, C, H, W), w (F, C/G, kH, kW), b (F,) -> out (N, F, Ho, Wo)."""
    (n, c, h, width), (f, cg, kh, kw) = x.shape, w.shape
    fg = f // groups                                                # output channels per group
    x_pad = np.pad(x, ((0, 0), (0, 0), (padding, padding), (padding, padding)))   # (N, C, Hp, Wp)
    ho = (h + 2 * padding - dilation * (kh - 1) - 1) // stride + 1
    wo = (width + 2 * padding - dilation * (kw - 1) - 1) // stride + 1
    out = np.zeros((n, f, ho, wo), dtype=x.dtype)
    for g in range(groups):
        xs, ws = x_pad[:, g * cg:(g + 1) * cg], w[g * fg:(g + 1) * fg]   # (N, C/G, Hp, Wp), (F/G, C/G, kH, kW)
        for p in range(kh):
            for q in range(kw):
                r, t = p * dilation, q * dilation
                tap = xs[:, :, r:r + stride * (ho - 1) + 1:stride, t:t + stride * (wo - 1) + 1:stride]  # (N, C/G, Ho, Wo)
                out[:, g * fg:(g + 1) * fg] += np.einsum("nchw,fc->nfhw", tap, ws[:, :, p, q])
    out += b[None, :, None, None]
    cache = (x, w, stride, padding, dilation, groups)
    return out, cache


def backward(gout, cache):
    """gout (N, F, Ho, Wo). Return (gx, gw, gb), shaped like x, w and b."""
    x, w, stride, padding, dilation, groups = cache
    (n, c, h, width), (f, cg, kh, kw) = x.shape, w.shape
    fg = f // groups
    _, _, ho, wo = gout.shape
    x_pad = np.pad(x, ((0, 0), (0, 0), (padding, padding), (padding, padding)))
    gx_pad, gw = np.zeros_like(x_pad), np.zeros_like(w)
    for g in range(groups):
        go = gout[:, g * fg:(g + 1) * fg]
        for p in range(kh):
            for q in range(kw):
                r, t = p, q
                where = (slice(None), slice(g * cg, (g + 1) * cg), slice(r, r + stride * (ho - 1) + 1, stride),
                         slice(t, t + stride * (wo - 1) + 1, stride))
                gw[g * fg:(g + 1) * fg, :, p, q] = np.einsum("nfhw,nchw->fc", go, x_pad[where])
                gx_pad[where] += np.einsum("nfhw,fc->nchw", go, w[g * fg:(g + 1) * fg, :, p, q])
    return gx_pad[:, :, padding:padding + h, padding:padding + width], gw, gout.sum(axis=(0, 2, 3))
