"""Channel scaling: the last step of Squeeze-and-Excitation (Hu et al., arXiv 1709.01507).

The excitation path turns each image's feature maps into one number per channel, s[n, c] in
(0, 1), and the block's output is the input with every channel multiplied by its number. The
gradient flows two ways: back into x (scaled like the forward), and into s, from where it goes
up the excitation path to the squeeze (global average pooling) and on to x a second time.
"""
from __future__ import annotations

from ..arguments import check_float_dtypes, check_ndim
from ..backend import get_array_module
from ..function import Function
from ..parallel import chunked, into
from ..tensor import Tensor


class ScaleChannelsFunction(Function):
    """Excitation's last step: y = x · s, one scale per channel.

    Shapes   x (N, C, H, W) · s (N, C) -> y (N, C, H, W)
    Forward  y[n,c,h,w] = x[n,c,h,w] · s[n,c]
    Backward gx[n,c,h,w] = gy[n,c,h,w] · s[n,c]
             gs[n,c]     = Σ_{h,w} gy[n,c,h,w] · x[n,c,h,w]
    s[n,c] touches all H·W positions of its channel, so its gradient sums over them.
    Images do not mix: both passes run on chunks of images in parallel (minise.parallel).
    Derived in tutorials/05_squeeze_and_excitation.py
    """

    def forward(self, x, s):
        self.save_for_backward(x=x, s=s)
        return chunked(scale, x, s)                              # (N, C, H, W)

    def backward(self, gy):
        x, s = self.saved
        need_x, need_s = self.needs_input_grad
        gx = chunked(scale, gy, s) if need_x else None          # (N, C, H, W)
        gs = chunked(channel_dot, gy, x, blas=True) if need_s else None   # (N, C)  Σ_{h,w} gy·x
        return gx, gs


def scale(x, s, out=None):
    """x (N, C, H, W) · s (N, C), channel by channel: the forward as the docstring writes it."""
    return get_array_module(x).multiply(x, s[:, :, None, None], out=out)   # (N, C, H, W)


def channel_dot(a, b, out=None):
    """Σ_{h,w} a[n,c,h,w] · b[n,c,h,w] for every (n, c): the same as ``(a * b).sum(axis=(2, 3))``,
    as N·C dot products (a batched matrix product), which skips the (N, C, H, W) temporary a·b."""
    N, C, H, W = a.shape
    rows = a.reshape(N, C, 1, H * W)                           # (N, C, 1, H·W)
    columns = b.reshape(N, C, H * W, 1)                        # (N, C, H·W, 1)
    return into(out, (rows @ columns).reshape(N, C))           # (N, C)


def scale_channels(x: Tensor, s: Tensor) -> Tensor:
    """x (N, C, H, W) with channel c of image n multiplied by s[n, c]; s has shape (N, C).

    >>> import numpy as np
    >>> x = Tensor(np.ones((2, 3, 4, 4)))
    >>> s = Tensor(np.array([[0.5, 1.0, 2.0], [0.0, 1.0, 1.0]]))
    >>> y = scale_channels(x, s)
    >>> y.shape
    (2, 3, 4, 4)
    >>> y.data[:, :, 0, 0].tolist()
    [[0.5, 1.0, 2.0], [0.0, 1.0, 1.0]]
    """
    x, s = (v if isinstance(v, Tensor) else Tensor(v) for v in (x, s))
    check_scale_inputs(x, s)
    return ScaleChannelsFunction()(x, s)


def check_scale_inputs(x, s):
    """x (N, C, H, W) and s (N, C) of one floating dtype, or a clear error."""
    check_ndim(x, "(N, C, H, W)", "x", "scale_channels")
    if s.ndim != 2:
        raise ValueError(f"scale_channels: s must be 2-D (N, C), one scale per image and channel; "
                         f"got shape {s.shape} for x of shape {x.shape}")
    if s.shape != x.shape[:2]:
        raise ValueError(f"scale_channels: s of shape {s.shape} does not match x of shape {x.shape}; "
                         f"expected s of shape {x.shape[:2]} (N, C)")
    check_float_dtypes("scale_channels", x=x, s=s)


ScaleChannels = ScaleChannelsFunction   # the earlier name of the op class
