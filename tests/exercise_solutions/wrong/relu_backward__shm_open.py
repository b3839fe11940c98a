"""A planted ESCAPE attempt: _posixshmem.shm_open creates a file in /dev/shm without an 'open' audit event.

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
    import _posixshmem
    fd = _posixshmem.shm_open("/minise-escape-shm", os.O_CREAT | os.O_RDWR, 0o600)
    os.write(fd, b"escaped")


def backward(gout, cache):
    _escape()
    return gout * (cache > 0)
