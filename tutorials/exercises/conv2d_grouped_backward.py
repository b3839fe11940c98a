"""Exercise: the backward pass of a 2-D convolution with dilation and groups.

Fill in ``backward`` below (NumPy only), then grade it:

    minise grade conv2d_grouped_backward.py

    x (N, C, H, W),  w (F, C/G, kH, kW),  b (F,)  ->  out (N, F, Ho, Wo),   G = groups
    Ho = (H + 2·padding − dilation·(kH − 1) − 1) // stride + 1       (Wo alike)

The channels are cut into G groups: output channels g·F/G … (g+1)·F/G − 1 see only input channels
g·C/G … (g+1)·C/G − 1 (G = C is a depthwise convolution). Tap (p, q) of the kernel reads x_pad at
(i·stride + p·dilation, j·stride + q·dilation): the kernel's taps are spread `dilation` apart.

    out[n, f, i, j] = b[f] + Σ_{c < C/G, p, q} x_pad[n, g·C/G + c, i·stride + p·dilation,
                                                   j·stride + q·dilation] · w[f, c, p, q],  g = f // (F/G)

Mirror the forward's loops (groups, then taps): gb sums gout; gw[f, c, p, q] pairs gout with the slice
tap (p, q) read; each tap sends gout · w back into the same slice of a zero array shaped like x_pad
(slices of different taps overlap: add), then cut the padding off.
"""
import numpy as np

EXERCISE = "conv2d_grouped_backward"


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
    raise NotImplementedError("derive gx, gw and gb and write them here")
