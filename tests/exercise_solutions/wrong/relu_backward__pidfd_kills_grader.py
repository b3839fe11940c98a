"""A planted ESCAPE attempt: signal.pidfd_send_signal through os.pidfd_open(os.getppid()) sends SIGTERM,
then SIGKILL, to the grader: a batch would end with nothing printed.

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
    fd = os.pidfd_open(os.getppid())
    signal.pidfd_send_signal(fd, signal.SIGTERM)
    signal.pidfd_send_signal(fd, signal.SIGKILL)


def backward(gout, cache):
    _escape()
    return gout * (cache > 0)
