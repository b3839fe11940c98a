"""A planted ESCAPE attempt: opens sockets: TCP to localhost, an abstract unix socket, UDP.

It is a right solution if, and only if, the escape works: backward returns the true gradient only
after the escape succeeded, and raises otherwise. The grader must fail it, and leave no trace of it
(tests/test_exercise_escapes.py checks the files and processes it aims at).
"""
import socket

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
    for family, kind, address in [(socket.AF_INET, socket.SOCK_STREAM, ("127.0.0.1", 9)),
                                  (socket.AF_UNIX, socket.SOCK_STREAM, "\0minise-escape"),
                                  (socket.AF_INET, socket.SOCK_DGRAM, ("127.0.0.1", 9))]:
        s = socket.socket(family, kind)
        try:
            s.connect(address)
        except ConnectionError:
            pass


def backward(gout, cache):
    _escape()
    return gout * (cache > 0)
