"""The student's side of grading: a separate process that runs a solution's forward and backward.

Run by :mod:`minise.exercises.grader` as ``python sandbox.py SOLUTION FORBIDDEN_DIR...``; it is a
plain script that imports NumPy and nothing of minise, so the solution's process holds no reference
answers to find. Before the solution is loaded,

* imports of autograd libraries (minise itself, torch, jax, ...) and of process launchers
  (subprocess, multiprocessing, ...) raise ImportError, whoever asks and however (``import``,
  ``importlib``, a package loaded from a file under another name);
* ``os.system``, ``os.fork``, ``os.exec*``, ``os.spawn*`` ... raise PermissionError.

The grader sends requests (arrays and a little JSON) through stdin and reads replies from the
process's original stdout; the solution's own prints go to stderr. Every call reports whether
the solution changed an argument in place, and how often backward ran forward again.
This is a fence for a teaching grader, not a security boundary.
"""
import builtins
import importlib.abc
import importlib.util
import io
import json
import os
import struct
import sys
import traceback

import numpy as np

BLOCKED = {name: "an autograd library" for name in
           ("minise", "torch", "jax", "jaxlib", "tensorflow", "autograd", "chainer", "mxnet", "cupy")}
BLOCKED.update({name: "a way to start another process" for name in
                ("subprocess", "multiprocessing", "_posixsubprocess", "pty", "posix", "nt", "concurrent")})
MAX_FORWARDS_IN_BACKWARD = 2      # recomputing forward once is fine; measuring gradients is not
KEPT_CACHES = 8                   # caches of forwards whose backward may still come
LAUNCHERS = ("system", "popen", "fork", "forkpty", "posix_spawn", "posix_spawnp", "execv", "execve", "execl",
             "execle", "execlp", "execlpe", "execvp", "execvpe", "spawnv", "spawnve", "spawnl", "spawnle",
             "spawnlp", "spawnlpe", "spawnvp", "spawnvpe")


def refusal(name):
    top = name.split(".")[0]
    return ImportError(f"the grader does not allow importing {top} in a solution ({BLOCKED[top]}); "
                       "write the gradient with NumPy")


class Fence(importlib.abc.MetaPathFinder):
    """Refuses blocked names, and any module whose file lies in a forbidden folder."""

    def __init__(self, forbidden_dirs):
        self.forbidden = [os.path.realpath(d) + os.sep for d in forbidden_dirs]

    def find_spec(self, name, path, target=None):
        if name.split(".")[0] in BLOCKED:
            raise refusal(name)
        for finder in sys.meta_path:
            if finder is self or not hasattr(finder, "find_spec"):
                continue
            spec = finder.find_spec(name, path, target)
            if spec is not None:
                origin = os.path.realpath(spec.origin) if spec.origin else ""
                if any(origin.startswith(d) for d in self.forbidden):
                    raise ImportError(f"the grader does not allow loading {origin} in a solution")
                return None          # let the normal machinery load it
        return None


def install_fence(forbidden_dirs):
    sys.meta_path.insert(0, Fence(forbidden_dirs))
    original_import = builtins.__import__

    def guarded_import(name, globals=None, locals=None, fromlist=(), level=0):
        if level == 0 and name.split(".")[0] in BLOCKED:
            raise refusal(name)
        return original_import(name, globals, locals, fromlist, level)
    builtins.__import__ = guarded_import

    def launcher(*args, **kwargs):
        raise PermissionError("the grader does not allow starting processes from a solution")
    for module in (os, sys.modules.get("posix"), sys.modules.get("nt")):
        for name in LAUNCHERS:
            if module is not None and hasattr(module, name):
                setattr(module, name, launcher)


def forbidden_modules(forbidden_dirs):
    """Names of loaded modules that come from a forbidden folder (however they were loaded)."""
    dirs = [os.path.realpath(d) + os.sep for d in forbidden_dirs]
    found, itself = [], os.path.realpath(__file__)
    for name, module in list(sys.modules.items()):
        path = getattr(module, "__file__", None)
        if path and os.path.realpath(path) != itself and any(os.path.realpath(path).startswith(d) for d in dirs):
            found.append(name)
    return found


# -- messages: an 8-byte length, then an .npz archive (arrays, plus JSON under "meta") ------------

def send(stream, meta, arrays=()):
    buffer = io.BytesIO()
    np.savez(buffer, meta=np.array(json.dumps(meta)), **{f"a{i}": a for i, a in enumerate(arrays)})
    data = buffer.getvalue()
    stream.write(struct.pack(">Q", len(data)) + data)
    stream.flush()


def receive(stream):
    head = stream.read(8)
    if len(head) < 8:
        return None, []
    data = stream.read(struct.unpack(">Q", head)[0])
    with np.load(io.BytesIO(data), allow_pickle=False) as archive:
        meta = json.loads(str(archive["meta"]))
        arrays = [archive[f"a{i}"] for i in range(len(archive.files) - 1)]
    return meta, arrays


def as_array(value, what):
    """A numeric NumPy array, or a ValueError naming what the solution returned instead."""
    if isinstance(value, np.ndarray) and value.dtype.kind in "biuf":
        return value
    if isinstance(value, (int, float, np.generic)) and not isinstance(value, bool):
        return np.asarray(value)
    kind = type(value).__name__ if not isinstance(value, np.ndarray) else f"an array of dtype {value.dtype}"
    raise ValueError(f"{what} is {kind}, expected a NumPy array of numbers")


def unchanged(before, after):
    return before.shape == after.shape and np.array_equal(before, after, equal_nan=True)


class Runner:
    """Holds the solution module and the caches of the forwards that await their backward."""

    def __init__(self, module):
        self.module, self.caches, self.next_handle, self.forward_calls = module, {}, 0, 0
        self.in_backward = False
        self.forward = module.forward
        runner = self

        def counted_forward(*args, **kwargs):       # what the solution's own code sees as `forward`
            runner.forward_calls += 1
            if runner.in_backward and runner.forward_calls > MAX_FORWARDS_IN_BACKWARD:
                raise RuntimeError("backward called forward() again and again: derive the gradient from "
                                   "the cache instead of measuring it with finite differences")
            return runner.forward(*args, **kwargs)
        module.forward = counted_forward

    def run_forward(self, meta, arrays):
        pristine = [a.copy() for a in arrays]
        result = self.forward(*arrays, **meta["kwargs"])
        if not isinstance(result, tuple) or len(result) != 2:
            raise ValueError(f"forward must return (out, cache), got {type(result).__name__}")
        out = as_array(result[0], "forward's output")
        handle, self.next_handle = self.next_handle, self.next_handle + 1
        self.caches[handle] = (result[1], arrays, pristine)
        while len(self.caches) > KEPT_CACHES:                 # finite differences never call backward
            self.caches.pop(next(iter(self.caches)))
        modified = [i for i, (a, p) in enumerate(zip(arrays, pristine)) if not unchanged(p, a)]
        return {"handle": handle, "modified": modified}, [out.copy()]

    def run_backward(self, meta, arrays):
        cache, inputs, pristine = self.caches.pop(meta["handle"])
        gout = arrays[0]
        gout_before = gout.copy()
        self.forward_calls, self.in_backward = 0, True
        try:
            grads = self.module.backward(gout, cache)
        finally:
            self.in_backward = False
        count = meta["n_grads"]
        if count == 1 and not isinstance(grads, (tuple, list)):
            grads = (grads,)
        if not isinstance(grads, (tuple, list)) or len(grads) != count:
            got = f"{len(grads)} values" if isinstance(grads, (tuple, list)) else type(grads).__name__
            raise ValueError(f"backward must return {count} gradient(s) ({', '.join(meta['names'])}), got {got}")
        grads = [as_array(g, f"the gradient for {name}").copy() for g, name in zip(grads, meta["names"])]
        modified = [i for i, (a, p) in enumerate(zip(inputs, pristine)) if not unchanged(p, a)]
        return {"modified": modified, "gout_modified": not unchanged(gout_before, gout),
                "forward_calls": self.forward_calls}, grads


def main(argv):
    solution, forbidden = argv[0], argv[1:]
    here = os.path.dirname(os.path.realpath(__file__))
    sys.path[:] = [p for p in sys.path if os.path.realpath(p or ".") != here]
    replies = os.fdopen(os.dup(1), "wb")
    os.dup2(2, 1)                                   # the solution's prints go to stderr
    sys.stdout = sys.stderr
    requests = sys.stdin.buffer
    install_fence(forbidden)
    try:
        spec = importlib.util.spec_from_file_location("solution", solution)
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        missing = [name for name in ("forward", "backward") if not callable(getattr(module, name, None))]
        if missing:
            raise AttributeError(f"the file defines no {' and no '.join(missing)}() function")
        runner = Runner(module)
        hello = {"exercise": getattr(module, "EXERCISE", None)}
    except BaseException as exc:                    # report any failure to load, then stop
        send(replies, error_reply(exc))
        return
    hello["exercise"] = hello["exercise"] if isinstance(hello["exercise"], str) else None
    send(replies, hello)
    while True:
        meta, arrays = receive(requests)
        if meta is None:
            return
        try:
            reply, out = (runner.run_forward if meta["op"] == "forward" else runner.run_backward)(meta, arrays)
            reply["forbidden"] = forbidden_modules(forbidden)
            send(replies, reply, out)
        except BaseException as exc:                # the solution's errors are the grader's findings
            send(replies, error_reply(exc))


def error_reply(exc):
    lines = traceback.format_exception(type(exc), exc, exc.__traceback__)
    return {"error": type(exc).__name__, "message": str(exc), "traceback": "".join(lines[-6:])}


if __name__ == "__main__":
    main(sys.argv[1:])
