"""2-D convolution (cross-correlation, as in every deep-learning library), forward and backward.

The op below reads like its math: forward is a correlation, and backward is three named pieces,

    gx = conv_transpose2d(gy, w)      each output pixel's gradient handed back to its window
    gw = conv2d_weight_grad(x, gy)    the correlation of x with gy
    gb = Σ_{n,i,j} gy

Two implementations provide the same three functions (``conv2d``, ``conv_transpose2d``,
``conv2d_weight_grad``), chosen with ``F.conv2d(..., impl=...)``:

* ``"fast"`` (the default), :mod:`minise.functional.conv_fast`: matrix products around *im2col*
  (:mod:`minise.functional.conv_im2col`): each input window laid out as one column of a matrix,
  a few images at a time, with its fast paths (chunks that stay in cache, stride-1 "wide rows",
  1×1 kernels without im2col) all behind that one correlation;
* ``"reference"``, :mod:`minise.functional.conv_reference`: the formulas as plain loops over the
  kernel's taps, slow and obviously right. A student can train with it, and the tests hold the
  fast one to it.

Memory: the fast im2col matrix is never kept; backward rebuilds it from the saved input, which
costs one copy but keeps a network's memory at what its activations need. Work that no gradient
needs is skipped, and an input no gradient needs is not kept. Everything stays in x's dtype
(float32 stays float32). Letters: (i, j) output pixels, (p, q) kernel taps.
Derived in tutorials/03_conv2d.py.
"""
from __future__ import annotations

from ..arguments import check_float_dtypes, check_ndim, conv_output_size, one_of, pair, positive_int
from ..function import Function
from ..tensor import Tensor
from . import conv_fast, conv_reference

IMPLEMENTATIONS = {"fast": conv_fast, "reference": conv_reference}


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
                           (the correlation of x with gy: conv2d_weight_grad)
             gx_pad[n, g·C_in/G + c, i·sh + p·dh, j·sw + q·dw] += Σ_o gy[n,o,i,j] · w[o,c,p,q]
                           for every tap (p, q): each output pixel hands its gradient back to the
                           input pixels of its window, a transposed convolution (conv_transpose2d;
                           for stride 1 the "full" correlation of gy with the flipped kernel);
                           gx = gx_pad without its padding.
    Derived in tutorials/03_conv2d.py.
    """

    def __init__(self, stride=1, padding=0, dilation=1, groups=1, impl="fast"):
        self.stride = pair(stride, "stride", "conv2d", minimum=1)
        self.padding = pair(padding, "padding", "conv2d", minimum=0)
        self.dilation = pair(dilation, "dilation", "conv2d", minimum=1)
        self.groups = positive_int(groups, "groups", "conv2d")
        self.impl = IMPLEMENTATIONS[one_of(impl, tuple(IMPLEMENTATIONS), "impl", "conv2d")]

    def geometry(self):
        return self.stride, self.padding, self.dilation, self.groups

    def forward(self, x, w, b):
        need_x, need_w, _ = self.needs_input_grad
        self.save_for_backward(x=x if need_w else None, w=w if need_x else None,   # gw needs x, gx needs w
                               x_shape=x.shape, w_shape=w.shape)
        return self.impl.conv2d(x, w, b, *self.geometry())                     # (N, C_out, Ho, Wo)

    def backward(self, gy):
        x, w, x_shape, w_shape = self.saved
        need_x, need_w, need_b = self.needs_input_grad
        gx = self.impl.conv_transpose2d(gy, w, x_shape, *self.geometry()) if need_x else None  # (N, C_in, H, W)
        gw = self.impl.conv2d_weight_grad(x, gy, w_shape, *self.geometry()) if need_w else None  # like w
        gb = gy.sum(axis=(0, 2, 3)) if need_b else None                        # (C_out,)
        return gx, gw, gb


def conv2d(input: Tensor, weight: Tensor, bias: Tensor | None = None, stride: int | tuple[int, int] = 1,
           padding: int | tuple[int, int] = 0, dilation: int | tuple[int, int] = 1, groups: int = 1,
           impl: str = "fast") -> Tensor:
    """2-D convolution of x = ``input`` (N, C_in, H, W) with w = ``weight`` (C_out, C_in/groups, kH, kW),
    plus b = ``bias`` (C_out,).

    ``stride``, ``padding`` (zeros on each side) and ``dilation`` are an int or a pair (rows,
    columns); ``groups`` splits the channels into independent convolutions. Same meaning as
    ``torch.nn.functional.conv2d``. ``impl="reference"`` computes forward and backward with the
    plain tap loops of :mod:`minise.functional.conv_reference` (slow; same numbers).
    Returns y (N, C_out, Ho, Wo); see :class:`Conv2dFunction`.
    """
    x, w = (v if isinstance(v, Tensor) else Tensor(v) for v in (input, weight))
    b = bias if bias is None or isinstance(bias, Tensor) else Tensor(bias)
    op = Conv2dFunction(stride, padding, dilation, groups, impl)
    check_conv2d_inputs(x, w, b, op)
    return op(x, w, b)


def check_conv2d_inputs(x, w, b, op):
    """Every way conv2d's inputs can be wrong (the op's math assumes none), each named with the
    shapes involved."""
    check_ndim(x, "(N, C_in, H, W)", "x", "conv2d")
    check_ndim(w, "(C_out, C_in/groups, kH, kW)", "w", "conv2d")
    (_, C_in, H, W), (C_out, C_group, kH, kW), G = x.shape, w.shape, op.groups
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
    check_float_dtypes("conv2d", x=x, w=w, b=b)
    if min(kH, kW) < 1:
        raise ValueError(f"conv2d: the kernel must be at least 1×1, got {kH}×{kW} (w of shape {tuple(w.shape)})")
    (sh, sw), (ph, pw), (dh, dw) = op.stride, op.padding, op.dilation
    if min(conv_output_size(H, kH, sh, ph, dh), conv_output_size(W, kW, sw, pw, dw)) < 1:
        raise ValueError(f"conv2d: the kernel of w {tuple(w.shape)} spans {dh * (kH - 1) + 1}×{dw * (kW - 1) + 1} "
                         f"pixels (dilation {op.dilation}), larger than the padded input {H + 2 * ph}×{W + 2 * pw} "
                         f"(x of shape {tuple(x.shape)}, padding {op.padding})")


Convolution2d = Conv2dFunction        # the earlier name of the op class
