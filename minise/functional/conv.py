"""2-D convolution (cross-correlation, as in every deep-learning library), forward and backward.

The op is matrix products around one idea, *im2col*: lay each input window the kernel visits out
as one column of a matrix ``cols`` (rows: the C_in/G·kH·kW window entries, columns: the Ho·Wo
output pixels of one image). Then, image by image and group by group,

    forward   y  = w @ cols          (C_out/G, K) @ (K, Ho·Wo): one row per output channel
    backward  gw = Σ_n gy @ colsᵀ    how much each weight saw of each pixel's gradient
              gx = col2im(wᵀ @ gy)   a gradient for every window entry, added back into the
                                     pixels the windows came from: one strided slice-add per
                                     kernel tap (kH·kW of them), never a scatter of single elements

``cols`` is first a *view* of the padded input (``as_strided``: no copy, only strides that step to
the next tap and to the next output pixel), copied into a contiguous matrix for the product.

Speed and memory: ``cols`` is kH·kW times the size of its images (9× for 3×3), so it is built for
a few images at a time (a chunk of about ``CHUNK_ELEMENTS`` numbers, which stays in the CPU's
cache) and never kept: backward rebuilds it from the saved input, which costs one copy but keeps a
network's memory at what its activations need. Everything stays in x's dtype (float32 stays
float32). The plain loops that define the op are in :mod:`minise.functional.conv_reference`.
Derived in tutorials/03_conv2d.py.
"""
from ..backend import get_array_module
from ..function import Function

CHUNK_ELEMENTS = 2 ** 19     # im2col numbers built at once (2 MiB in float32); at least one image


def _pair(value, name, minimum):
    """An int or a pair of ints -> a pair of ints, each ≥ ``minimum``."""
    pair = tuple(value) if isinstance(value, (tuple, list)) else (value, value)
    if len(pair) != 2 or not all(isinstance(v, int) and not isinstance(v, bool) for v in pair):
        raise TypeError(f"conv2d: {name} must be an int or a pair of ints, got {value!r}")
    if min(pair) < minimum:
        raise ValueError(f"conv2d: {name} must be ≥ {minimum}, got {value!r}")
    return pair


class Convolution2d(Function):
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
        self.stride = _pair(stride, "stride", 1)
        self.padding = _pair(padding, "padding", 0)
        self.dilation = _pair(dilation, "dilation", 1)
        self.groups = groups

    def _pad(self, x):
        """x (N, C, H, W) -> x_pad (N, C, H + 2·ph, W + 2·pw), zeros around."""
        (ph, pw), (N, C, H, W) = self.padding, x.shape
        if ph == pw == 0:
            return x
        x_pad = get_array_module(x).zeros((N, C, H + 2 * ph, W + 2 * pw), dtype=x.dtype)  # (N, C, Hp, Wp)
        x_pad[:, :, ph:ph + H, pw:pw + W] = x
        return x_pad

    def _windows(self, x_pad, kernel, out_size):
        """Every window of x_pad as a strided view (no copy): (N, G, C/G, kH, kW, Ho, Wo),
        [n, g, c, p, q, i, j] = x_pad[n, g·C/G + c, i·sh + p·dh, j·sw + q·dw]."""
        N, C = x_pad.shape[:2]
        G, (sh, sw), (dh, dw) = self.groups, self.stride, self.dilation
        sN, sC, sH, sW = x_pad.strides
        shape = (N, G, C // G, *kernel, *out_size)
        strides = (sN, (C // G) * sC, sC, sH * dh, sW * dw, sH * sh, sW * sw)
        return get_array_module(x_pad).lib.stride_tricks.as_strided(x_pad, shape, strides)

    def _chunks(self, N, K, out_size):
        """Slices of the batch, each small enough that its im2col matrix stays in cache."""
        step = max(1, CHUNK_ELEMENTS // (K * out_size[0] * out_size[1]))
        return [slice(n, min(n + step, N)) for n in range(0, N, step)]

    def forward(self, x, w, b=None):
        N, C_in, H, W = x.shape
        C_out, C_group, kH, kW = w.shape
        (sh, sw), (ph, pw), (dh, dw), G = self.stride, self.padding, self.dilation, self.groups
        Ho = (H + 2 * ph - dh * (kH - 1) - 1) // sh + 1
        Wo = (W + 2 * pw - dw * (kW - 1) - 1) // sw + 1
        K = C_group * kH * kW
        xp = get_array_module(x, w)
        windows = self._windows(self._pad(x), (kH, kW), (Ho, Wo))         # (N, G, C/G, kH, kW, Ho, Wo)
        w_mat = w.reshape(G, C_out // G, K)                                 # (G, C_out/G, K)
        y = xp.empty((N, G, C_out // G, Ho * Wo), dtype=x.dtype)
        for images in self._chunks(N, K, (Ho, Wo)):
            cols = windows[images].reshape(-1, G, K, Ho * Wo)                # (n, G, K, Ho·Wo) copy
            xp.matmul(w_mat, cols, out=y[images])                           # (n, G, C_out/G, Ho·Wo)
        y = y.reshape(N, C_out, Ho, Wo)                                     # (N, C_out, Ho, Wo)
        if b is not None:
            y += b.reshape(1, C_out, 1, 1)
        self.saved = (x if self.needs_input_grad[1] else x.shape, w)
        return y

    def backward(self, gy):
        x, w = self.saved
        x_shape = x if isinstance(x, tuple) else x.shape
        xp = get_array_module(gy, w)
        (N, C_in, H, W), (_, C_out, Ho, Wo) = x_shape, gy.shape
        _, C_group, kH, kW = w.shape
        (sh, sw), (ph, pw), (dh, dw), G = self.stride, self.padding, self.dilation, self.groups
        K = C_group * kH * kW
        need_x, need_w, need_b = (tuple(self.needs_input_grad) + (False,))[:3]
        gy_g = gy.reshape(N, G, C_out // G, Ho * Wo)                        # (N, G, C_out/G, Ho·Wo)
        w_mat = w.reshape(G, C_out // G, K)                                 # (G, C_out/G, K)
        gb = gy.sum(axis=(0, 2, 3)) if need_b else None                     # (C_out,)
        if need_w:
            windows = self._windows(self._pad(x), (kH, kW), (Ho, Wo))     # (N, G, C/G, kH, kW, Ho, Wo)
            gw = xp.zeros((G, C_out // G, K), dtype=w.dtype)
        if need_x:
            gx_pad = xp.zeros((N, C_in, H + 2 * ph, W + 2 * pw), dtype=w.dtype)  # (N, C_in, Hp, Wp)
        for images in self._chunks(N, K, (Ho, Wo)):
            if need_w:
                cols = windows[images].reshape(-1, G, K, Ho * Wo)            # (n, G, K, Ho·Wo) copy
                gw += (gy_g[images] @ cols.transpose(0, 1, 3, 2)).sum(axis=0)  # (G, C_out/G, K)
            if need_x:
                gcols = w_mat.transpose(0, 2, 1) @ gy_g[images]             # (n, G, K, Ho·Wo)
                gcols = gcols.reshape(-1, C_in, kH, kW, Ho, Wo)             # (n, C_in, kH, kW, Ho, Wo)
                for p in range(kH):                                         # col2im: one slice-add per tap
                    for q in range(kW):
                        rows = slice(p * dh, p * dh + sh * (Ho - 1) + 1, sh)
                        columns = slice(q * dw, q * dw + sw * (Wo - 1) + 1, sw)
                        gx_pad[images, :, rows, columns] += gcols[:, :, p, q]  # (n, C_in, Ho, Wo)
        gx = gx_pad[:, :, ph:ph + H, pw:pw + W] if need_x else None         # (N, C_in, H, W)
        gw = gw.reshape(C_out, C_group, kH, kW) if need_w else None         # (C_out, C_in/G, kH, kW)
        return (gx, gw, gb)[:len(self.needs_input_grad)]             # no gb when called without b

def conv2d(x, w, b=None, stride=1, padding=0, dilation=1, groups=1):
    """2-D convolution of x (N, C_in, H, W) with w (C_out, C_in/groups, kH, kW), plus bias b (C_out,).

    ``stride``, ``padding`` (zeros on each side) and ``dilation`` are an int or a pair (rows,
    columns); ``groups`` splits the channels into independent convolutions. Same meaning as
    ``torch.nn.functional.conv2d``. Returns y (N, C_out, Ho, Wo); see :class:`Convolution2d`.
    """
    op = Convolution2d(stride, padding, dilation, groups)
    _check(x, w, b, op)
    return op(x, w, b)


def _check(x, w, b, op):
    """Clear errors for inputs conv2d cannot use, naming the shapes involved."""
    if not isinstance(op.groups, int) or isinstance(op.groups, bool) or op.groups < 1:
        raise ValueError(f"conv2d: groups must be a positive int, got {op.groups!r}")
    if x.ndim != 4:
        raise ValueError(f"conv2d: x must be 4-D (N, C_in, H, W), got shape {tuple(x.shape)}")
    if w.ndim != 4:
        raise ValueError(f"conv2d: w must be 4-D (C_out, C_in/groups, kH, kW), got shape {tuple(w.shape)}")
    (N, C_in, H, W), (C_out, C_group, kH, kW), G = x.shape, w.shape, op.groups
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
    span_h, span_w = dh * (kH - 1) + 1, dw * (kW - 1) + 1
    if min(kH, kW) < 1 or span_h > H + 2 * ph or span_w > W + 2 * pw:
        raise ValueError(f"conv2d: the kernel of w {tuple(w.shape)} spans {span_h}×{span_w} pixels (dilation "
                         f"{op.dilation}), larger than the padded input {H + 2 * ph}×{W + 2 * pw} (x of shape "
                         f"{tuple(x.shape)}, padding {op.padding})")
