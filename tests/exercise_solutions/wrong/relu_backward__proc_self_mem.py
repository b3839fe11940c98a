"""A planted ESCAPE attempt: writes its own memory through /proc/self/mem and reads the grader's
environment and memory map through /proc/<parent>.

It is a right solution if, and only if, the escape works: backward returns the true gradient only
after the escape succeeded, and raises otherwise. The grader must fail it, and leave no trace of it
(tests/test_exercise_escapes.py checks the files and processes it aims at).
"""
import os

import numpy as np

EXERCISE = "relu_backward"
EXPECT_FAIL = "backward"          # the grader check that must catch it
ESCAPE = True


def forward(x):
    """x (any shape) -> out (the same shape)."""
    out = np.maximum(x, 0)
    cache = x
    return out, cache


def _escape():
    with open(f"/proc/{os.getppid()}/environ", "rb") as f:
        f.read()
    with open("/proc/self/mem", "r+b") as f:
        f.seek(id(backward))
        f.read(8)


def backward(gout, cache):
    _escape()
    return gout * (cache > 0)
