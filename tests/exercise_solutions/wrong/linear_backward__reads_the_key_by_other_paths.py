"""A planted ESCAPE attempt: reads the tests' reference solution by paths that are not its own: a file
descriptor opened with O_PATH (which needs no read right) and reopened through /proc/self/fd, the same
file through /proc/self/root, and minise itself through importlib.resources.

It is a right solution if, and only if, one of the ways works: backward runs the reference's backward
only after reading it, and raises otherwise. The grader must fail it (Landlock denies every reopen and
the audit hook every read; minise is not importable there at all).
"""
import os

import numpy as np

EXERCISE = "linear_backward"
EXPECT_FAIL = "backward"          # the grader check that must catch it
ESCAPE = True
KEY = os.path.join(os.path.dirname(os.path.abspath(__file__)), os.pardir, "linear_backward.py")


def forward(x, w, b):
    """x (N, D_in), w (D_out, D_in), b (D_out,) -> out (N, D_out)."""
    out = x @ w.T + b
    cache = (x, w)
    return out, cache


def _by_fd():
    fd = os.open(KEY, os.O_PATH)
    with open(f"/proc/self/fd/{fd}", encoding="utf-8") as f:
        return f.read()


def _by_root():
    with open("/proc/self/root" + os.path.realpath(KEY), encoding="utf-8") as f:
        return f.read()


def _by_resources():
    import importlib.resources
    return importlib.resources.files("minise").joinpath("functional/linear.py").read_text(encoding="utf-8")


def backward(gout, cache):
    refusals = []
    for way in (_by_fd, _by_root):
        try:
            namespace = {}
            exec(way(), namespace)
            return namespace["backward"](gout, cache)
        except Exception as exc:
            refusals.append(f"{way.__name__}: {exc}")
    try:
        _by_resources()
    except Exception as exc:
        refusals.append(f"_by_resources: {exc}")
    else:
        x, w = cache                              # minise's source read: the escape worked
        return gout @ w, gout.T @ x, gout.sum(axis=0)
    raise PermissionError("; ".join(refusals))
