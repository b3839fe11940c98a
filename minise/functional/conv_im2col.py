"""The fast correlation behind conv2d and its gradients: im2col, a few images at a time.

*im2col* lays each input window the kernel visits out as one column of a matrix ``cols`` (rows:
the K = C_in/G·kH·kW entries of a window; columns: every output pixel of a few images). A
correlation is then one matrix product per group and chunk of images,

    y = w @ cols          (C_out/G, K) @ (K, n·Ho·Wo): one row per output channel,

and its adjoint, *col2im*, adds each entry of a (K, n·Ho·Wo) matrix back into the pixel it was
copied from. Every fast path of conv2d lives here, behind :func:`correlate` (and the two pieces
of :mod:`minise.functional.conv_fast` built on it):

* chunks: ``cols`` is kH·kW times the size of its images (9× for 3×3), so it is built for about
  ``CHUNK_ELEMENTS`` numbers at a time and never kept. 1 MiB of float32 stays in a core's own
  (L2) cache between the copy and the product: on a 2-core Xeon (1.25 MiB of L2 per core) a
  training step of se_resnet20 took 664 ms on one thread with it, 911 ms with 4 MiB chunks;
* every core: the chunks of images are spread over threads (:mod:`minise.parallel`), each
  thread building its chunk's ``cols`` and multiplying it, with the BLAS on one thread each;
* wide rows: with stride 1 along the width the copy moves whole runs of rows (see ``im2col``);
* 1×1: a 1×1 kernel without padding needs no im2col at all (``pointwise``).

``cols`` is first a *view* of the padded images (``as_strided``: no copy, only strides that step to
the next tap and to the next output pixel), then copied once into a matrix whose columns run over
the images *and* the pixels of a chunk, so each chunk costs one large matrix product (a BLAS is
fast on large products and slow on many small ones). Everything stays in x's dtype.

Geometry arguments: ``stride`` and ``dilation`` are pairs (rows, columns), ``padding`` four
numbers (top, bottom, left, right), ``groups`` an int. Letters: (i, j) output pixels, (p, q) taps.
"""
from ..arguments import conv_output_size
from ..backend import get_array_module
from ..parallel import chunk_bounds, chunked, for_each_chunk, into

CHUNK_ELEMENTS = 2 ** 18     # im2col numbers built at once (1 MiB in float32, see above); at least one image


def out_size(H, W, kernel, padding, stride, dilation):
    """(Ho, Wo): how many window positions fit in H, W padded by (top, bottom, left, right)."""
    (kH, kW), (top, bottom, left, right) = kernel, padding
    Ho = conv_output_size(top + H + bottom, kH, stride[0], 0, dilation[0])
    Wo = conv_output_size(left + W + right, kW, stride[1], 0, dilation[1])
    return Ho, Wo


def row_width(W, padding, kW, Wo, stride, dilation):
    """Wq, the output columns im2col computes per row: Wo, or for stride-1 columns the width of a
    padded row in "wide rows" (see im2col)."""
    left, right = padding[2:]
    return left + W + right - min(left, right, dilation[1] * (kW - 1)) if stride[1] == 1 else Wo


def im2col(x, kernel, padding, out, stride, dilation, groups):
    """cols (G, K, n·Ho·Wq) of the images x (n, C, H, W), zero-padded by (top, bottom, left,
    right): one copy of a strided view,
        cols[g, (c, p, q), (m, i, j)] = x_pad[m, g·C/G + c, i·sh + p·dh, j·sw + q·dw].
    Wide rows: with stride 1 along the width, j runs over the whole width Wq of a padded row,
    not just the Wo window positions. Windows at j ≥ Wo read on into the next row: their
    outputs are junk, which the caller drops (or multiplies by zero). What that buys: output
    rows now follow each other in memory, so the copy moves runs of Ho·Wq numbers instead of
    Wo (2-3× faster), for (Wq − Wo)/Wo more arithmetic. Less of it, because a row's right
    padding can be the next row's left padding (both are zeros): rows are stored with
    Wq = left + W + right − min(left, right, dw·(kW − 1)) columns, one junk column for a 3×3
    kernel with padding 1 (3% at 32×32).
    The rows of cols are the channels' rows one after the other, so the copy is cut by channels:
    each chunk of channels is padded and copied on its own, in parallel."""
    xp, (n, C, _, W), (kH, kW), (Ho, Wo) = get_array_module(x), x.shape, kernel, out
    Wq = row_width(W, padding, kW, Wo, stride, dilation)
    cols = xp.empty((C, kH, kW, n, Ho, Wq), dtype=x.dtype)               # (C, kH, kW, n, Ho, Wq)

    def copy_channels(start, stop):
        cols[start:stop] = windows(x[:, start:stop], kernel, padding, Wq, (Ho, Wo), stride, dilation)

    for_each_chunk(C, copy_channels, like=x, cost=cols.size)
    return cols.reshape(groups, (C // groups) * kH * kW, n * Ho * Wq)    # (G, K, n·Ho·Wq) view


def windows(x, kernel, padding, Wq, out, stride, dilation):
    """The view (C, kH, kW, n, Ho, Wq) of x (n, C, H, W) zero-padded that im2col copies:
    windows[c, p, q, m, i, j] = x_pad[m, c, i·sh + p·dh, j·sw + q·dw] (no copy but the padding)."""
    xp, (sh, sw), (dh, dw) = get_array_module(x), stride, dilation
    (n, C, H, W), (kH, kW), (top, bottom, left, right), (Ho, _) = x.shape, kernel, padding, out
    spare = int(sw == 1 and kW > 1)       # a spare row of zeros: the last row's windows read on into it
    x_pad = x
    if top or bottom or left or right or spare:
        row = Wq if sw == 1 else left + W + right                         # stored row width
        x_pad = xp.zeros((n, C, top + H + bottom + spare, row), dtype=x.dtype)   # (n, C, Hp + spare, row)
        x_pad[:, :, top:top + H, left:left + W] = x
    sN, sC, sH, sW = x_pad.strides
    return xp.lib.stride_tricks.as_strided(                               # (C, kH, kW, n, Ho, Wq) view
        x_pad, (C, kH, kW, n, Ho, Wq), (sC, dh * sH, dw * sW, sN, sh * sH, sw * sW))


def col2im(gcols, gx, kernel, out, stride, padding, dilation):
    """The adjoint of im2col (padding a pair here): gx (n, C, H, W), each entry of gcols
    (G, K, n·Ho·Wo) added into the pixel of x it was copied from, one strided slice of all
    pixels per tap (p, q); written into ``gx``. Channels do not mix, so chunks of channels run
    in parallel."""
    (n, C, H, W), (kH, kW), (Ho, Wo) = gx.shape, kernel, out
    gcols = gcols.reshape(C, kH, kW, n, Ho, Wo)                          # (C, kH, kW, n, Ho, Wo)

    def add_channels(start, stop):
        gx[:, start:stop] = add_taps(gcols[start:stop], (H, W), stride, padding, dilation)

    for_each_chunk(C, add_channels, like=gcols, cost=gcols.size)
    return gx


def add_taps(gcols, size, stride, padding, dilation):
    """gx (n, C, H, W) from gcols (C, kH, kW, n, Ho, Wo): for every tap (p, q), its slice added
    into the strided slice of gx_pad it was copied from; then gx_pad without its padding."""
    xp, (sh, sw), (ph, pw), (dh, dw), (H, W) = get_array_module(gcols), stride, padding, dilation, size
    C, kH, kW, n, Ho, Wo = gcols.shape
    gx_pad = xp.zeros((n, C, H + 2 * ph, W + 2 * pw), dtype=gcols.dtype)  # (n, C, Hp, Wp)
    for p in range(kH):
        for q in range(kW):
            rows = slice(p * dh, p * dh + sh * (Ho - 1) + 1, sh)
            columns = slice(q * dw, q * dw + sw * (Wo - 1) + 1, sw)
            gx_pad[:, :, rows, columns] += gcols[:, p, q].transpose(1, 0, 2, 3)  # (n, C, Ho, Wo)
    return gx_pad[:, :, ph:ph + H, pw:pw + W]                            # (n, C, H, W) view


def chunks(start, stop, numbers_per_image):
    """The images start..stop in slices of nearly equal size, each as small as its im2col matrix
    needs to stay in cache (one image at least)."""
    parts = -(-(stop - start) * numbers_per_image // CHUNK_ELEMENTS)        # ⌈numbers / CHUNK_ELEMENTS⌉
    return [slice(start + a, start + b) for a, b in chunk_bounds(stop - start, parts)]


def pointwise(kernel, padding):
    """A 1×1 kernel without padding: im2col would copy x (every sh-th row, every sw-th column)
    as it is, so skip it and multiply image by image."""
    return tuple(kernel) == (1, 1) and not any(padding)


def correlate(x, w, b, stride, padding, dilation, groups):
    """y (N, C_out, Ho, Wo) = b + w ⋆ x_pad, one matrix product per chunk of images."""
    xp, (N, C_in, H, W), G = get_array_module(x, w), x.shape, groups
    C_out, C_group, kH, kW = w.shape
    Ho, Wo = out_size(H, W, (kH, kW), padding, stride, dilation)
    w_mat = w.reshape(G, C_out // G, C_group * kH * kW)                   # (G, C_out/G, K)
    if pointwise((kH, kW), padding):                                      # one product per image
        def multiply(x, out=None):
            x_s = x[:, :, ::stride[0], ::stride[1]]                       # (n, C_in, Ho, Wo) view
            y = xp.matmul(w_mat, x_s.reshape(len(x), G, C_group, Ho * Wo))   # (n, G, C_out/G, Ho·Wo)
            y = y.reshape(len(x), C_out, Ho, Wo)                          # (n, C_out, Ho, Wo)
            return into(out, y if b is None else y + b.reshape(1, C_out, 1, 1))
        return chunked(multiply, x, blas=True)                            # (N, C_out, Ho, Wo)
    Wq = row_width(W, padding, kW, Wo, stride, dilation)
    y = xp.empty((N, C_out, Ho, Wo), dtype=x.dtype)                       # (N, C_out, Ho, Wo)

    def correlate_images(start, stop):
        for images in chunks(start, stop, C_in * kH * kW * Ho * Wq):
            cols = im2col(x[images], (kH, kW), padding, (Ho, Wo), stride, dilation, G)   # (G, K, n·Ho·Wq)
            y_chunk = xp.matmul(w_mat, cols).reshape(C_out, -1, Ho, Wq)   # (C_out, n, Ho, Wq)
            if b is not None:
                y_chunk += b.reshape(C_out, 1, 1, 1)
            y[images] = y_chunk[..., :Wo].transpose(1, 0, 2, 3)           # (n, C_out, Ho, Wo)

    for_each_chunk(N, correlate_images, like=x, cost=N * C_in * kH * kW * Ho * Wq, blas=True)
    return y
