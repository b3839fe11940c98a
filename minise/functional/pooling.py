"""Pooling over sliding windows: max_pool2d and avg_pool2d.

A kH×kW window slides over every channel of x (N, C, H, W) with a stride; each output keeps the
largest value (max) or the mean (avg) of its window. Both ops loop over the kH·kW kernel *taps*
instead of the windows: tap (i, j) is one strided slice of the padded input,

    tap_ij[n, c, oh, ow] = x_pad[n, c, oh·sH + i, ow·sW + j]          (N, C, oH, oW)

so that the window of output (oh, ow) is {tap_ij[.., oh, ow] for all i, j}. Forward is a running
max (or sum) over the taps; backward adds the gradient back into the padded input, tap by tap,
through the same strided slices. No per-element Python loop, no scatter (np.add.at).

Output size (PyTorch's rule, per spatial axis, input L, kernel k, stride s, padding p):

    floor mode  out = ⌊(L + 2p − k) / s⌋ + 1
    ceil mode   out = ⌈(L + 2p − k) / s⌉ + 1, minus 1 if the last window would start at or after
                L + p (every window must start inside the input or the left padding)

Padding must be at most half the kernel (p ≤ ⌊k/2⌋), so every window holds a real element.
"""
import itertools

import numpy as np

from ..arguments import conv_output_size, pair
from ..backend import get_array_module
from ..function import Function


def check_input(x, op):
    """x must be a floating-point (N, C, H, W) array with H, W ≥ 1."""
    if x.ndim != 4:
        raise ValueError(f"{op} expects a 4-D input (N, C, H, W), got shape {tuple(x.shape)}")
    if x.dtype.kind != "f":
        raise TypeError(f"{op} expects a floating-point input, got dtype {x.dtype} (shape {tuple(x.shape)})")
    if x.shape[2] < 1 or x.shape[3] < 1:
        raise ValueError(f"{op} needs H, W ≥ 1, got input shape {tuple(x.shape)}")


def _output_length(L, k, s, p, ceil_mode):
    if ceil_mode:
        out = -((L + 2 * p - k) // -s) + 1
        if (out - 1) * s >= L + p:
            out -= 1
        return out
    return conv_output_size(L, k, s, p)


class _Pool2dFunction(Function):
    """What max and avg pooling share: the checked window, the output size, padding and taps."""

    name = "pool2d"

    def __init__(self, kernel_size, stride=None, padding=0, ceil_mode=False):
        op = self.name
        self.kernel = pair(kernel_size, "kernel_size", op)
        self.stride = self.kernel if stride is None else pair(stride, "stride", op)
        self.padding = pair(padding, "padding", op)
        self.ceil_mode = bool(ceil_mode)
        if min(self.kernel) < 1 or min(self.stride) < 1:
            raise ValueError(f"{op}: kernel_size and stride must be ≥ 1, got kernel_size {self.kernel}, "
                             f"stride {self.stride}")
        if min(self.padding) < 0:
            raise ValueError(f"{op}: padding must be ≥ 0, got {self.padding}")
        if any(p > k // 2 for p, k in zip(self.padding, self.kernel)):
            raise ValueError(f"{op}: padding {self.padding} must be at most half of kernel_size {self.kernel} "
                             "(padding ≤ kernel_size // 2 on each axis, as in PyTorch)")

    def geometry(self, x):
        """Output size (oH, oW) and the padded size (Hp, Wp) that holds every window."""
        check_input(x, self.name)
        H, W = x.shape[2:]
        out = tuple(_output_length(L, k, s, p, self.ceil_mode)
                    for L, k, s, p in zip((H, W), self.kernel, self.stride, self.padding))
        if min(out) < 1:
            raise ValueError(f"{self.name}: kernel_size {self.kernel} is larger than the padded input: input "
                             f"(H, W) = {(H, W)} with padding {self.padding} gives output size {out}; "
                             f"input shape {tuple(x.shape)}")
        padded = tuple(max(L + 2 * p, (o - 1) * s + k)     # ceil mode may hang off the right padding
                       for L, o, k, s, p in zip((H, W), out, self.kernel, self.stride, self.padding))
        return out, padded

    def pad(self, x, padded, fill):
        """x placed at (pH, pW) inside an array of spatial size ``padded`` filled with ``fill``."""
        N, C, H, W = x.shape
        if padded == (H, W):
            return x
        pH, pW = self.padding
        x_pad = get_array_module(x).full((N, C) + padded, fill, dtype=x.dtype)    # (N, C, Hp, Wp)
        x_pad[:, :, pH:pH + H, pW:pW + W] = x
        return x_pad

    def taps(self, out):
        """(t, index) for every kernel tap, t counting in row-major order; x_pad[index] is tap t."""
        (sH, sW), (oH, oW) = self.stride, out
        for t, (i, j) in enumerate(itertools.product(range(self.kernel[0]), range(self.kernel[1]))):
            yield t, (slice(None), slice(None), slice(i, i + sH * (oH - 1) + 1, sH),
                      slice(j, j + sW * (oW - 1) + 1, sW))

    def unpad(self, g_pad, x_shape):
        """The part of a padded gradient that belongs to x."""
        (pH, pW), (H, W) = self.padding, x_shape[2:]
        gx = g_pad[:, :, pH:pH + H, pW:pW + W]                                   # (N, C, H, W)
        return get_array_module(gx).ascontiguousarray(gx)


class MaxPool2dFunction(_Pool2dFunction):
    """y = the largest value of each kH×kW window (padding counts as −∞, so it never wins).

    Shapes   x (N, C, H, W) -> y (N, C, oH, oW)             (oH, oW from the rule in the module doc)
    Forward  y[n,c,oh,ow] = max_{i<kH, j<kW} x_pad[n,c,oh·sH+i, ow·sW+j],   x_pad = x padded with −∞
             a[n,c,oh,ow] = the winning tap t = i·kW + j (kept as a small uint8 array)
    Backward gx_pad[n,c,oh·sH+i, ow·sW+j] += gy[n,c,oh,ow] · [a[n,c,oh,ow] = i·kW+j]
             gx = gx_pad without its padding (overlapping windows add up)

    Ties: the first maximum in row-major window order (smallest row, then smallest column) wins
    and gets all of gy, like PyTorch's CPU kernel; forward's argmax and backward use the same a.
    NaN wins over any number (the last NaN in that order, as in PyTorch), so NaN propagates.
    A window whose real values are all −∞ may give its gradient to a padded cell (dropped).
    """

    name = "max_pool2d"

    def forward(self, x):
        out, padded = self.geometry(x)
        xp = get_array_module(x)
        x_pad = self.pad(x, padded, -np.inf)                                     # (N, C, Hp, Wp)
        index_type = xp.uint8 if self.kernel[0] * self.kernel[1] <= 256 else xp.int32
        winner = xp.zeros(x.shape[:2] + out, dtype=index_type)                   # (N, C, oH, oW)
        best = None
        for t, index in self.taps(out):
            tap = x_pad[index]                                                   # (N, C, oH, oW)
            if best is None:
                best = tap.copy()
                continue
            better = tap > best                          # strict >: an earlier tap keeps a tie
            better |= xp.isnan(tap)                      # ... and NaN beats everything
            # t exceeds every earlier tap number, so "winner = t where better" is a maximum
            # (branch-free arithmetic: much faster than where() or masked assignment)
            xp.maximum(winner, better.astype(index_type) * index_type(t), out=winner)
            xp.maximum(best, tap, out=best)              # NaN propagates, as it should
        if not self.needs_input_grad or self.needs_input_grad[0]:    # () when called directly
            self.saved = (winner, x.shape, padded)
        return best

    def backward(self, gy):
        winner, x_shape, padded = self.saved
        xp = get_array_module(gy)
        g_pad = xp.zeros(x_shape[:2] + padded, dtype=gy.dtype)                  # (N, C, Hp, Wp)
        for t, index in self.taps(gy.shape[2:]):
            g_pad[index] += gy * (winner == t)
        return (self.unpad(g_pad, x_shape),)


class AvgPool2dFunction(_Pool2dFunction):
    """y = the mean of each kH×kW window.

    Shapes   x (N, C, H, W) -> y (N, C, oH, oW)
    Forward  y[n,c,oh,ow] = (1 / d[oh,ow]) · Σ_{i<kH, j<kW} x_pad[n,c,oh·sH+i, ow·sW+j],  x_pad = x padded with 0
    Backward gx_pad[n,c,oh·sH+i, ow·sW+j] += gy[n,c,oh,ow] / d[oh,ow]   for every tap (i, j)
             gx = gx_pad without its padding

    The divisor d = d_H[oh] · d_W[ow], per axis (window start b = o·s − p, as in PyTorch):
      count_include_pad=True   d = min(b + k, L + p) − b        padding counts, but a ceil-mode
                                                               window hanging off past the right
                                                               padding counts only up to L + p
      count_include_pad=False  d = min(b + k, L) − max(b, 0)    real elements only
    """

    name = "avg_pool2d"

    def __init__(self, kernel_size, stride=None, padding=0, ceil_mode=False, count_include_pad=True):
        super().__init__(kernel_size, stride, padding, ceil_mode)
        self.count_include_pad = bool(count_include_pad)

    def divisor(self, xp, x_shape, out, dtype):
        """d[oh, ow], the number each window's sum is divided by."""
        counts = []
        for L, o, k, s, p in zip(x_shape[2:], out, self.kernel, self.stride, self.padding):
            begin = xp.arange(o) * s - p
            end = xp.minimum(begin + k, L + p)
            if not self.count_include_pad:
                begin, end = xp.maximum(begin, 0), xp.minimum(end, L)
            counts.append(end - begin)
        return (counts[0][:, None] * counts[1][None, :]).astype(dtype)            # (oH, oW)

    def forward(self, x):
        out, padded = self.geometry(x)
        xp = get_array_module(x)
        x_pad = self.pad(x, padded, 0)                                           # (N, C, Hp, Wp)
        total = None
        for _, index in self.taps(out):
            if total is None:
                total = x_pad[index].copy()                                      # (N, C, oH, oW)
            else:
                total += x_pad[index]
        d = self.divisor(xp, x.shape, out, x.dtype)
        if not self.needs_input_grad or self.needs_input_grad[0]:    # () when called directly
            self.saved = (d, x.shape, padded)
        return total / d

    def backward(self, gy):
        d, x_shape, padded = self.saved
        xp = get_array_module(gy)
        share = gy / d                                                           # (N, C, oH, oW)
        g_pad = xp.zeros(x_shape[:2] + padded, dtype=gy.dtype)                  # (N, C, Hp, Wp)
        for _, index in self.taps(gy.shape[2:]):
            g_pad[index] += share
        return (self.unpad(g_pad, x_shape),)


def max_pool2d(x, kernel_size, stride=None, padding=0, ceil_mode=False):
    """Max pooling over kH×kW windows (stride defaults to kernel_size); see :class:`MaxPool2dFunction`."""
    return MaxPool2dFunction(kernel_size, stride, padding, ceil_mode)(x)


def avg_pool2d(x, kernel_size, stride=None, padding=0, ceil_mode=False, count_include_pad=True):
    """Average pooling over kH×kW windows (stride defaults to kernel_size); see :class:`AvgPool2dFunction`."""
    return AvgPool2dFunction(kernel_size, stride, padding, ceil_mode, count_include_pad)(x)
