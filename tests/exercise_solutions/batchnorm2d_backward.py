"""Reference solution of the exercise: the backward pass of batch normalisation on images, x (N, C, H, W), training mode.

Fill in ``backward`` below (NumPy only), then grade it:

    minise grade batchnorm2d_backward.py

Each channel c is normalised over all of its m = N·H·W values, with the batch's own statistics:

    μ_c = (1/m) Σ_{n,h,w} x[n,c,h,w]          xc = x − μ_c          v_c = (1/m) Σ xc²   (biased)
    s_c = √(v_c + eps)                         out[n,c,h,w] = γ_c · xc[n,c,h,w] / s_c + β_c

The cache keeps xc (centred, not yet divided), s (1, C, 1, 1) and γ. Derive gβ, gγ, then gx: x
reaches the output directly, through μ_c and through v_c; every sum runs over (n, h, w) of one
channel. Check your gx with an upstream gradient that is not constant: with an all-ones gout the
path through v_c contributes nothing.
"""
import numpy as np

EXERCISE = "batchnorm2d_backward"


def forward(x, gamma, beta, eps=1e-5):
    """x (N, C, H, W), gamma (C,), beta (C,) -> out (N, C, H, W)."""
    mu = x.mean(axis=(0, 2, 3), keepdims=True)                      # (1, C, 1, 1)
    xc = x - mu                                                     # (N, C, H, W)
    s = np.sqrt((xc * xc).mean(axis=(0, 2, 3), keepdims=True) + eps)  # (1, C, 1, 1)
    out = gamma.reshape(1, -1, 1, 1) * (xc / s) + beta.reshape(1, -1, 1, 1)
    cache = (xc, s, gamma)
    return out, cache


def backward(gout, cache):
    """gout (N, C, H, W). Return (gx, ggamma, gbeta), shaped like x, gamma and beta."""
    xc, s, gamma = cache
    axes = (0, 2, 3)
    x_hat = xc / s                                                  # (N, C, H, W)
    gbeta = gout.sum(axis=axes)
    ggamma = (gout * x_hat).sum(axis=axes)
    g = gout * gamma.reshape(1, -1, 1, 1)                           # ∂L/∂x̂
    gx = (g - g.mean(axis=axes, keepdims=True) - x_hat * (g * x_hat).mean(axis=axes, keepdims=True)) / s
    return gx, ggamma, gbeta
