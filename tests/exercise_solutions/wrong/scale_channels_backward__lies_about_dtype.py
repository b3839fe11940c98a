"""A planted WRONG solution (builds float64 gradients and returns them as an ndarray subclass whose dtype
property says float32: the reply carries the array's real dtype, and the grader reads that)."""
import numpy as np

EXERCISE = "scale_channels_backward"
EXPECT_FAIL = "float32"          # the grader check that must catch it


class Lying(np.ndarray):
    """Says float32, holds float64."""

    @property
    def dtype(self):
        return np.dtype(np.float32)


def forward(x, s):
    """x (N, C, H, W), s (N, C) -> out (N, C, H, W)."""
    return x * s[:, :, None, None], (x, s)


def backward(gout, cache):
    x, s = cache
    gx = (gout.astype(np.float64) * s[:, :, None, None]).view(Lying)
    gs = (gout.astype(np.float64) * x).sum(axis=(2, 3)).view(Lying)
    return gx, gs
