"""A planted WRONG solution (the (N, D) batch-norm backward pasted in: statistics over N only, not over N, H, W)."""
import numpy as np

EXERCISE = "batchnorm2d_backward"
EXPECT_FAIL = "backward"          # the grader check that must catch it


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
    axes = 0
    x_hat = xc / s                                                  # (N, C, H, W)
    gbeta = gout.sum(axis=axes)
    ggamma = (gout * x_hat).sum(axis=axes)
    g = gout * gamma.reshape(1, -1, 1, 1)                           # ∂L/∂x̂
    gx = (g - g.mean(axis=axes, keepdims=True) - x_hat * (g * x_hat).mean(axis=axes, keepdims=True)) / s
    return gx, ggamma, gbeta
