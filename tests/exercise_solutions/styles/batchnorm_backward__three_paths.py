"""Another right solution of batchnorm_backward, in another style: the three paths (direct, through the mean, through the variance) one by one."""
import numpy as np

EXERCISE = "batchnorm_backward"


def forward(x, gamma, beta, eps=1e-5):
    """x (N, D), gamma (D,), beta (D,) -> out (N, D), normalised with the batch's statistics."""
    mu = x.mean(axis=0)                                             # (D,)
    var = x.var(axis=0)                                             # (D,) biased: divide by N
    inv_std = 1 / np.sqrt(var + eps)                                # (D,) 1/σ
    x_hat = (x - mu) * inv_std                                      # (N, D)
    out = gamma * x_hat + beta
    cache = (x_hat, inv_std, gamma)
    return out, cache


def backward(gout, cache):
    x_hat, inv_std, gamma = cache
    n = x_hat.shape[0]
    g = gout * gamma                                                # ∂L/∂x̂
    xc = x_hat / inv_std                                            # x − μ
    gvar = (g * xc).sum(axis=0) * -0.5 * inv_std ** 3               # through σ²
    gmu = -(g * inv_std).sum(axis=0) + gvar * (-2 * xc).mean(axis=0)  # through μ
    gx = g * inv_std + gvar * 2 * xc / n + gmu / n
    return gx, (gout * x_hat).sum(axis=0), gout.sum(axis=0)
