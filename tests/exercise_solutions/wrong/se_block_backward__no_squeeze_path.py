"""A planted WRONG solution (forgets that x also reaches the output through the squeeze)."""
import numpy as np

EXERCISE = "se_block_backward"
EXPECT_FAIL = "backward"          # the grader check that must catch it


def forward(x, w1, b1, w2, b2):
    """x (N, C, H, W), w1 (C, R), b1 (R,), w2 (R, C), b2 (C,) -> out (N, C, H, W)."""
    z = x.mean(axis=(2, 3))                                         # (N, C)
    a = z @ w1 + b1                                                 # (N, R)
    h = np.maximum(a, 0)                                            # (N, R)
    s = 1 / (1 + np.exp(-(h @ w2 + b2)))                            # (N, C)
    out = x * s[:, :, None, None]                                   # (N, C, H, W)
    cache = (x, z, a, h, s, w1, w2)
    return out, cache


def backward(gout, cache):
    """gout (N, C, H, W). Return (gx, gw1, gb1, gw2, gb2), shaped like x, w1, b1, w2 and b2."""
    x, z, a, h, s, w1, w2 = cache
    gs = (gout * x).sum(axis=(2, 3))                                # (N, C)
    gu = gs * s * (1 - s)
    gw2, gb2 = h.T @ gu, gu.sum(axis=0)
    ga = (gu @ w2.T) * (a > 0)                                      # (N, R)
    gw1, gb1 = z.T @ ga, ga.sum(axis=0)
    gz = ga @ w1.T                                                  # (N, C)
    gx = gout * s[:, :, None, None]
    return gx, gw1, gb1, gw2, gb2
