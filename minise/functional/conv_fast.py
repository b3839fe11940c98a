"""conv2d, forward and backward, at speed: the same three functions as conv_reference, each built
on the im2col correlation of :mod:`minise.functional.conv_im2col` (chunks, wide rows, 1×1).

With x_pad the input padded by (ph, pw), a kernel tap (p, q) and an output pixel (i, j) meet at
x_pad[n, c', i·sh + p·dh, j·sw + q·dw] (c' = g·C_in/G + c, g the group of o). Each function is a
sum over the other letters:

    y  = conv2d(x, w, b)              y[n,o,i,j]  = b[o] + Σ_{c,p,q} x_pad[n, c', i·sh + p·dh, j·sw + q·dw] · w[o,c,p,q]
    gw = conv2d_weight_grad(x, gy)    gw[o,c,p,q] = Σ_{n,i,j} gy[n,o,i,j] · x_pad[n, c', i·sh + p·dh, j·sw + q·dw]
                                      the correlation of x with gy (gy plays the kernel)
    gx = conv_transpose2d(gy, w)      gx_pad[n, c', i·sh + p·dh, j·sw + q·dw] += Σ_o gy[n,o,i,j] · w[o,c,p,q]
                                      the transposed convolution: each output pixel hands its
                                      gradient back to the input pixels of its window

``conv_transpose2d`` is conv2d's adjoint: the same numbers as ``torch.nn.functional.conv_transpose2d(gy,
w, stride=s, padding=p, dilation=d, groups=G, output_padding=...)`` with the output padding that
gives back x's shape. Arguments are arrays; stride, padding and dilation are pairs.
"""
from ..backend import get_array_module
from ..parallel import chunked, for_each_chunk, map_chunks, sum_chunks, sum_in_order
from .conv_im2col import chunks, col2im, correlate, im2col, pointwise, row_width


def conv2d(x, w, b, stride, padding, dilation, groups):
    """y (N, C_out, Ho, Wo) from x (N, C_in, H, W), w (C_out, C_in/G, kH, kW), b (C_out,) or None."""
    (ph, pw) = padding
    return correlate(x, w, b, stride, (ph, ph, pw, pw), dilation, groups)  # (top, bottom, left, right)


def conv2d_weight_grad(x, gy, w_shape, stride, padding, dilation, groups):
    """gw (C_out, C_in/G, kH, kW) = Σ over images and pixels of gy · cols, chunk by chunk."""
    xp, G, (N, C_in, _, W), (Ho, Wo) = get_array_module(x, gy), groups, x.shape, gy.shape[2:]
    C_out, C_group, kH, kW = w_shape
    (ph, pw) = padding
    padding = (ph, ph, pw, pw)                                             # (top, bottom, left, right)
    gy_g = gy.reshape(N, G, C_out // G, Ho, Wo)                            # (N, G, C_out/G, Ho, Wo)
    if pointwise((kH, kW), padding):                                       # one product per image
        def multiply(x, gy_g):
            x_s = x[:, :, ::stride[0], ::stride[1]]                        # (n, C_in, Ho, Wo) view
            x_t = x_s.reshape(len(x), G, C_group, Ho * Wo).transpose(0, 1, 3, 2)   # (n, G, Ho·Wo, C_in/G)
            return xp.matmul(gy_g.reshape(len(x), G, C_out // G, Ho * Wo), x_t).sum(axis=0)  # (G, C_out/G, C_in/G)
        return sum_chunks(multiply, x, gy_g, blas=True).reshape(w_shape)
    Wq = row_width(W, padding, kW, Wo, stride, dilation)

    def weight_grad_images(start, stop):                                   # Σ over these images
        gw_t = xp.zeros((G, C_group * kH * kW, C_out // G), dtype=gy.dtype)   # (G, K, C_out/G)
        for images in chunks(start, stop, C_in * kH * kW * Ho * Wq):
            n = images.stop - images.start
            gy_chunk = xp.empty((G, C_out // G, n, Ho, Wq), dtype=gy.dtype)   # (G, C_out/G, n, Ho, Wq)
            gy_chunk[..., :Wo] = gy_g[images].transpose(1, 2, 0, 3, 4)
            gy_chunk[..., Wo:] = 0                                         # zeros for the junk columns
            cols = im2col(x[images], (kH, kW), padding, (Ho, Wo), stride, dilation, G)   # (G, K, n·Ho·Wq)
            gw_t += xp.matmul(cols, gy_chunk.reshape(G, C_out // G, -1).transpose(0, 2, 1))  # (G, K, C_out/G)
        return gw_t

    parts = map_chunks(weight_grad_images, N, like=x, cost=N * C_in * kH * kW * Ho * Wq, blas=True)   # per chunk
    gw_t = sum_in_order(parts)                                             # (G, K, C_out/G)
    return gw_t.transpose(0, 2, 1).reshape(w_shape)                        # (C_out, C_in/G, kH, kW)


def _full_padding(x_shape, w_shape, out, stride, padding, dilation):
    """For stride 1, gx is itself a correlation: of gy, zero-padded to H + dh·(kH − 1) rows
    (dh·(kH − 1) − ph above) and W + dw·(kW − 1) columns alike, with the kernel flipped and its
    in/out channels swapped. Its padding (top, bottom, left, right), or None where it does
    not apply (stride > 1, or more padding than the kernel spans: col2im then)."""
    (H, W), (kH, kW), (Ho, Wo), (ph, pw), (dh, dw) = x_shape[2:], w_shape[2:], out, padding, dilation
    top, left = dh * (kH - 1) - ph, dw * (kW - 1) - pw
    full = (top, H + dh * (kH - 1) - Ho - top, left, W + dw * (kW - 1) - Wo - left)
    return full if tuple(stride) == (1, 1) and min(full) >= 0 else None


def _flipped_kernel(w, groups):
    """w (C_out, C_in/G, kH, kW) turned around for the full correlation: each kernel rotated by
    180° and, within each group, its in and out channels swapped -> (C_in, C_out/G, kH, kW)."""
    C_out, C_group, kH, kW = w.shape
    w_flip = w.reshape(groups, C_out // groups, C_group, kH, kW)[..., ::-1, ::-1]   # (G, C_out/G, C_in/G, kH, kW)
    return w_flip.transpose(0, 2, 1, 3, 4).reshape(groups * C_group, C_out // groups, kH, kW)


def conv_transpose2d(gy, w, x_shape, stride, padding, dilation, groups):
    """gx (N, C_in, H, W), conv2d's adjoint applied to gy (N, C_out, Ho, Wo): for stride 1 a
    correlation of gy with the flipped kernel; for a strided 1×1 kernel, wᵀ @ gy put back on
    every sh-th row and sw-th column; else col2im of wᵀ @ gy, chunk by chunk."""
    xp, G, (N, C_in), (Ho, Wo) = get_array_module(gy, w), groups, x_shape[:2], gy.shape[2:]
    C_out, _, kH, kW = w.shape
    full = _full_padding(x_shape, w.shape, (Ho, Wo), stride, padding, dilation)
    if full is not None:
        return correlate(gy, _flipped_kernel(w, G), None, (1, 1), full, dilation, G)
    w_mat_t = w.reshape(G, C_out // G, -1).transpose(0, 2, 1)              # (G, K, C_out/G)
    gy_g = gy.reshape(N, G, C_out // G, Ho * Wo)                           # (N, G, C_out/G, Ho·Wo)
    if pointwise((kH, kW), tuple(padding) * 2):                            # strided 1×1: no col2im
        def spread(gy_g, out=None):
            gx = xp.zeros((len(gy_g),) + tuple(x_shape[1:]), dtype=gy.dtype) if out is None else out  # (n, C_in, H, W)
            if out is not None:
                gx[...] = 0
            gx[:, :, ::stride[0], ::stride[1]] = xp.matmul(w_mat_t, gy_g).reshape(len(gy_g), C_in, Ho, Wo)
            return gx
        return chunked(spread, gy_g, blas=True)                            # (N, C_in, H, W)
    gx = xp.empty(x_shape, dtype=gy.dtype)                                 # (N, C_in, H, W)

    def transpose_images(start, stop):
        for images in chunks(start, stop, C_in * kH * kW * Ho * Wo):
            gy_chunk = gy_g[images].transpose(1, 2, 0, 3).reshape(G, C_out // G, -1)  # (G, C_out/G, n·Ho·Wo)
            gcols = xp.matmul(w_mat_t, gy_chunk)                           # (G, K, n·Ho·Wo)
            col2im(gcols, gx[images], (kH, kW), (Ho, Wo), stride, padding, dilation)   # into (n, C_in, H, W)

    for_each_chunk(N, transpose_images, like=gy, cost=N * C_in * kH * kW * Ho * Wo, blas=True)
    return gx
