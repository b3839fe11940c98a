"""Adaptive pooling: choose the output size, let the windows ("bins") follow.

For an input axis of length L pooled to `out` bins, bin i covers (PyTorch's rule)

    [ ⌊i·L/out⌋ , ⌈(i+1)·L/out⌉ )

so the bins cover the whole axis, differ in size by at most one, and overlap where L is not a
multiple of `out`. Output size 1 is global pooling: the "squeeze" of an SE block averages each
channel over all of H×W, giving one number per channel.
"""
from __future__ import annotations

from ..arguments import pair
from ..backend import get_array_module
from ..function import Function
from ..tensor import Tensor
from .pooling import check_pool_input, max_pool2d, refuse_unsupported_pooling


def _bins(L, out):
    """(start, end) of each of the `out` bins over an axis of length L."""
    return [((i * L) // out, -((-(i + 1) * L) // out)) for i in range(out)]


class _AdaptivePool2dFunction(Function):
    """What both adaptive ops share: the output size, with None entries resolved."""

    name = "adaptive_pool2d"

    def __init__(self, output_size):
        self.output_size = pair(output_size, "output_size", self.name, minimum=1, allow_none=True)

    def out_size(self, x_shape):
        """(Ho, Wo): output_size, None entries keeping the input's size."""
        return tuple(L if o is None else o for L, o in zip(x_shape[2:], self.output_size))


class AdaptiveAvgPool2dFunction(_AdaptivePool2dFunction):
    """y = the mean of each bin; a linear map, written with two small pooling matrices.

    Shapes   x (N, C, H, W) -> y (N, C, Ho, Wo)
    Forward  y[n,c,i,j] = mean of x[n,c,h,w] over h ∈ bin_H(i), w ∈ bin_W(j)
                        = Σ_h Σ_w P_H[i,h] · x[n,c,h,w] · P_W[j,w]
             P_H[i,h] = 1/|bin_H(i)| if h ∈ bin_H(i) else 0   (Ho, H); P_W likewise (Wo, W)
             so y = P_H · x · P_Wᵀ for every (n, c)
    Backward gx = P_Hᵀ · gy · P_W   (each x element collects gy / bin size from every bin holding it)
    Global (Ho = Wo = 1, SE's squeeze): P_H and P_W are rows of 1/H and 1/W, so
             y[n,c] = (1/(H·W)) Σ_{h,w} x[n,c,h,w],  gx = gy / (H·W), computed as such (no products)
    """

    name = "adaptive_avg_pool2d"

    @staticmethod
    def pooling_matrix(xp, L, out, dtype):
        position = xp.arange(L)[None, :]                                         # (1, L)
        starts = (xp.arange(out) * L) // out
        ends = -((-(xp.arange(out) + 1) * L) // out)
        inside = (position >= starts[:, None]) & (position < ends[:, None])      # (out, L)
        return (inside / (ends - starts)[:, None]).astype(dtype)

    def forward(self, x):
        (Ho, Wo), (H, W), xp = self.out_size(x.shape), x.shape[2:], get_array_module(x)
        P_H = self.pooling_matrix(xp, H, Ho, x.dtype)                            # (Ho, H)
        P_W = self.pooling_matrix(xp, W, Wo, x.dtype)                            # (Wo, W)
        self.save_for_backward(P_H=P_H, P_W=P_W)
        if (Ho, Wo) == (1, 1):
            return x.mean(axis=(2, 3), keepdims=True)                            # (N, C, 1, 1)
        return P_H @ (x @ P_W.T)                                                 # (N, C, Ho, Wo)

    def backward(self, gy):
        P_H, P_W = self.saved
        (Ho, H), (Wo, W) = P_H.shape, P_W.shape
        if (Ho, Wo) == (1, 1):
            xp = get_array_module(gy)
            return (xp.broadcast_to(gy / (H * W), gy.shape[:2] + (H, W)).copy(),)    # (N, C, H, W)
        return ((P_H.T @ gy) @ P_W,)                                             # (N, C, H, W)


class AdaptiveMaxPool2dFunction(_AdaptivePool2dFunction):
    """y = the largest value of each bin.

    Shapes   x (N, C, H, W) -> y (N, C, Ho, Wo)
    Forward  y[n,c,i,j] = max of x[n,c,h,w] over h ∈ bin_H(i), w ∈ bin_W(j); a = where it is
    Backward gx[n,c,h,w] = Σ_{i,j} gy[n,c,i,j] · [(h, w) is a[n,c,i,j]]   (overlapping bins add up)
    Global (Ho = Wo = 1): y[n,c] = max over all of H×W; gx is gy at the argmax, zero elsewhere
    (a single bin: one argmax over the (N, C, H·W) view, no loop).

    Ties: the first maximum in row-major order within the bin wins and gets all of gy, like
    PyTorch; a NaN wins over any number (the output is NaN) and, of several NaNs in a bin, the last
    one gets gy, as in PyTorch and max_pool2d. When every bin has the same size and they do not
    overlap (H, W multiples of Ho, Wo) this is max_pool2d with kernel = stride = (H/Ho, W/Wo), and
    ``adaptive_max_pool2d`` calls that instead when it takes fewer steps (kernel taps) than the
    loop over bins.
    """

    name = "adaptive_max_pool2d"

    def forward(self, x):
        out, xp, (N, C, H, W) = self.out_size(x.shape), get_array_module(x), x.shape
        rows, cols = _bins(H, out[0]), _bins(W, out[1])
        y = xp.empty((N, C) + out, dtype=x.dtype)                                # (N, C, Ho, Wo)
        winner = xp.empty((N, C) + out, dtype=xp.int64)      # flat index inside the bin
        for i, (h0, h1) in enumerate(rows):
            for j, (w0, w1) in enumerate(cols):
                block = x[:, :, h0:h1, w0:w1].reshape(N, C, -1)                  # (N, C, bin size)
                nan = xp.isnan(block)                                            # (N, C, bin size)
                last_nan = block.shape[-1] - 1 - nan[..., ::-1].argmax(axis=-1)  # (N, C)
                winner[:, :, i, j] = xp.where(nan.any(axis=-1), last_nan, block.argmax(axis=-1))
                y[:, :, i, j] = block.max(axis=-1)
        self.save_for_backward(winner=winner, rows=rows, cols=cols, x_shape=x.shape)
        return y

    def backward(self, gy):
        winner, rows, cols, x_shape = self.saved
        xp = get_array_module(gy)
        N, C = x_shape[:2]
        gx = xp.zeros(x_shape, dtype=gy.dtype)                                   # (N, C, H, W)
        for i, (h0, h1) in enumerate(rows):
            for j, (w0, w1) in enumerate(cols):
                one_hot = xp.arange((h1 - h0) * (w1 - w0)) == winner[:, :, i, j, None]   # (N, C, bin size)
                g_block = one_hot * gy[:, :, i, j, None]
                gx[:, :, h0:h1, w0:w1] += g_block.reshape(N, C, h1 - h0, w1 - w0)
        return (gx,)


def _adaptive_input(x, op):
    x = x if isinstance(x, Tensor) else Tensor(x)
    check_pool_input(x, op.name)
    return x


def adaptive_avg_pool2d(input: Tensor, output_size: int | tuple[int, int]) -> Tensor:
    """Average over bins chosen to give ``output_size`` (int, pair, None = keep); see AdaptiveAvgPool2dFunction."""
    op = AdaptiveAvgPool2dFunction(output_size)
    return op(_adaptive_input(input, op))


def adaptive_max_pool2d(input: Tensor, output_size: int | tuple[int, int], return_indices: bool = False) -> Tensor:
    """Max over bins chosen to give ``output_size`` (int, pair, None = keep); see AdaptiveMaxPool2dFunction.

    Equal bins that tile the input (H, W multiples of Ho, Wo) are max_pool2d's windows with
    kernel = stride = (H/Ho, W/Wo): that op is used when it takes fewer steps (taps) than bins."""
    refuse_unsupported_pooling("adaptive_max_pool2d", return_indices=return_indices)
    op = AdaptiveMaxPool2dFunction(output_size)
    x = _adaptive_input(input, op)
    (H, W), (Ho, Wo) = x.shape[2:], op.out_size(x.shape)
    if H % Ho == 0 and W % Wo == 0 and (H // Ho) * (W // Wo) <= Ho * Wo:
        return max_pool2d(x, (H // Ho, W // Wo))
    return op(x)
