"""A planted WRONG solution (stops reading the grader's requests on the large case: its stdin becomes a pipe
of its own, while a copy keeps the grader's pipe open, so that the grader's next request, a megabyte,
would wait for room in that pipe forever). The grader sends with a deadline and stops it."""
import os

import numpy as np

EXERCISE = "relu_backward"
EXPECT_FAIL = "large input"       # the grader check that must catch it
KEPT = []


def forward(x):
    """x (any shape) -> out (the same shape)."""
    out = np.maximum(x, 0)
    if x.size > 10000 and not KEPT:
        KEPT.append(os.dup(0))                  # the grader's pipe stays open, and nobody reads it any more
        read_end, write_end = os.pipe()
        KEPT.append(write_end)
        os.dup2(read_end, 0)
    return out, x


def backward(gout, cache):
    return gout * (cache > 0)
