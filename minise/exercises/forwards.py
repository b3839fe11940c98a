"""The exercises' NumPy forwards, exactly as tutorials/exercises/*.py hand them to the student.

The grader times them, in its own process, to set the large case's time budget in units of
"one forward": a derived backward costs a few forwards, a measured one hundreds or thousands.
tests/test_exercises.py checks that every skeleton's forward is the same code as here.
"""
import numpy as np


def relu(x):
    """x (any shape) -> out (the same shape)."""
    out = np.maximum(x, 0)
    cache = x
    return out, cache


def linear(x, w, b):
    """x (N, D_in), w (D_out, D_in), b (D_out,) -> out (N, D_out)."""
    out = x @ w.T + b
    cache = (x, w)
    return out, cache


def softmax_cross_entropy(x, y):
    """x (N, C) logits, y (N,) integer labels -> loss (a scalar)."""
    shifted = x - x.max(axis=1, keepdims=True)                      # (N, C), stable: exponents ≤ 0
    log_p = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
    n = x.shape[0]
    loss = -log_p[np.arange(n), y].mean()
    cache = (np.exp(log_p), y)                                      # p (N, C) and the labels
    return loss, cache


def batchnorm(x, gamma, beta, eps=1e-5):
    """x (N, D), gamma (D,), beta (D,) -> out (N, D), normalised with the batch's statistics."""
    mu = x.mean(axis=0)                                             # (D,)
    var = x.var(axis=0)                                             # (D,) biased: divide by N
    inv_std = 1 / np.sqrt(var + eps)                                # (D,) 1/σ
    x_hat = (x - mu) * inv_std                                      # (N, D)
    out = gamma * x_hat + beta
    cache = (x_hat, inv_std, gamma)
    return out, cache


def scale_channels(x, s):
    """x (N, C, H, W), s (N, C) -> out (N, C, H, W)."""
    out = x * s[:, :, None, None]
    cache = (x, s)
    return out, cache


def conv2d(x, w, b, stride=1, padding=0):
    """x (N, C, H, W), w (F, C, kH, kW), b (F,) -> out (N, F, Ho, Wo)."""
    (n, c, h, width), (f, _, kh, kw) = x.shape, w.shape
    x_pad = np.pad(x, ((0, 0), (0, 0), (padding, padding), (padding, padding)))   # (N, C, Hp, Wp)
    ho = (h + 2 * padding - kh) // stride + 1
    wo = (width + 2 * padding - kw) // stride + 1
    out = np.zeros((n, f, ho, wo), dtype=x.dtype)
    for p in range(kh):
        for q in range(kw):
            tap = x_pad[:, :, p:p + stride * (ho - 1) + 1:stride, q:q + stride * (wo - 1) + 1:stride]  # (N, C, Ho, Wo)
            out += np.einsum("nchw,fc->nfhw", tap, w[:, :, p, q])
    out += b[None, :, None, None]
    cache = (x, w, stride, padding)
    return out, cache


def maxpool(x, kernel_size=2, stride=2):
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

FORWARDS = {name + "_backward": fn for name, fn in [
    ("relu", relu), ("linear", linear), ("softmax_cross_entropy", softmax_cross_entropy),
    ("batchnorm", batchnorm), ("scale_channels", scale_channels), ("conv2d", conv2d), ("maxpool", maxpool)]}
