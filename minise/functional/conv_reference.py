"""conv2d written as its formula: a loop over the kernel's taps, no im2col, no chunks.

Slow but obviously right; :mod:`minise.functional.conv` computes the same numbers faster and is
tested against these functions. Each tap (p, q) of the kernel meets the input through one strided
slice ``x_pad[:, :, p·dh + i·sh, q·dw + j·sw]`` (over all output pixels i, j at once):

    forward   y[n,o,i,j]  = b[o] + Σ_{p,q} Σ_c x_tap[n, g·C_in/G + c, i, j] · w[o,c,p,q]
    backward  gw[o,c,p,q] = Σ_{n,i,j} gy[n,o,i,j] · x_tap[n, g·C_in/G + c, i, j]
              gx_tap     += Σ_o gy[n,o,i,j] · w[o,c,p,q]     (added into the same slice of gx_pad)
              gb[o]       = Σ_{n,i,j} gy[n,o,i,j]
Derived in tutorials/03_conv2d.py. Arguments are arrays; stride, padding, dilation are pairs.
"""
from ..backend import get_array_module


def _taps(shape, kernel, stride, padding, dilation):
    """For each tap (p, q): the slice of x_pad that it reads for all output pixels."""
    (_, _, H, W), (kH, kW), (sh, sw), (ph, pw), (dh, dw) = shape, kernel, stride, padding, dilation
    Ho = (H + 2 * ph - dh * (kH - 1) - 1) // sh + 1
    Wo = (W + 2 * pw - dw * (kW - 1) - 1) // sw + 1
    for p in range(kH):
        for q in range(kW):
            yield p, q, (slice(None), slice(None), slice(p * dh, p * dh + sh * (Ho - 1) + 1, sh),
                         slice(q * dw, q * dw + sw * (Wo - 1) + 1, sw))


def _pad(x, padding):
    (ph, pw), (N, C, H, W) = padding, x.shape
    x_pad = get_array_module(x).zeros((N, C, H + 2 * ph, W + 2 * pw), dtype=x.dtype)
    x_pad[:, :, ph:ph + H, pw:pw + W] = x
    return x_pad                                                        # (N, C, Hp, Wp)


def conv2d_forward(x, w, b, stride, padding, dilation, groups):
    """y (N, C_out, Ho, Wo) from x (N, C_in, H, W), w (C_out, C_in/G, kH, kW), b (C_out,) or None."""
    xp = get_array_module(x, w)
    G, C_out, C_group = groups, w.shape[0], w.shape[1]
    x_pad = _pad(x, padding)
    y = 0
    for p, q, where in _taps(x.shape, w.shape[2:], stride, padding, dilation):
        x_tap = x_pad[where]                                            # (N, C_in, Ho, Wo)
        N, _, Ho, Wo = x_tap.shape
        x_tap = x_tap.reshape(N, G, C_group, Ho, Wo)                    # (N, G, C_in/G, Ho, Wo)
        w_tap = w[:, :, p, q].reshape(G, C_out // G, C_group)           # (G, C_out/G, C_in/G)
        y = y + xp.einsum("goc,ngcij->ngoij", w_tap, x_tap).reshape(N, C_out, Ho, Wo)
    return y if b is None else y + b.reshape(1, C_out, 1, 1)            # (N, C_out, Ho, Wo)


def conv2d_backward(gy, x, w, stride, padding, dilation, groups):
    """(gx, gw, gb) for gy (N, C_out, Ho, Wo)."""
    G, (C_out, C_group) = groups, w.shape[:2]
    N, _, Ho, Wo = gy.shape
    x_pad = _pad(x, padding)
    gx_pad, gw = x_pad * 0, w * 0
    gy_g = gy.reshape(N, G, C_out // G, Ho, Wo)                         # (N, G, C_out/G, Ho, Wo)
    xp = get_array_module(gy, x, w)
    for p, q, where in _taps(x.shape, w.shape[2:], stride, padding, dilation):
        x_tap = x_pad[where].reshape(N, G, C_group, Ho, Wo)             # (N, G, C_in/G, Ho, Wo)
        w_tap = w[:, :, p, q].reshape(G, C_out // G, C_group)           # (G, C_out/G, C_in/G)
        gw[:, :, p, q] = xp.einsum("ngoij,ngcij->goc", gy_g, x_tap).reshape(C_out, C_group)
        gx_pad[where] += xp.einsum("goc,ngoij->ngcij", w_tap, gy_g).reshape(N, G * C_group, Ho, Wo)
    (ph, pw), (H, W) = padding, x.shape[2:]
    return gx_pad[:, :, ph:ph + H, pw:pw + W], gw, gy.sum(axis=(0, 2, 3))
