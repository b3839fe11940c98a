"""A planted WRONG solution (measures the gradient element by element on one-row batches: N·C pairs of forwards).

Exercise: the backward pass of softmax followed by cross-entropy (mean over the batch).

Fill in ``backward`` below (NumPy only), then grade it:

    minise grade tutorials/exercises/softmax_cross_entropy_backward.py

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
EXPECT_FAIL = "large input"       # the grader check that must catch it


def forward(x, y):
    """x (N, C) logits, y (N,) integer labels -> loss (a scalar)."""
    shifted = x - x.max(axis=1, keepdims=True)                      # (N, C), stable: exponents ≤ 0
    log_p = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
    n = x.shape[0]
    loss = -log_p[np.arange(n), y].mean()
    cache = (np.exp(log_p), y, x)                                     # p (N, C) and the labels
    return loss, cache


_forward = forward   # a private reference: these calls are not counted as calls of forward()



def backward(gout, cache):
    p, y, x = cache
    x = x.astype(np.float64)
    n, classes = x.shape
    h = 1e-5
    gx = np.zeros_like(x)
    for i in range(n):
        for j in range(classes):
            step = np.zeros((1, classes))
            step[0, j] = h
            up, down = _forward(x[i:i + 1] + step, y[i:i + 1])[0], _forward(x[i:i + 1] - step, y[i:i + 1])[0]
            gx[i, j] = (up - down) / (2 * h)
    return (gx * (gout / n)).astype(p.dtype)
