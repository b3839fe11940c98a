"""The grader's handle on a solution's process (see :mod:`minise.exercises.sandbox`).

``Solution(path)`` starts ``python sandbox.py path`` and offers ``forward(case)`` and
``backward(handle, gout)``; each waits at most ``timeout`` seconds for the answer. The solution's
exceptions come back as :class:`SolutionError` with its message and the end of its traceback.
"""
import importlib.util
import os
import selectors
import struct
import subprocess
import sys
import tempfile
import time

import numpy as np

from .sandbox import receive, send

SANDBOX = os.path.join(os.path.dirname(os.path.abspath(__file__)), "sandbox.py")
MINISE_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


class SolutionError(Exception):
    """The solution raised, returned something unusable, cheated, or ran out of time."""

    def __init__(self, kind, message, details=""):
        super().__init__(f"{kind}: {message}" if kind else message)
        self.kind, self.message, self.details = kind, message, details


def forbidden_dirs():
    """minise's own folder, plus the folders of autograd libraries that happen to be installed."""
    dirs = [MINISE_DIR]
    for name in ("torch", "jax", "tensorflow", "autograd"):
        try:
            spec = importlib.util.find_spec(name)
        except (ImportError, ValueError):
            spec = None
        if spec is not None and spec.submodule_search_locations:
            dirs.extend(spec.submodule_search_locations)
    return dirs


class _Stream:
    """Blocking reads from the child's pipe, each with a deadline."""

    def __init__(self, fd, seconds):
        self.fd, self.deadline = fd, time.monotonic() + seconds
        self.selector = selectors.DefaultSelector()
        self.selector.register(fd, selectors.EVENT_READ)

    def read(self, n):
        chunks, need = [], n
        while need:
            left = self.deadline - time.monotonic()
            if left <= 0 or not self.selector.select(left):
                raise TimeoutError
            chunk = os.read(self.fd, min(need, 1 << 20))
            if not chunk:
                break
            chunks.append(chunk)
            need -= len(chunk)
        return b"".join(chunks)


class Solution:
    """A solution file loaded in its own process, with imports of minise and torch refused."""

    def __init__(self, path, timeout=20.0):
        self.path, self.timeout = os.path.abspath(path), timeout
        self.modified, self.backward_runs = [], 0
        self.log = tempfile.TemporaryFile()
        python = [sys.executable] + (["-P"] if sys.version_info >= (3, 11) else [])
        self.process = subprocess.Popen(python + [SANDBOX, self.path] + forbidden_dirs(),
                                        stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=self.log,
                                        cwd=os.path.dirname(self.path))
        self.dead = None
        hello, _ = self._reply("loading the file")
        self.exercise = hello.get("exercise")

    def _reply(self, doing):
        if self.dead:
            raise SolutionError("", f"not run: {self.dead}")
        try:
            meta, arrays = receive(_Stream(self.process.stdout.fileno(), self.timeout))
        except (TimeoutError, struct.error):
            self.close()
            self.dead = f"the solution was stopped after {self.timeout:g} s while {doing}"
            raise SolutionError("timeout", f"{doing} took longer than {self.timeout:g} s (an endless loop? "
                                "a gradient computed element by element with finite differences?)") from None
        if meta is None:
            self.close()
            self.dead = f"the solution's process ended while {doing}"
            raise SolutionError("crash", f"the solution's process ended while {doing}", self.output_tail())
        if "error" in meta:
            raise SolutionError(meta["error"], f"{meta['message']} (while {doing})", meta.get("traceback", ""))
        if meta.get("forbidden"):
            self.close()
            self.dead = "the solution loaded forbidden code"
            raise SolutionError("cheating", f"the solution loaded {', '.join(meta['forbidden'][:3])}: the grader "
                                "does not allow using minise's (or another library's) implementation")
        return meta, arrays

    def _send(self, meta, arrays):
        if self.dead:
            raise SolutionError("", f"not run: {self.dead}")
        try:
            send(self.process.stdin, meta, arrays)
        except (BrokenPipeError, OSError):
            self.dead = "the solution's process ended"
            raise SolutionError("crash", "the solution's process ended", self.output_tail()) from None

    def forward(self, case, arrays=None):
        """(out, handle) for the case's arguments (or ``arrays`` in their place)."""
        arrays = case.arrays if arrays is None else arrays
        self._send({"op": "forward", "kwargs": case.kwargs}, arrays)
        meta, (out,) = self._reply("running forward")
        self.modified += [f"forward changed {case.names[i]} in place" for i in meta["modified"]]
        return out, meta["handle"]

    def backward(self, case, handle, gout):
        """The gradients (one per differentiable argument) for upstream gradient ``gout``."""
        names = case.grad_names
        self._send({"op": "backward", "handle": handle, "n_grads": len(names), "names": names},
                   [np.asarray(gout)])
        meta, grads = self._reply("running backward")
        self.backward_runs += 1
        self.modified += [f"backward changed {case.names[i]} in place" for i in meta["modified"]]
        if meta["gout_modified"]:
            self.modified.append("backward changed gout (the upstream gradient) in place")
        return grads

    def output_tail(self, chars=1500):
        self.log.seek(0)
        return self.log.read().decode("utf-8", "replace")[-chars:]

    def close(self):
        if self.process.poll() is None:
            try:
                self.process.stdin.close()
                self.process.wait(timeout=2)
            except (OSError, subprocess.TimeoutExpired):
                self.process.kill()
                self.process.wait()
        for stream in (self.process.stdin, self.process.stdout):
            try:
                stream.close()
            except OSError:
                pass

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
        self.log.close()
        return False
