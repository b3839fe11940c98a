"""Exercise: the backward pass of a whole Squeeze-and-Excitation block (Hu et al., arXiv 1709.01507).

Fill in ``backward`` below (NumPy only), then grade it:

    minise grade se_block_backward.py

    x (N, C, H, W); w1 (C, R), b1 (R,); w2 (R, C), b2 (C,)      (R = C / r, the reduction)
    z = mean of x over (H, W)          (N, C)   squeeze
    a = z @ w1 + b1,   h = max(a, 0)   (N, R)   (note the layout: x @ w, not x @ wᵀ)
    u = h @ w2 + b2,   s = σ(u)        (N, C)   excitation
    out = x · s[:, :, None, None]      (N, C, H, W)   scale

Walk back from out: gs (the scales' gradient) sums gout · x over (H, W); then through σ (σ' = s(1 − s)),
the second layer, the ReLU (slope 0 where a ≤ 0), the first layer, and the squeeze (every x[n, c, h, w]
gets gz[n, c] / (H·W)). x reaches out twice, directly and through the squeeze: add both.
Return the gradients of all five inputs.
"""
import numpy as np

EXERCISE = "se_block_backward"


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
    raise NotImplementedError("derive the five gradients and write them here")
