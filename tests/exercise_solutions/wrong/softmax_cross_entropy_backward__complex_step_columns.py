"""A planted WRONG solution (measures the gradient a column at a time with a complex step, every row at once:
exact to the last digit, one forward per class, so the large case has thousands of classes)."""
import numpy as np

EXERCISE = "softmax_cross_entropy_backward"
EXPECT_FAIL = "large input"       # the grader check that must catch it


def forward(x, y):
    """x (N, C) logits, y (N,) integer labels -> loss (a scalar)."""
    shifted = x - x.max(axis=1, keepdims=True)
    log_p = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
    n = x.shape[0]
    loss = -log_p[np.arange(n), y].mean()
    return loss, (x, y)


def _row_losses(z, y):
    """The forward written out again, one loss per row, for complex logits (shifted by the real maximum)."""
    shifted = z - z.real.max(axis=1, keepdims=True)
    log_p = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
    return -log_p[np.arange(z.shape[0]), y]


def backward(gout, cache):
    x, y = cache
    n, c = x.shape
    step = 1e-30
    gx = np.zeros(x.shape, dtype=np.float64)
    for j in range(c):                              # rows are independent: one column of every row at once
        z = x.astype(np.complex128)
        z[:, j] += 1j * step
        gx[:, j] = _row_losses(z, y).imag / step
    return (gx * (gout / n)).astype(x.dtype)
