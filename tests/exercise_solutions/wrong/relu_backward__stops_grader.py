"""A planted ESCAPE attempt: SIGSTOP to the grader (os.kill and its process group), SIGCONT later:
a stopped grader hangs the batch, and a grader stopped while it times the reference forward
would grant a larger time budget.

It is a right solution if, and only if, the escape works: backward returns the true gradient only
after the escape succeeded, and raises otherwise. The grader must fail it, and leave no trace of it
(tests/test_exercise_escapes.py checks the files and processes it aims at).
"""
import os
import signal

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
    parent = os.getppid()
    os.kill(parent, signal.SIGSTOP)
    os.kill(parent, signal.SIGCONT)
    os.killpg(os.getpgid(parent), signal.SIGSTOP)


def backward(gout, cache):
    _escape()
    return gout * (cache > 0)
