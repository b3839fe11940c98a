"""A planted WRONG solution (says yes to everything)."""
import numpy as np

EXERCISE = "gradient_checker"
EXPECT_FAIL = "rejects"          # the grader check that must catch it


def forward(x, w):
    """x (N, D), w (D, K) -> out (N, K) = tanh(x @ w). The grader checks claims about this function."""
    out = np.tanh(x @ w)
    return out, None


def check_gradient(forward, inputs, gout, grads, eps=1e-6, rtol=1e-5, atol=1e-8):
    return True
