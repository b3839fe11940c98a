"""Exercise: the backward pass of softmax followed by cross-entropy (mean over the batch).

Fill in ``backward`` below (NumPy only), then grade it:

    minise grade softmax_cross_entropy_backward.py

    p[n, c] = e^(x[n, c]) / Σ_k e^(x[n, k])           softmax of the logits x (N, C)
    loss    = −(1/N) Σ_n log p[n, y[n]]               y (N,) holds the true classes

Derive ∂(−log p[n, y[n]])/∂x[n, c] (write log p[n, y] = x[n, y] − log Σ_k e^(x[n, k]) first);
the answer is short. Then remember the two things around it:

* the loss is a mean over the N samples;
* the loss is a scalar, and gout = ∂L/∂loss is a scalar too (a 0-d array): multiply by it,
  don't assume it is 1.
"""
import numpy as np

EXERCISE = "softmax_cross_entropy_backward"


def forward(x, y):
    """x (N, C) logits, y (N,) integer labels -> loss (a scalar)."""
    shifted = x - x.max(axis=1, keepdims=True)                      # (N, C), stable: exponents ≤ 0
    log_p = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
    n = x.shape[0]
    loss = -log_p[np.arange(n), y].mean()
    cache = (np.exp(log_p), y)                                      # p (N, C) and the labels
    return loss, cache


def backward(gout, cache):
    """gout: a scalar (0-d array). Return gx = ∂L/∂x, shaped (N, C), of x's dtype.

    The labels y get no gradient: return only gx.
    """
    p, y = cache
    raise NotImplementedError("derive gx = ∂L/∂x and write it here")
