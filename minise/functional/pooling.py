"""Pooling over sliding windows: max_pool2d and avg_pool2d.

A kH×kW window slides over every channel of x (N, C, H, W) with a stride; each output keeps the
largest value (max) or the mean (avg) of its window. Both ops loop over the kH·kW kernel *taps*
instead of the windows: tap (p, q) is one strided slice of the padded input,

    tap_pq[n, c, i, j] = x_pad[n, c, i·sh + p, j·sw + q]              (N, C, Ho, Wo)

so that the window of output (i, j) is {tap_pq[.., i, j] for all p, q}. Forward is a running
max (or sum) over the taps; backward adds the gradient back into the padded input, tap by tap,
through the same strided slices. No per-element Python loop, no scatter (np.add.at). The letters
are conv2d's: (i, j) output positions, (p, q) kernel taps.

Output size (PyTorch's rule, per spatial axis, input L, kernel k, stride s, padding pd):

    floor mode  out = ⌊(L + 2·pd − k) / s⌋ + 1
    ceil mode   out = ⌈(L + 2·pd − k) / s⌉ + 1, minus 1 if the last window would start at or after
                L + pd (every window must start inside the input or the left padding)

Padding must be at most half the kernel (pd ≤ ⌊k/2⌋), so every window holds a real element.
"""
from __future__ import annotations

import itertools

import numpy as np

from ..arguments import check_ndim, conv_output_size, pair
from ..backend import get_array_module
from ..function import Function
from ..parallel import chunked, for_each_chunk, into
from ..tensor import Tensor


def _output_length(L, k, s, pd, ceil_mode):
    if ceil_mode:
        out = -((L + 2 * pd - k) // -s) + 1
        if (out - 1) * s >= L + pd:
            out -= 1
        return out
    return conv_output_size(L, k, s, pd)


class _Pool2dFunction(Function):
    """What max and avg pooling share: the window, the output size, padding and taps."""

    name = "pool2d"

    def __init__(self, kernel_size, stride=None, padding=0, ceil_mode=False):
        self.kernel = pair(kernel_size, "kernel_size", self.name, minimum=1)
        self.stride = self.kernel if stride is None else pair(stride, "stride", self.name, minimum=1)
        self.padding = pair(padding, "padding", self.name, minimum=0)
        self.ceil_mode = bool(ceil_mode)
        if any(pd > k // 2 for pd, k in zip(self.padding, self.kernel)):
            raise ValueError(f"{self.name}: padding {self.padding} must be at most half of kernel_size {self.kernel} "
                             "(padding ≤ kernel_size // 2 on each axis, as in PyTorch)")

    def out_size(self, x_shape):
        """(Ho, Wo), by the rule in the module doc."""
        return tuple(_output_length(L, k, s, pd, self.ceil_mode)
                     for L, k, s, pd in zip(x_shape[2:], self.kernel, self.stride, self.padding))

    def padded_size(self, x_shape, out):
        """(Hp, Wp), the padded size that holds every window (ceil mode may hang off the right padding)."""
        return tuple(max(L + 2 * pd, (o - 1) * s + k)
                     for L, o, k, s, pd in zip(x_shape[2:], out, self.kernel, self.stride, self.padding))

    def pad(self, x, padded, fill):
        """x placed at (ph, pw) inside an array of spatial size ``padded`` filled with ``fill``."""
        N, C, H, W = x.shape
        if padded == (H, W):
            return x
        ph, pw = self.padding
        x_pad = get_array_module(x).full((N, C) + padded, fill, dtype=x.dtype)    # (N, C, Hp, Wp)
        x_pad[:, :, ph:ph + H, pw:pw + W] = x
        return x_pad

    def taps(self, out):
        """(t, index) for every kernel tap (p, q), t = p·kW + q counting in row-major order;
        x_pad[index] is tap t for every output (i, j)."""
        (sh, sw), (Ho, Wo) = self.stride, out
        for t, (p, q) in enumerate(itertools.product(range(self.kernel[0]), range(self.kernel[1]))):
            yield t, (slice(None), slice(None), slice(p, p + sh * (Ho - 1) + 1, sh),
                      slice(q, q + sw * (Wo - 1) + 1, sw))

    def unpad(self, g_pad, x_shape):
        """The part of a padded gradient that belongs to x (a view)."""
        (ph, pw), (H, W) = self.padding, x_shape[2:]
        return g_pad[:, :, ph:ph + H, pw:pw + W]                                 # (N, C, H, W) view


class MaxPool2dFunction(_Pool2dFunction):
    """y = the largest value of each kH×kW window (padding counts as −∞, so it never wins).

    Shapes   x (N, C, H, W) -> y (N, C, Ho, Wo)             (Ho, Wo from the rule in the module doc)
    Forward  y[n,c,i,j] = max_{p<kH, q<kW} x_pad[n,c,i·sh+p, j·sw+q],   x_pad = x padded with −∞
             a[n,c,i,j] = the winning tap t = p·kW + q (kept as a small uint8 array)
    Backward gx_pad[n,c,i·sh+p, j·sw+q] += gy[n,c,i,j] · [a[n,c,i,j] = p·kW+q]
             gx = gx_pad without its padding (overlapping windows add up)

    Ties: the first maximum in row-major window order (smallest row, then smallest column) wins
    and gets all of gy, like PyTorch's CPU kernel; forward's argmax and backward use the same a.
    NaN wins over any number (the last NaN in that order, as in PyTorch), so NaN propagates.
    A window whose real values are all −∞ may give its gradient to a padded cell (dropped).
    """

    name = "max_pool2d"

    def forward(self, x):
        out = self.out_size(x.shape)
        padded = self.padded_size(x.shape, out)
        xp = get_array_module(x)
        index_type = xp.uint8 if self.kernel[0] * self.kernel[1] <= 256 else xp.int32
        best = xp.empty(x.shape[:2] + out, dtype=x.dtype)                        # (N, C, Ho, Wo)
        winner = xp.empty(x.shape[:2] + out, dtype=index_type)                   # (N, C, Ho, Wo)

        def pool_images(start, stop):
            self.window_max(self.pad(x[start:stop], padded, -np.inf), best[start:stop], winner[start:stop])

        for_each_chunk(len(x), pool_images, like=x, cost=x.size * 3)
        self.save_for_backward(winner=winner, x_shape=x.shape, padded=padded)
        return best

    def window_max(self, x_pad, best, winner):
        """best and winner of every window of x_pad (n, C, Hp, Wp), written in place, in two steps
        of kW and kH taps instead of kH·kW: the max of each window's row (along the width, for
        every row of x_pad), then the max of those rows. The first maximum of the first row that
        holds the window's maximum is the first in row-major order, so the ties go as in
        ``window_max_reference``; a chunk with a NaN is left to that reference (NaN's own rule)."""
        xp, index_type, (kH, kW), (sh, sw) = get_array_module(x_pad), winner.dtype.type, self.kernel, self.stride
        Ho, Wo = best.shape[2:]
        rows = [slice(k, k + sh * (Ho - 1) + 1, sh) for k in range(kH)]         # tap row k of every window
        columns = [slice(k, k + sw * (Wo - 1) + 1, sw) for k in range(kW)]
        row_max, q = first_max([x_pad[..., c] for c in columns], index_type)    # (n, C, Hp, Wo)
        _, p = first_max([row_max[:, :, r] for r in rows], index_type, out=best)   # (n, C, Ho, Wo)
        winner[...] = q[:, :, rows[0]]                                           # t = p·kW + q: its row's q
        for k in range(1, kH):
            xp.copyto(winner, q[:, :, rows[k]] + index_type(k * kW), where=p == k)
        if xp.isnan(best).any():
            self.window_max_reference(x_pad, best, winner)

    def window_max_reference(self, x_pad, best, winner):
        """best and winner of every window of x_pad (n, C, Hp, Wp), written in place: a running
        max over the kH·kW taps, as the class docstring reads."""
        xp, index_type = get_array_module(x_pad), winner.dtype.type
        winner[...] = 0
        for t, index in self.taps(best.shape[2:]):
            tap = x_pad[index]                                                   # (n, C, Ho, Wo)
            if t == 0:
                best[...] = tap
                continue
            better = tap > best                          # strict >: an earlier tap keeps a tie
            better |= xp.isnan(tap)                      # ... and NaN beats everything
            # t exceeds every earlier tap number, so "winner = t where better" is a maximum
            # (branch-free arithmetic: much faster than where() or masked assignment)
            xp.maximum(winner, better.astype(index_type) * index_type(t), out=winner)
            xp.maximum(best, tap, out=best)              # NaN propagates, as it should

    def backward(self, gy):
        winner, x_shape, padded = self.saved
        xp = get_array_module(gy)
        # on the host one scatter by flat index; on a device the tap loop (scatters add in no
        # fixed order there)
        route = self.scatter_to_winners if xp is np else self.route_to_winners_reference
        gx = chunked(lambda gy, winner, out=None: into(out, self.unpad(route(gy, winner, padded), x_shape)),
                     gy, winner)                                                 # (N, C, H, W)
        return (xp.ascontiguousarray(gx),)

    def scatter_to_winners(self, gy, winner, padded):
        """g_pad (n, C, Hp, Wp): each gy added into the padded pixel that won its window, found
        by its flat index, in one pass over gy (np.add.at adds repeated indices up, in order).
        Last output first: the windows meeting at a pixel then add up in the order of their taps
        there (a later window meets it at an earlier tap), as in route_to_winners_reference,
        which this equals to the bit."""
        (n, C, Ho, Wo), (Hp, Wp), (sh, sw) = gy.shape, padded, self.stride
        tap_offset = np.array([p * Wp + q for p in range(self.kernel[0]) for q in range(self.kernel[1])])   # by t
        window_start = np.arange(Ho)[:, None] * (sh * Wp) + np.arange(Wo) * sw                          # (Ho, Wo)
        image_start = np.arange(n * C).reshape(n, C, 1, 1) * (Hp * Wp)                                 # (n, C, 1, 1)
        index = tap_offset[winner] + window_start + image_start                 # (n, C, Ho, Wo) into g_pad
        g_pad = np.zeros(n * C * Hp * Wp, dtype=gy.dtype)
        np.add.at(g_pad, index.ravel()[::-1], gy.ravel()[::-1])
        return g_pad.reshape(n, C, Hp, Wp)                                       # (n, C, Hp, Wp)

    def route_to_winners_reference(self, gy, winner, padded):
        """g_pad (n, C, Hp, Wp): for every tap t, the gy whose window t won, added into that
        tap's strided slice, as the class docstring reads."""
        g_pad = get_array_module(gy).zeros(gy.shape[:2] + padded, dtype=gy.dtype)   # (n, C, Hp, Wp)
        for t, index in self.taps(gy.shape[2:]):
            g_pad[index] += gy * (winner == t)
        return g_pad


class AvgPool2dFunction(_Pool2dFunction):
    """y = the mean of each kH×kW window.

    Shapes   x (N, C, H, W) -> y (N, C, Ho, Wo)
    Forward  y[n,c,i,j] = (1 / d[i,j]) · Σ_{p<kH, q<kW} x_pad[n,c,i·sh+p, j·sw+q],  x_pad = x padded with 0
    Backward gx_pad[n,c,i·sh+p, j·sw+q] += gy[n,c,i,j] / d[i,j]   for every tap (p, q)
             gx = gx_pad without its padding

    The divisor d = d_H[i] · d_W[j], per axis (window start b = i·s − pd, as in PyTorch):
      count_include_pad=True   d = min(b + k, L + pd) − b       padding counts, but a ceil-mode
                                                               window hanging off past the right
                                                               padding counts only up to L + pd
      count_include_pad=False  d = min(b + k, L) − max(b, 0)    real elements only
    """

    name = "avg_pool2d"

    def __init__(self, kernel_size, stride=None, padding=0, ceil_mode=False, count_include_pad=True):
        super().__init__(kernel_size, stride, padding, ceil_mode)
        self.count_include_pad = bool(count_include_pad)

    def divisor(self, xp, x_shape, out, dtype):
        """d[i, j], the number each window's sum is divided by."""
        counts = []
        for L, o, k, s, pd in zip(x_shape[2:], out, self.kernel, self.stride, self.padding):
            begin = xp.arange(o) * s - pd
            end = xp.minimum(begin + k, L + pd)
            if not self.count_include_pad:
                begin, end = xp.maximum(begin, 0), xp.minimum(end, L)
            counts.append(end - begin)
        return (counts[0][:, None] * counts[1][None, :]).astype(dtype)            # (Ho, Wo)

    def forward(self, x):
        size = self.out_size(x.shape)                                            # (Ho, Wo)
        padded = self.padded_size(x.shape, size)
        d = self.divisor(get_array_module(x), x.shape, size, x.dtype)            # (Ho, Wo)

        def window_means(x, out=None):
            x_pad = self.pad(x, padded, 0)                                       # (n, C, Hp, Wp)
            total = None
            for _, index in self.taps(size):
                if total is None:
                    total = x_pad[index].copy()                                  # (n, C, Ho, Wo)
                else:
                    total += x_pad[index]
            return get_array_module(x).divide(total, d, out=out)

        self.save_for_backward(d=d, x_shape=x.shape, padded=padded)
        return chunked(window_means, x)                                          # (N, C, Ho, Wo)

    def backward(self, gy):
        d, x_shape, padded = self.saved

        def spread(gy, out=None):
            share = gy / d                                                       # (n, C, Ho, Wo)
            g_pad = get_array_module(gy).zeros(gy.shape[:2] + padded, dtype=gy.dtype)   # (n, C, Hp, Wp)
            for _, index in self.taps(gy.shape[2:]):
                g_pad[index] += share
            return into(out, self.unpad(g_pad, x_shape))                         # (n, C, H, W)

        gx = chunked(spread, gy)                                                 # (N, C, H, W)
        return (get_array_module(gx).ascontiguousarray(gx),)


def first_max(candidates, index_type, out=None):
    """(largest, k): the element-wise maximum of same-shaped arrays and the index of the first
    array that holds it (ties: the earliest; NaN is not looked for), largest written into ``out``
    when given."""
    xp = get_array_module(candidates[0])
    largest = candidates[0].copy() if out is None else out
    if out is not None:
        largest[...] = candidates[0]
    index = xp.zeros(largest.shape, dtype=index_type)
    for k, candidate in enumerate(candidates[1:], start=1):
        # k exceeds every earlier index, so "index = k where larger" is a maximum (branch-free
        # arithmetic: much faster than where() or masked assignment)
        xp.maximum(index, (candidate > largest) * index_type(k), out=index)      # strict >: ties stay
        xp.maximum(largest, candidate, out=largest)
    return largest, index


def check_pool_input(x, op):
    """x must be a floating-point (N, C, H, W) tensor with H, W ≥ 1."""
    check_ndim(x, "(N, C, H, W)", "x", op)
    if x.dtype.kind != "f":
        raise TypeError(f"{op} expects a floating-point input, got dtype {x.dtype} (shape {tuple(x.shape)})")
    if x.shape[2] < 1 or x.shape[3] < 1:
        raise ValueError(f"{op} needs H, W ≥ 1, got input shape {tuple(x.shape)}")


def _check_window(x, op):
    """The window must fit the padded input at least once."""
    check_pool_input(x, op.name)
    out = op.out_size(x.shape)
    if min(out) < 1:
        raise ValueError(f"{op.name}: kernel_size {op.kernel} is larger than the padded input: input "
                         f"(H, W) = {tuple(x.shape[2:])} with padding {op.padding} gives output size {out}; "
                         f"input shape {tuple(x.shape)}")


def _pool(op, x):
    x = x if isinstance(x, Tensor) else Tensor(x)
    _check_window(x, op)
    return op(x)


def refuse_unsupported_pooling(where, dilation=1, return_indices=False, divisor_override=None):
    """PyTorch's pooling arguments that minise does not implement, refused by name when used (rather
    than ignored, or taken positionally for the next argument)."""
    unsupported = {"dilation": dilation != 1 and dilation != (1, 1), "return_indices": bool(return_indices),
                   "divisor_override": divisor_override is not None}
    used = [name for name, is_used in unsupported.items() if is_used]
    if used:
        raise NotImplementedError(f"{where}: {', '.join(used)} is not supported by minise's pooling "
                                  "(only its default is); pool without it")


def max_pool2d(input: Tensor, kernel_size: int | tuple[int, int], stride: int | tuple[int, int] | None = None,
               padding: int | tuple[int, int] = 0, dilation: int | tuple[int, int] = 1, ceil_mode: bool = False,
               return_indices: bool = False) -> Tensor:
    """Max pooling over kH×kW windows (stride defaults to kernel_size); see :class:`MaxPool2dFunction`.
    PyTorch's arguments in its order; ``dilation`` other than 1 and ``return_indices`` are refused."""
    refuse_unsupported_pooling("max_pool2d", dilation=dilation, return_indices=return_indices)
    return _pool(MaxPool2dFunction(kernel_size, stride, padding, ceil_mode), input)


def avg_pool2d(input: Tensor, kernel_size: int | tuple[int, int], stride: int | tuple[int, int] | None = None,
               padding: int | tuple[int, int] = 0, ceil_mode: bool = False, count_include_pad: bool = True,
               divisor_override: int | None = None) -> Tensor:
    """Average pooling over kH×kW windows (stride defaults to kernel_size); see :class:`AvgPool2dFunction`.
    PyTorch's arguments in its order; ``divisor_override`` is refused."""
    refuse_unsupported_pooling("avg_pool2d", divisor_override=divisor_override)
    return _pool(AvgPool2dFunction(kernel_size, stride, padding, ceil_mode, count_include_pad), input)
