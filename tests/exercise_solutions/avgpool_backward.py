"""Reference solution of the exercise: the backward pass of 2-D average pooling, with zero padding, counted in or not.

Fill in ``backward`` below (NumPy only), then grade it:

    minise grade avgpool_backward.py

    x (N, C, H, W) -> out (N, C, Ho, Wo),   Ho = (H + 2·padding − k) // stride + 1   (Wo alike)
    x_pad = x with `padding` rows and columns of zeros on each side
    out[n, c, i, j] = (1 / count[i, j]) · Σ_{p, q < k} x_pad[n, c, i·stride + p, j·stride + q]

count_include_pad=True:  count = k·k for every window, padding or not (PyTorch's default).
count_include_pad=False: count[i, j] = how many elements of window (i, j) are real x, not padding;
                         windows at the border divide by less.

The forward keeps `count` in its cache (a number, or an (Ho, Wo) array). Each element of x gets, from
every window that contains it, that window's gout divided by the window's count; windows overlap
when stride < k, so add. Then cut the padding off.
"""
import numpy as np

EXERCISE = "avgpool_backward"


def forward(x, kernel_size=2, stride=2, padding=0, count_include_pad=True):
    """x (N, C, H, W) -> out (N, C, Ho, Wo)."""
    k, st, pad = kernel_size, stride, padding
    n, c, h, w = x.shape
    ho, wo = (h + 2 * pad - k) // st + 1, (w + 2 * pad - k) // st + 1
    x_pad = np.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad)))    # (N, C, H + 2·pad, W + 2·pad)
    real = np.pad(np.ones((h, w)), pad)                             # 1 on x, 0 on the padding
    total = np.zeros((n, c, ho, wo), dtype=x.dtype)
    count = np.zeros((ho, wo))
    for p in range(k):
        for q in range(k):
            rows, cols = slice(p, p + st * (ho - 1) + 1, st), slice(q, q + st * (wo - 1) + 1, st)
            total += x_pad[:, :, rows, cols]                        # (N, C, Ho, Wo)
            count += real[rows, cols]                               # (Ho, Wo)
    if count_include_pad:
        count = np.array(float(k * k))
    out = (total / count).astype(x.dtype)
    cache = (x.shape, count, kernel_size, stride, padding)
    return out, cache


def backward(gout, cache):
    """gout (N, C, Ho, Wo). Return gx, shaped like x."""
    x_shape, count, kernel_size, stride, padding = cache
    k, st, pad = kernel_size, stride, padding
    n, c, h, w = x_shape
    _, _, ho, wo = gout.shape
    share = gout / count                                            # what each element of a window gets
    gx_pad = np.zeros((n, c, h + 2 * pad, w + 2 * pad), dtype=gout.dtype)
    for p in range(k):
        for q in range(k):
            gx_pad[:, :, p:p + st * (ho - 1) + 1:st, q:q + st * (wo - 1) + 1:st] += share
    return gx_pad[:, :, pad:pad + h, pad:pad + w]
