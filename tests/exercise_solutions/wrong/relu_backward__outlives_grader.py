"""A planted ESCAPE attempt: switches the kernel's parent-death signal off (prctl PR_SET_PDEATHSIG, 0), so
that a grader killed mid-batch would leave this process running on the teacher's machine.

It is a right solution if, and only if, the escape works: backward returns the true gradient only
after the escape succeeded, and raises otherwise. The grader must fail it: seccomp refuses that prctl
(and the audit hook refuses ctypes).
"""
import numpy as np

EXERCISE = "relu_backward"
EXPECT_FAIL = "backward"          # the grader check that must catch it
ESCAPE = True
PR_SET_PDEATHSIG = 1


def forward(x):
    """x (any shape) -> out (the same shape)."""
    out = np.maximum(x, 0)
    cache = x
    return out, cache


def _escape():
    import ctypes
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.prctl(PR_SET_PDEATHSIG, 0, 0, 0, 0) != 0:
        raise OSError(ctypes.get_errno(), "prctl(PR_SET_PDEATHSIG, 0) was refused")


def backward(gout, cache):
    _escape()
    return gout * (cache > 0)
