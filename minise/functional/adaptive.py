"""Adaptive pooling: choose the output size, let the windows ("bins") follow.

For an input axis of length L pooled to `out` bins, bin i covers (PyTorch's rule)

    [ ⌊i·L/out⌋ , ⌈(i+1)·L/out⌉ )

so the bins cover the whole axis, differ in size by at most one, and overlap where L is not a
multiple of `out`. Output size 1 is global pooling: the "squeeze" of an SE block averages each
channel over all of H×W, giving one number per channel.
"""
from ..arguments import pair
from ..backend import get_array_module
from ..function import Function
from .pooling import MaxPool2dFunction, check_input


def _bins(L, out):
    """(start, end) of each of the `out` bins over an axis of length L."""
    return [((i * L) // out, -((-(i + 1) * L) // out)) for i in range(out)]


class _AdaptivePool2dFunction(Function):
    """What both adaptive ops share: the checked output size, with None entries resolved."""

    name = "adaptive_pool2d"

    def __init__(self, output_size):
        self.output_size = pair(output_size, "output_size", self.name, minimum=1, allow_none=True)

    def resolve(self, x):
        check_input(x, self.name)
        return tuple(L if o is None else o for L, o in zip(x.shape[2:], self.output_size))


class AdaptiveAvgPool2dFunction(_AdaptivePool2dFunction):
    """y = the mean of each bin; a linear map, written with two small pooling matrices.

    Shapes   x (N, C, H, W) -> y (N, C, oH, oW)
    Forward  y[n,c,i,j] = mean of x[n,c,h,w] over h ∈ bin_H(i), w ∈ bin_W(j)
                        = Σ_h Σ_w P_H[i,h] · x[n,c,h,w] · P_W[j,w]
             P_H[i,h] = 1/|bin_H(i)| if h ∈ bin_H(i) else 0   (oH, H); P_W likewise (oW, W)
             so y = P_H · x · P_Wᵀ for every (n, c)
    Backward gx = P_Hᵀ · gy · P_W   (each x element collects gy / bin size from every bin holding it)
    Global (oH = oW = 1, SE's squeeze): y[n,c] = (1/(H·W)) Σ_{h,w} x[n,c,h,w],  gx = gy / (H·W)
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
        out = self.resolve(x)
        H, W = x.shape[2:]
        self.global_pool = out == (1, 1)
        if self.global_pool:
            self.saved = (H, W)
            return x.mean(axis=(2, 3), keepdims=True)                            # (N, C, 1, 1)
        xp = get_array_module(x)
        P_H = self.pooling_matrix(xp, H, out[0], x.dtype)                        # (oH, H)
        P_W = self.pooling_matrix(xp, W, out[1], x.dtype)                        # (oW, W)
        self.saved = (P_H, P_W)
        return P_H @ (x @ P_W.T)                                                 # (N, C, oH, oW)

    def backward(self, gy):
        if self.global_pool:
            H, W = self.saved
            xp = get_array_module(gy)
            return (xp.broadcast_to(gy / (H * W), gy.shape[:2] + (H, W)).copy(),)    # (N, C, H, W)
        P_H, P_W = self.saved
        return ((P_H.T @ gy) @ P_W,)                                             # (N, C, H, W)


class AdaptiveMaxPool2dFunction(_AdaptivePool2dFunction):
    """y = the largest value of each bin.

    Shapes   x (N, C, H, W) -> y (N, C, oH, oW)
    Forward  y[n,c,i,j] = max of x[n,c,h,w] over h ∈ bin_H(i), w ∈ bin_W(j); a = where it is
    Backward gx[n,c,h,w] = Σ_{i,j} gy[n,c,i,j] · [(h, w) is a[n,c,i,j]]   (overlapping bins add up)
    Global (oH = oW = 1): y[n,c] = max over all of H×W; gx is gy at the argmax, zero elsewhere
    (a single bin: one argmax over the (N, C, H·W) view, no loop).

    Ties: the first maximum in row-major order within the bin wins and gets all of gy, like
    PyTorch; a NaN wins over any number (the output is NaN) and, of several NaNs in a bin, the last
    one gets gy, as in PyTorch and max_pool2d. When every bin has the same size and they do not
    overlap (H, W multiples of oH, oW) this is max_pool2d with kernel = stride = (H/oH, W/oW), and is computed by it when that takes
    fewer steps (kernel taps) than the loop over bins.
    """

    name = "adaptive_max_pool2d"

    def forward(self, x):
        out = self.resolve(x)
        xp = get_array_module(x)
        N, C, H, W = x.shape
        if H % out[0] == 0 and W % out[1] == 0 and (H // out[0]) * (W // out[1]) <= out[0] * out[1]:
            pool = MaxPool2dFunction((H // out[0], W // out[1]))      # equal, disjoint bins: fewer taps than bins
            pool.needs_input_grad = self.needs_input_grad
            self.saved = pool                                  # it keeps what its backward needs
            return pool.forward(x)
        rows, cols = _bins(H, out[0]), _bins(W, out[1])
        y = xp.empty((N, C) + out, dtype=x.dtype)                                # (N, C, oH, oW)
        winner = xp.empty((N, C) + out, dtype=xp.int64)      # flat index inside the bin
        for i, (h0, h1) in enumerate(rows):
            for j, (w0, w1) in enumerate(cols):
                block = x[:, :, h0:h1, w0:w1].reshape(N, C, -1)                  # (N, C, bin size)
                nan = xp.isnan(block)                                            # (N, C, bin size)
                last_nan = block.shape[-1] - 1 - nan[..., ::-1].argmax(axis=-1)  # (N, C)
                winner[:, :, i, j] = xp.where(nan.any(axis=-1), last_nan, block.argmax(axis=-1))
                y[:, :, i, j] = block.max(axis=-1)
        self.saved = (winner, rows, cols, x.shape)
        return y

    def backward(self, gy):
        if isinstance(self.saved, MaxPool2dFunction):
            return self.saved.backward(gy)
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


def adaptive_avg_pool2d(x, output_size):
    """Average over bins chosen to give ``output_size`` (int, pair, None = keep); see AdaptiveAvgPool2dFunction."""
    return AdaptiveAvgPool2dFunction(output_size)(x)


def adaptive_max_pool2d(x, output_size):
    """Max over bins chosen to give ``output_size`` (int, pair, None = keep); see AdaptiveMaxPool2dFunction."""
    return AdaptiveMaxPool2dFunction(output_size)(x)
