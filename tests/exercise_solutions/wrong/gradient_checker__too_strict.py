"""A planted WRONG solution (demands agreement to 1e-14, which finite differences never reach)."""
import numpy as np

EXERCISE = "gradient_checker"
EXPECT_FAIL = "accepts"          # the grader check that must catch it


def forward(x, w):
    """x (N, D), w (D, K) -> out (N, K) = tanh(x @ w). The grader checks claims about this function."""
    out = np.tanh(x @ w)
    return out, None


def check_gradient(forward, inputs, gout, grads, eps=1e-6, rtol=1e-14, atol=0.0):
    """True if ``grads`` are the gradients of Σ forward(*inputs)[0] · gout, input by input."""
    def loss(arrays):
        return float((forward(*arrays)[0] * gout).sum())

    arrays = [np.array(a, dtype=np.float64) for a in inputs]       # copies we may perturb
    for a, claimed in zip(arrays, grads):
        if claimed.shape != a.shape:
            return False
        measured = np.zeros_like(a)
        for i in range(a.size):
            old = a.flat[i]
            a.flat[i] = old + eps
            up = loss(arrays)
            a.flat[i] = old - eps
            down = loss(arrays)
            a.flat[i] = old
            measured.flat[i] = (up - down) / (2 * eps)
        scale = np.abs(measured).max(initial=0)
        if np.any(np.abs(claimed - measured) > atol + rtol * scale + rtol * np.abs(measured)):
            return False
    return True
