"""A planted ESCAPE attempt: replaces builtins.__import__ by importlib.__import__ and loads a third-party
library (sympy, then anything in site-packages) by its file path.

It is a right solution if, and only if, the escape works: backward returns the true gradient only
after the escape succeeded, and raises otherwise. The grader must fail it, and leave no trace of it
(tests/test_exercise_escapes.py checks the files and processes it aims at).
"""
import builtins
import importlib
import importlib.util
import os
import sysconfig

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
    builtins.__import__ = importlib.__import__
    try:
        import sympy  # noqa: F401
        return True
    except Exception:
        pass
    path = os.path.join(sysconfig.get_paths()["purelib"], "sympy", "__init__.py")
    spec = importlib.util.spec_from_file_location("sympy", path)
    spec.loader.exec_module(importlib.util.module_from_spec(spec))
    return True


def backward(gout, cache):
    _escape()
    return gout * (cache > 0)
