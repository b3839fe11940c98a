"""A planted WRONG solution (measures one random element per input, not every element)."""
import numpy as np

EXERCISE = "gradient_checker"
EXPECT_FAIL = "rejects"          # the grader check that must catch it


def forward(x, w):
    """x (N, D), w (D, K) -> out (N, K) = tanh(x @ w). The grader checks claims about this function."""
    out = np.tanh(x @ w)
    return out, None


def check_gradient(forward, inputs, gout, grads, eps=1e-6, rtol=1e-5, atol=1e-8):
    arrays = [np.array(a, dtype=np.float64) for a in inputs]
    rng = np.random.default_rng()
    for a, claimed in zip(arrays, grads):
        i = int(rng.integers(a.size))
        old = a.flat[i]
        a.flat[i] = old + eps
        up = float((forward(*arrays)[0] * gout).sum())
        a.flat[i] = old - eps
        down = float((forward(*arrays)[0] * gout).sum())
        a.flat[i] = old
        if abs(claimed.flat[i] - (up - down) / (2 * eps)) > atol + rtol * abs(claimed.flat[i]):
            return False
    return True
