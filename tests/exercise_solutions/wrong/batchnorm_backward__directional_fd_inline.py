"""A planted WRONG solution (gx from two forwards along gout (J·gout = Jᵀ·gout: the Jacobian is symmetric), written out by hand; its step is lost in float32)."""
import numpy as np

EXERCISE = "batchnorm_backward"
EXPECT_FAIL = "float32"          # the grader check that must catch it


def forward(x, gamma, beta, eps=1e-5):
    """x (N, D), gamma (D,), beta (D,) -> out (N, D), normalised with the batch's statistics."""
    mu = x.mean(axis=0)                                             # (D,)
    var = x.var(axis=0)                                             # (D,) biased: divide by N
    inv_std = 1 / np.sqrt(var + eps)                                # (D,) 1/σ
    x_hat = (x - mu) * inv_std                                      # (N, D)
    out = gamma * x_hat + beta
    cache = (x_hat, inv_std, gamma)
    return out, cache


def _FWD(x, gamma, beta, eps=1e-5):
    mu = x.mean(axis=0)
    x_hat = (x - mu) / np.sqrt(x.var(axis=0) + eps)
    return gamma * x_hat + beta, None


def backward(gout, cache):
    x_hat, inv_std, gamma = cache
    x = x_hat / inv_std                             # batch norm ignores a shift of x
    zero = np.zeros_like(gamma)
    h = 1e-6 / (np.abs(gout).max() + 1e-300)
    gx = (_FWD(x + h * gout, gamma, zero)[0] - _FWD(x - h * gout, gamma, zero)[0]) / (2 * h)
    return gx.astype(x_hat.dtype), (gout * x_hat).sum(axis=0), gout.sum(axis=0)
