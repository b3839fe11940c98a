"""A planted ESCAPE attempt: sqlite3.connect(path) creates a database file.

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

TARGETS = ["/tmp/minise-escape-sqlite", os.path.join(os.path.dirname(os.path.abspath(__file__)), "minise-escape-sqlite")]


def _escape():
    import sqlite3
    for path in TARGETS:
        connection = sqlite3.connect(path)
        connection.execute("create table t (x)")
        connection.commit()


def backward(gout, cache):
    _escape()
    return gout * (cache > 0)
