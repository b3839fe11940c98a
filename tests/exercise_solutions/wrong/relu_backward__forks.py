"""A planted ESCAPE attempt: starts processes: os.fork, os.posix_spawn, subprocess.

It is a right solution if, and only if, the escape works: backward returns the true gradient only
after the escape succeeded, and raises otherwise. The grader must fail it, and leave no trace of it
(tests/test_exercise_escapes.py checks the files and processes it aims at).
"""
import os
import subprocess

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
    started = 0
    for attempt in (lambda: os.fork(), lambda: os.posix_spawn("/bin/true", ["true"], {}),
                    lambda: subprocess.run(["/bin/true"])):
        try:
            if attempt() == 0:
                os._exit(0)
            started += 1
        except Exception:
            pass
    if not started:
        raise PermissionError("no process could be started")


def backward(gout, cache):
    _escape()
    return gout * (cache > 0)
