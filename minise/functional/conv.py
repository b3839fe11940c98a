"""2-D convolution (cross-correlation, as in every deep-learning library), forward and backward.

The op is matrix products around one idea, *im2col*: lay each input window the kernel visits out
as one column of a matrix ``cols`` (rows: the K = C_in/G·kH·kW entries of a window; columns: every
output pixel of a few images). Then, a few images at a time, group by group,

    forward   y    = w @ cols          (C_out/G, K) @ (K, n·Ho·Wo): one row per output channel
    backward  gwᵀ += cols @ gyᵀ        how much each weight saw of each pixel's gradient
              gx   = for stride 1, itself a correlation: of gy (padded) with the kernel flipped
                     and its in/out channels swapped, so the same im2col and one product again;
                     otherwise col2im(wᵀ @ gy): each window entry's gradient added back into the
                     pixel it came from, one strided slice-add per kernel tap (kH·kW of them)

``cols`` is first a *view* of the padded images (``as_strided``: no copy, only strides that step to
the next tap and to the next output pixel), then copied once into a matrix whose columns run over
the images *and* the pixels of a chunk, so that each chunk costs one large matrix product (a BLAS
is fast on large products and slow on many small ones). With stride 1 the copy moves whole runs of
rows at once ("wide rows", see ``_im2col``). A 1×1 kernel with stride 1 needs no im2col at all.

Speed and memory: ``cols`` is kH·kW times the size of its images (9× for 3×3), so it is built for
a few images at a time (about ``CHUNK_ELEMENTS`` numbers, which stay in the CPU's cache) and never
kept: backward rebuilds it from the saved input, which costs one copy but keeps a network's memory
at what its activations need. Work that no gradient needs is skipped. Everything stays in x's
dtype (float32 stays float32). The plain tap loops that define the op are in
:mod:`minise.functional.conv_reference`; the tests hold this file to them.
Derived in tutorials/03_conv2d.py.
"""
from ..arguments import is_int, pair
from ..backend import get_array_module
from ..function import Function
from ..tensor import Tensor

CHUNK_ELEMENTS = 2 ** 20     # im2col numbers built at once (4 MiB in float32); at least one image


class Conv2dFunction(Function):
    """y = conv2d(x, w) + b: cross-correlation of NCHW images with a bank of kernels.

    Shapes   x (N, C_in, H, W), w (C_out, C_in/G, kH, kW), b (C_out,) or None
             -> y (N, C_out, Ho, Wo),  Ho = ⌊(H + 2·ph − dh·(kH − 1) − 1) / sh⌋ + 1  (Wo alike)
             G groups: output channel o sees only the C_in/G input channels of its group
             g = o ÷ (C_out/G); G = C_in = C_out is a depthwise convolution.
    Forward  y[n,o,i,j] = b[o] + Σ_{c,p,q} x_pad[n, g·C_in/G + c, i·sh + p·dh, j·sw + q·dw] · w[o,c,p,q]
             x_pad is x with ph rows / pw columns of zeros on each side.
    Backward gb[o]       = Σ_{n,i,j} gy[n,o,i,j]
             gw[o,c,p,q] = Σ_{n,i,j} gy[n,o,i,j] · x_pad[n, g·C_in/G + c, i·sh + p·dh, j·sw + q·dw]
                           (the correlation of x with gy)
             gx_pad[n, g·C_in/G + c, i·sh + p·dh, j·sw + q·dw] += Σ_o gy[n,o,i,j] · w[o,c,p,q]
                           for every tap (p, q): each output pixel hands its gradient back to the
                           input pixels of its window (for stride 1, the "full" correlation of gy
                           with the flipped kernel); gx = gx_pad without its padding.
    Derived in tutorials/03_conv2d.py.
    """

    def __init__(self, stride=1, padding=0, dilation=1, groups=1):
        self.stride = pair(stride, "stride", "conv2d", minimum=1)
        self.padding = pair(padding, "padding", "conv2d", minimum=0)
        self.dilation = pair(dilation, "dilation", "conv2d", minimum=1)
        self.groups = int(groups) if is_int(groups) else groups

    def _out_size(self, H, W, kernel, padding):
        """(Ho, Wo): how many window positions fit in H, W padded by (top, bottom, left, right)."""
        (kH, kW), (top, bottom, left, right), (sh, sw), (dh, dw) = kernel, padding, self.stride, self.dilation
        return (top + H + bottom - dh * (kH - 1) - 1) // sh + 1, (left + W + right - dw * (kW - 1) - 1) // sw + 1

    def _row_width(self, W, padding, kW, Wo):
        """Wq, the output columns im2col computes per row: Wo, or for stride-1 columns the width
        of a padded row in "wide rows" (see _im2col)."""
        (left, right), dw = padding[2:], self.dilation[1]
        return left + W + right - min(left, right, dw * (kW - 1)) if self.stride[1] == 1 else Wo

    def _im2col(self, x, kernel, padding, out_size):
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
        kernel with padding 1 (3% at 32×32)."""
        xp, G, (sh, sw), (dh, dw) = get_array_module(x), self.groups, self.stride, self.dilation
        (n, C, H, W), (kH, kW), (top, bottom, left, right), (Ho, Wo) = x.shape, kernel, padding, out_size
        Hp, Wp = top + H + bottom, left + W + right
        Wq = self._row_width(W, padding, kW, Wo)
        spare = int(sw == 1 and kW > 1)       # a spare row of zeros: the last row's windows read on into it
        if (Ho - 1) * sh + (kH - 1) * dh >= Hp or (Wo - 1) * sw + (kW - 1) * dw >= Wp:
            raise ValueError(f"conv2d: {Ho}×{Wo} windows of {kH}×{kW} taps do not fit in {Hp}×{Wp} padded images")
        x_pad = x
        if top or bottom or left or right or spare:
            row = Wq if sw == 1 else Wp                                       # stored row width
            x_pad = xp.zeros((n, C, Hp + spare, row), dtype=x.dtype)          # (n, C, Hp + spare, row)
            x_pad[:, :, top:top + H, left:left + W] = x
        sN, sC, sH, sW = x_pad.strides
        windows = xp.lib.stride_tricks.as_strided(                        # (G, C/G, kH, kW, n, Ho, Wq) view
            x_pad, (G, C // G, kH, kW, n, Ho, Wq), ((C // G) * sC, sC, dh * sH, dw * sW, sN, sh * sH, sw * sW))
        return windows.reshape(G, (C // G) * kH * kW, n * Ho * Wq)       # (G, K, n·Ho·Wq) copy

    def _col2im(self, gcols, x_shape, kernel, out_size):
        """The adjoint of _im2col: gx (n, C, H, W), each entry of gcols (G, K, n·Ho·Wo) added into
        the pixel of x it was copied from, one strided slice of all pixels per tap (p, q)."""
        xp, (sh, sw), (ph, pw), (dh, dw) = get_array_module(gcols), self.stride, self.padding, self.dilation
        (n, C, H, W), (kH, kW), (Ho, Wo) = x_shape, kernel, out_size
        gcols = gcols.reshape(C, kH, kW, n, Ho, Wo)                          # (C, kH, kW, n, Ho, Wo)
        gx_pad = xp.zeros((n, C, H + 2 * ph, W + 2 * pw), dtype=gcols.dtype)  # (n, C, Hp, Wp)
        for p in range(kH):
            for q in range(kW):
                rows = slice(p * dh, p * dh + sh * (Ho - 1) + 1, sh)
                columns = slice(q * dw, q * dw + sw * (Wo - 1) + 1, sw)
                gx_pad[:, :, rows, columns] += gcols[:, p, q].transpose(1, 0, 2, 3)  # (n, C, Ho, Wo)
        return gx_pad[:, :, ph:ph + H, pw:pw + W]                            # (n, C, H, W)

    def _chunks(self, N, numbers_per_image):
        """Slices of the batch, each small enough that its im2col matrix stays in cache."""
        step = max(1, CHUNK_ELEMENTS // numbers_per_image)
        return [slice(n, min(n + step, N)) for n in range(0, N, step)]

    def _pointwise(self, kernel, padding):
        """A 1×1 kernel without padding: im2col would copy x (every sh-th row, every sw-th column)
        as it is, so skip it and multiply image by image."""
        return tuple(kernel) == (1, 1) and not any(padding)

    def _correlate(self, x, w, b, padding):
        """y (N, C_out, Ho, Wo) = b + w ⋆ x_pad, one matrix product per chunk of images."""
        xp, (N, C_in, H, W), G = get_array_module(x, w), x.shape, self.groups
        C_out, C_group, kH, kW = w.shape
        Ho, Wo = self._out_size(H, W, (kH, kW), padding)
        w_mat = w.reshape(G, C_out // G, C_group * kH * kW)                   # (G, C_out/G, K)
        if self._pointwise((kH, kW), padding):                                # one product per image
            x_s = x[:, :, ::self.stride[0], ::self.stride[1]]                 # (N, C_in, Ho, Wo) view
            y = xp.matmul(w_mat, x_s.reshape(N, G, C_group, Ho * Wo))         # (N, G, C_out/G, Ho·Wo)
            y = y.reshape(N, C_out, Ho, Wo)                                   # (N, C_out, Ho, Wo)
            return y if b is None else y + b.reshape(1, C_out, 1, 1)
        Wq = self._row_width(W, padding, kW, Wo)
        y = xp.empty((N, C_out, Ho, Wo), dtype=x.dtype)                       # (N, C_out, Ho, Wo)
        for images in self._chunks(N, C_in * kH * kW * Ho * Wq):
            cols = self._im2col(x[images], (kH, kW), padding, (Ho, Wo))       # (G, K, n·Ho·Wq)
            y_chunk = xp.matmul(w_mat, cols).reshape(C_out, -1, Ho, Wq)       # (C_out, n, Ho, Wq)
            if b is not None:
                y_chunk += b.reshape(C_out, 1, 1, 1)
            y[images] = y_chunk[..., :Wo].transpose(1, 0, 2, 3)               # (n, C_out, Ho, Wo)
        return y

    def forward(self, x, w, b=None):
        need_x, need_w = (tuple(self.needs_input_grad) + (False, False))[:2]
        self.saved = (x if need_w else x.shape, w if need_x else w.shape)
        (ph, pw) = self.padding
        return self._correlate(x, w, b, (ph, ph, pw, pw))                     # (N, C_out, Ho, Wo)

    def _weight_grad(self, x, gy, w_shape):
        """gw (C_out, C_in/G, kH, kW) = Σ over images and pixels of gy · cols, chunk by chunk."""
        xp, G, (N, C_in, H, W), (Ho, Wo) = get_array_module(x, gy), self.groups, x.shape, gy.shape[2:]
        C_out, C_group, kH, kW = w_shape
        ph, pw = self.padding
        padding = (ph, ph, pw, pw)                                             # (top, bottom, left, right)
        gy_g = gy.reshape(N, G, C_out // G, Ho, Wo)                            # (N, G, C_out/G, Ho, Wo)
        if self._pointwise((kH, kW), padding):                                 # one product per image
            x_s = x[:, :, ::self.stride[0], ::self.stride[1]]                  # (N, C_in, Ho, Wo) view
            x_t = x_s.reshape(N, G, C_group, Ho * Wo).transpose(0, 1, 3, 2)    # (N, G, Ho·Wo, C_in/G)
            gw = xp.matmul(gy_g.reshape(N, G, C_out // G, Ho * Wo), x_t).sum(axis=0)  # (G, C_out/G, C_in/G)
            return gw.reshape(w_shape)
        Wq = self._row_width(W, padding, kW, Wo)
        gw_t = xp.zeros((G, C_group * kH * kW, C_out // G), dtype=gy.dtype)    # (G, K, C_out/G)
        for images in self._chunks(N, C_in * kH * kW * Ho * Wq):
            n = images.stop - images.start
            gy_chunk = xp.zeros((G, C_out // G, n, Ho, Wq), dtype=gy.dtype)    # (G, C_out/G, n, Ho, Wq)
            gy_chunk[..., :Wo] = gy_g[images].transpose(1, 2, 0, 3, 4)         # zeros for the junk columns
            cols = self._im2col(x[images], (kH, kW), padding, (Ho, Wo))        # (G, K, n·Ho·Wq)
            gw_t += xp.matmul(cols, gy_chunk.reshape(G, C_out // G, -1).transpose(0, 2, 1))  # (G, K, C_out/G)
        return gw_t.transpose(0, 2, 1).reshape(w_shape)                        # (C_out, C_in/G, kH, kW)

    def _full_padding(self, x_shape, w_shape, out_size):
        """For stride 1, gx is itself a correlation: of gy, zero-padded to H + dh·(kH − 1) rows
        (dh·(kH − 1) − ph above) and W + dw·(kW − 1) columns alike, with the kernel flipped and its
        in/out channels swapped. Its padding (top, bottom, left, right), or None where it does
        not apply (stride > 1, or more padding than the kernel spans: col2im then)."""
        (H, W), (kH, kW), (Ho, Wo) = x_shape[2:], w_shape[2:], out_size
        (ph, pw), (dh, dw) = self.padding, self.dilation
        top, left = dh * (kH - 1) - ph, dw * (kW - 1) - pw
        padding = (top, H + dh * (kH - 1) - Ho - top, left, W + dw * (kW - 1) - Wo - left)
        return padding if self.stride == (1, 1) and min(padding) >= 0 else None

    def _input_grad(self, gy, w, x_shape):
        """gx (N, C_in, H, W): a correlation for stride 1; for a strided 1×1 kernel, wᵀ @ gy put
        back on every sh-th row and sw-th column; else col2im of wᵀ @ gy, chunk by chunk."""
        xp, G, (N, C_in, H, W), (Ho, Wo) = get_array_module(gy, w), self.groups, x_shape, gy.shape[2:]
        C_out, C_group, kH, kW = w.shape
        full_padding = self._full_padding(x_shape, w.shape, (Ho, Wo))
        if full_padding is not None:
            w_flip = w.reshape(G, C_out // G, C_group, kH, kW)[..., ::-1, ::-1]   # (G, C_out/G, C_in/G, kH, kW)
            w_flip = w_flip.transpose(0, 2, 1, 3, 4).reshape(C_in, C_out // G, kH, kW)  # (C_in, C_out/G, kH, kW)
            return Conv2dFunction(1, 0, self.dilation, G)._correlate(gy, w_flip, None, full_padding)
        w_mat_t = w.reshape(G, C_out // G, -1).transpose(0, 2, 1)              # (G, K, C_out/G)
        gy_g = gy.reshape(N, G, C_out // G, Ho * Wo)                           # (N, G, C_out/G, Ho·Wo)
        if self._pointwise((kH, kW), self.padding * 2):                        # strided 1×1: no col2im
            gx = xp.zeros(x_shape, dtype=gy.dtype)                             # (N, C_in, H, W)
            gx_s = xp.matmul(w_mat_t, gy_g).reshape(N, C_in, Ho, Wo)           # (N, C_in, Ho, Wo)
            gx[:, :, ::self.stride[0], ::self.stride[1]] = gx_s
            return gx
        gx = xp.empty(x_shape, dtype=gy.dtype)                                 # (N, C_in, H, W)
        for images in self._chunks(N, C_in * kH * kW * Ho * Wo):
            gy_chunk = gy_g[images].transpose(1, 2, 0, 3).reshape(G, C_out // G, -1)  # (G, C_out/G, n·Ho·Wo)
            gcols = xp.matmul(w_mat_t, gy_chunk)                               # (G, K, n·Ho·Wo)
            gx[images] = self._col2im(gcols, (images.stop - images.start, C_in, H, W), (kH, kW), (Ho, Wo))
        return gx

    def backward(self, gy):
        x, w = self.saved
        x_shape, w_shape = (a if isinstance(a, tuple) else a.shape for a in (x, w))
        need_x, need_w, need_b = (tuple(self.needs_input_grad) + (False,))[:3]
        gx = self._input_grad(gy, w, x_shape) if need_x else None              # (N, C_in, H, W)
        gw = self._weight_grad(x, gy, w_shape) if need_w else None             # (C_out, C_in/G, kH, kW)
        gb = gy.sum(axis=(0, 2, 3)) if need_b else None                        # (C_out,)
        return (gx, gw, gb)[:len(self.needs_input_grad)]              # no gb when called without b


def conv2d(x, w, b=None, stride=1, padding=0, dilation=1, groups=1):
    """2-D convolution of x (N, C_in, H, W) with w (C_out, C_in/groups, kH, kW), plus bias b (C_out,).

    ``stride``, ``padding`` (zeros on each side) and ``dilation`` are an int or a pair (rows,
    columns); ``groups`` splits the channels into independent convolutions. Same meaning as
    ``torch.nn.functional.conv2d``. Returns y (N, C_out, Ho, Wo); see :class:`Conv2dFunction`.
    """
    x, w = (v if isinstance(v, Tensor) else Tensor(v) for v in (x, w))
    b = b if b is None or isinstance(b, Tensor) else Tensor(b)
    op = Conv2dFunction(stride, padding, dilation, groups)
    _check(x, w, b, op)
    return op(x, w, b)


def _check(x, w, b, op):
    """Clear errors for inputs conv2d cannot use, naming the shapes involved."""
    if not is_int(op.groups) or op.groups < 1:
        raise ValueError(f"conv2d: groups must be a positive int, got {op.groups!r}")
    if x.ndim != 4:
        raise ValueError(f"conv2d: x must be 4-D (N, C_in, H, W), got shape {tuple(x.shape)}")
    if w.ndim != 4:
        raise ValueError(f"conv2d: w must be 4-D (C_out, C_in/groups, kH, kW), got shape {tuple(w.shape)}")
    (N, C_in, H, W), (C_out, C_group, kH, kW), G = x.shape, w.shape, op.groups
    if min(C_in, C_out, C_group) < 1:
        raise ValueError(f"conv2d: x (N, C_in, H, W) and w (C_out, C_in/groups, kH, kW) need at least one channel "
                         f"each, got x of shape {tuple(x.shape)} and w of shape {tuple(w.shape)}")
    if C_in % G or C_out % G:
        raise ValueError(f"conv2d: groups={G} must divide both the input channels ({C_in}, x of shape "
                         f"{tuple(x.shape)}) and the output channels ({C_out}, w of shape {tuple(w.shape)})")
    if C_in // G != C_group:
        raise ValueError(f"conv2d: x of shape {tuple(x.shape)} has {C_in} channels, but w of shape "
                         f"{tuple(w.shape)} expects C_in/groups = {C_group} (groups={G}, so {C_group * G} channels)")
    if b is not None and tuple(b.shape) != (C_out,):
        raise ValueError(f"conv2d: b must have shape ({C_out},) for w of shape {tuple(w.shape)}, got {tuple(b.shape)}")
    if x.dtype.kind != "f" or x.dtype != w.dtype or (b is not None and b.dtype != x.dtype):
        got = f"x {x.dtype}, w {w.dtype}" + ("" if b is None else f", b {b.dtype}")
        raise TypeError(f"conv2d: x, w and b must share one floating dtype, got {got}; convert one, "
                        "e.g. w.astype(x.dtype)")
    (ph, pw), (dh, dw) = op.padding, op.dilation
    if min(kH, kW) < 1:
        raise ValueError(f"conv2d: the kernel must be at least 1×1, got {kH}×{kW} (w of shape {tuple(w.shape)})")
    span_h, span_w = dh * (kH - 1) + 1, dw * (kW - 1) + 1
    if span_h > H + 2 * ph or span_w > W + 2 * pw:
        raise ValueError(f"conv2d: the kernel of w {tuple(w.shape)} spans {span_h}×{span_w} pixels (dilation "
                         f"{op.dilation}), larger than the padded input {H + 2 * ph}×{W + 2 * pw} (x of shape "
                         f"{tuple(x.shape)}, padding {op.padding})")


Convolution2d = Conv2dFunction        # the earlier name of the op class
