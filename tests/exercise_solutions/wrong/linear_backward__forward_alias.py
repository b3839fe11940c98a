"""A planted WRONG solution (finite differences element by element through `_FWD = forward`, so that the calls look like another function's)."""
import numpy as np

EXERCISE = "linear_backward"
EXPECT_FAIL = "backward"          # the grader check that must catch it


def forward(x, w, b):
    """x (N, D_in), w (D_out, D_in), b (D_out,) -> out (N, D_out)."""
    out = x @ w.T + b
    cache = (x, w)
    return out, cache


_FWD = forward
_B = [None]


def backward(gout, cache):
    x, w = cache
    b = _B[0] if _B[0] is not None else np.zeros(w.shape[0], dtype=x.dtype)
    grads = []
    for a in (x, w, b):
        a = a.copy()
        g = np.zeros_like(a)
        for i in range(a.size):
            old = a.flat[i]
            a.flat[i] = old + 1e-6
            args = [a if a.shape == t.shape else t for t in (x, w, b)]
            up = (_FWD(*args)[0] * gout).sum()
            a.flat[i] = old - 1e-6
            args = [a if a.shape == t.shape else t for t in (x, w, b)]
            down = (_FWD(*args)[0] * gout).sum()
            a.flat[i] = old
            g.flat[i] = (up - down) / 2e-6
        grads.append(g)
    return tuple(grads)
