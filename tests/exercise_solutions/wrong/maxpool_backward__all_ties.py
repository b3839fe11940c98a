"""A planted WRONG solution (every element equal to its window's maximum gets the window's gradient: wrong at exact ties)."""
import numpy as np

EXERCISE = "maxpool_backward"
EXPECT_FAIL = "kinks"          # the grader check that must catch it


def forward(x, kernel_size=2, stride=2):
    """x (N, C, H, W) -> out (N, C, Ho, Wo)."""
    k, s = kernel_size, stride
    n, c, h, w = x.shape
    ho, wo = (h - k) // s + 1, (w - k) // s + 1
    out = np.full((n, c, ho, wo), -np.inf, dtype=x.dtype)
    for p in range(k):
        for q in range(k):
            out = np.maximum(out, x[:, :, p:p + s * (ho - 1) + 1:s, q:q + s * (wo - 1) + 1:s])   # (N, C, Ho, Wo)
    cache = (x, out, kernel_size, stride)
    return out, cache


def backward(gout, cache):
    x, out, kernel_size, stride = cache
    k, s = kernel_size, stride
    _, _, ho, wo = out.shape
    gx = np.zeros_like(x)
    for p in range(k):
        for q in range(k):
            where = (slice(None), slice(None), slice(p, p + s * (ho - 1) + 1, s), slice(q, q + s * (wo - 1) + 1, s))
            gx[where] += gout * (x[where] == out)
    return gx
