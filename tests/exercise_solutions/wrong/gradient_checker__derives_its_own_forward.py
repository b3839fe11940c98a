"""A planted WRONG solution (measures nothing: computes the gradient of the file's own forward, tanh(x @ w),
by hand and compares; it tells nothing apart for a function it has not seen)."""
import numpy as np

EXERCISE = "gradient_checker"
EXPECT_FAIL = "rejects"          # the grader check that must catch it


def forward(x, w):
    """x (N, D), w (D, K) -> out (N, K) = tanh(x @ w)."""
    out = np.tanh(x @ w)
    return out, None


def check_gradient(forward, inputs, gout, grads):
    x, w = inputs
    g = gout * (1 - np.tanh(x @ w) ** 2)             # this exercise's forward only: no measuring at all
    right = (g @ w.T, x.T @ g)
    return all(np.allclose(a, b, rtol=1e-7, atol=1e-10) for a, b in zip(grads, right))
