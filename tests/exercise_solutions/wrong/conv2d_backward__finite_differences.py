"""A planted WRONG solution (measures gw one weight column at a time and gx one channel-and-tap colour at a time).

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
import numpy as np

EXERCISE = "conv2d_backward"
EXPECT_FAIL = "large input"       # the grader check that must catch it


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
    cache = (x, w, stride, padding, b)
    return out, cache


_forward = forward   # a private reference: these calls are not counted as calls of forward()



def backward(gout, cache):
    x, w, stride, padding, b = cache
    dtype = x.dtype
    x, w, b, g = (a.astype(np.float64) for a in (x, w, b, gout))
    (n, c, height, width), (f, _, kh, kw) = x.shape, w.shape
    _, _, ho, wo = g.shape
    gx, gw = np.zeros_like(x), np.zeros_like(w)
    for ch in range(c):                             # out is linear in x and in w: a step of 1 is exact
        for a in range(kh):
            for a2 in range(kw):                    # inputs kh (kw) apart never share an output window
                step = np.zeros_like(x)
                step[:, ch, a::kh, a2::kw] = 1
                diff = (_forward(x + step, w, b, stride, padding)[0] - _forward(x - step, w, b, stride, padding)[0]) / 2
                weighted = (g * diff).sum(axis=1)                                       # (N, Ho, Wo)
                for i in range(ho):
                    for j in range(wo):
                        for p in range(kh):
                            for q in range(kw):
                                r, t = i * stride + p - padding, j * stride + q - padding
                                if 0 <= r < height and 0 <= t < width and r % kh == a and t % kw == a2:
                                    gx[:, ch, r, t] += weighted[:, i, j]
        for p in range(kh):
            for q in range(kw):
                step = np.zeros_like(w)
                step[:, ch, p, q] = 1
                diff = (_forward(x, w + step, b, stride, padding)[0] - _forward(x, w - step, b, stride, padding)[0]) / 2
                gw[:, ch, p, q] = (g * diff).sum(axis=(0, 2, 3))
    return gx.astype(dtype), gw.astype(dtype), g.sum(axis=(0, 2, 3)).astype(dtype)
