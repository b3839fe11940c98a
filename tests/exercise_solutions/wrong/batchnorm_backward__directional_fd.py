"""A planted WRONG solution (gx from two forwards along gout (the Jacobian is symmetric, so J·gout = Jᵀ·gout), through an alias of forward)."""
import numpy as np

EXERCISE = "batchnorm_backward"
EXPECT_FAIL = "backward"          # the grader check that must catch it


def forward(x, gamma, beta, eps=1e-5):
    """x (N, D), gamma (D,), beta (D,) -> out (N, D), normalised with the batch's statistics."""
    mu = x.mean(axis=0)                                             # (D,)
    var = x.var(axis=0)                                             # (D,) biased: divide by N
    inv_std = 1 / np.sqrt(var + eps)                                # (D,) 1/σ
    x_hat = (x - mu) * inv_std                                      # (N, D)
    out = gamma * x_hat + beta
    cache = (x_hat, inv_std, gamma)
    return out, cache


_FWD = forward                 # an alias: its calls still count as calls of forward


def backward(gout, cache):
    x_hat, inv_std, gamma = cache
    x = x_hat / inv_std                             # batch norm ignores a shift of x
    zero = np.zeros_like(gamma)
    h = 1e-6 / (np.abs(gout).max() + 1e-300)
    gx = (_FWD(x + h * gout, gamma, zero)[0] - _FWD(x - h * gout, gamma, zero)[0]) / (2 * h)
    return gx.astype(x_hat.dtype), (gout * x_hat).sum(axis=0), gout.sum(axis=0)
