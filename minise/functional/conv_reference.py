"""conv2d written as its formula: a loop over the kernel's taps, no im2col, no chunks.

Slow but obviously right, and a full implementation: ``F.conv2d(x, w, b, impl="reference")``
trains with these functions, and :mod:`minise.functional.conv_fast`, which has the same three,
is tested against them. Each tap (p, q) of the kernel meets the input through one strided slice
``x_tap = x_pad[:, :, p·dh + i·sh, q·dw + j·sw]`` (over all output pixels (i, j) at once):

    conv2d              y[n,o,i,j]  = b[o] + Σ_{p,q} Σ_c x_tap[n, g·C_in/G + c, i, j] · w[o,c,p,q]
    conv2d_weight_grad  gw[o,c,p,q] = Σ_{n,i,j} gy[n,o,i,j] · x_tap[n, g·C_in/G + c, i, j]
    conv_transpose2d    gx_tap     += Σ_o gy[n,o,i,j] · w[o,c,p,q]    (added into the same slice of gx_pad)
Derived in tutorials/03_conv2d.py. Arguments are arrays; stride, padding, dilation are pairs.
"""
from ..arguments import conv_output_size
from ..backend import get_array_module


def _taps(x_shape, kernel, stride, padding, dilation):
    """For each tap (p, q): the slice of x_pad that it reads for all output pixels."""
    (_, _, H, W), (kH, kW), (sh, sw), (ph, pw), (dh, dw) = x_shape, kernel, stride, padding, dilation
    Ho, Wo = conv_output_size(H, kH, sh, ph, dh), conv_output_size(W, kW, sw, pw, dw)
    for p in range(kH):
        for q in range(kW):
            yield p, q, (slice(None), slice(None), slice(p * dh, p * dh + sh * (Ho - 1) + 1, sh),
                         slice(q * dw, q * dw + sw * (Wo - 1) + 1, sw))


def _pad(x, padding):
    (ph, pw), (N, C, H, W) = padding, x.shape
    x_pad = get_array_module(x).zeros((N, C, H + 2 * ph, W + 2 * pw), dtype=x.dtype)
    x_pad[:, :, ph:ph + H, pw:pw + W] = x
    return x_pad                                                        # (N, C, Hp, Wp)


def conv2d(x, w, b, stride, padding, dilation, groups):
    """y (N, C_out, Ho, Wo) from x (N, C_in, H, W), w (C_out, C_in/G, kH, kW), b (C_out,) or None."""
    xp, G, (C_out, C_group) = get_array_module(x, w), groups, w.shape[:2]
    x_pad = _pad(x, padding)
    y = 0
    for p, q, where in _taps(x.shape, w.shape[2:], stride, padding, dilation):
        x_tap = x_pad[where]                                            # (N, C_in, Ho, Wo)
        N, _, Ho, Wo = x_tap.shape
        x_tap = x_tap.reshape(N, G, C_group, Ho, Wo)                    # (N, G, C_in/G, Ho, Wo)
        w_tap = w[:, :, p, q].reshape(G, C_out // G, C_group)           # (G, C_out/G, C_in/G)
        y = y + xp.einsum("goc,ngcij->ngoij", w_tap, x_tap).reshape(N, C_out, Ho, Wo)
    return y if b is None else y + b.reshape(1, C_out, 1, 1)            # (N, C_out, Ho, Wo)


def conv2d_weight_grad(x, gy, w_shape, stride, padding, dilation, groups):
    """gw (C_out, C_in/G, kH, kW) for gy (N, C_out, Ho, Wo): tap by tap, x_tap against gy."""
    xp, G, (C_out, C_group) = get_array_module(x, gy), groups, w_shape[:2]
    N, _, Ho, Wo = gy.shape
    x_pad = _pad(x, padding)
    gw = xp.zeros(w_shape, dtype=gy.dtype)                              # (C_out, C_in/G, kH, kW)
    gy_g = gy.reshape(N, G, C_out // G, Ho, Wo)                         # (N, G, C_out/G, Ho, Wo)
    for p, q, where in _taps(x.shape, w_shape[2:], stride, padding, dilation):
        x_tap = x_pad[where].reshape(N, G, C_group, Ho, Wo)             # (N, G, C_in/G, Ho, Wo)
        gw[:, :, p, q] = xp.einsum("ngoij,ngcij->goc", gy_g, x_tap).reshape(C_out, C_group)
    return gw


def conv_transpose2d(gy, w, x_shape, stride, padding, dilation, groups):
    """gx (N, C_in, H, W) for gy (N, C_out, Ho, Wo): tap by tap, w's tap times gy added into the
    slice of gx_pad that the tap read."""
    xp, G, (C_out, C_group) = get_array_module(gy, w), groups, w.shape[:2]
    N, _, Ho, Wo = gy.shape
    (ph, pw), (H, W) = padding, x_shape[2:]
    gx_pad = xp.zeros((N, x_shape[1], H + 2 * ph, W + 2 * pw), dtype=gy.dtype)   # (N, C_in, Hp, Wp)
    gy_g = gy.reshape(N, G, C_out // G, Ho, Wo)                         # (N, G, C_out/G, Ho, Wo)
    for p, q, where in _taps(x_shape, w.shape[2:], stride, padding, dilation):
        w_tap = w[:, :, p, q].reshape(G, C_out // G, C_group)           # (G, C_out/G, C_in/G)
        gx_pad[where] += xp.einsum("goc,ngoij->ngcij", w_tap, gy_g).reshape(N, G * C_group, Ho, Wo)
    return gx_pad[:, :, ph:ph + H, pw:pw + W]                           # (N, C_in, H, W)
