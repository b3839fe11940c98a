"""A planted WRONG solution (measures the slopes of Σ out instead of Σ out · gout)."""
import numpy as np

EXERCISE = "gradient_checker"
EXPECT_FAIL = "rejects"          # the grader check that must catch it


def forward(x, w):
    """x (N, D), w (D, K) -> out (N, K) = tanh(x @ w). The grader checks claims about this function."""
    out = np.tanh(x @ w)
    return out, None


def check_gradient(forward, inputs, gout, grads, eps=1e-6, rtol=1e-5, atol=1e-8):
    arrays = [np.array(a, dtype=np.float64) for a in inputs]
    for a, claimed in zip(arrays, grads):
        measured = np.zeros_like(a)
        for i in range(a.size):
            old = a.flat[i]
            a.flat[i] = old + eps
            up = float(forward(*arrays)[0].sum())
            a.flat[i] = old - eps
            down = float(forward(*arrays)[0].sum())
            a.flat[i] = old
            measured.flat[i] = (up - down) / (2 * eps)
        if np.any(np.abs(claimed - measured) > atol + rtol * np.abs(measured).max()):
            return False
    return True
