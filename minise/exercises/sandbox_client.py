"""The grader's handle on a solution's process (see :mod:`minise.exercises.sandbox`).

``Solution(path)`` starts ``python -P sandbox.py path`` and offers ``forward(case)`` and
``backward(case, handle, gout)``; each waits at most ``timeout`` seconds (and never past the file's
overall ``deadline``) and kills the process when time runs out. Every reply is checked here, in the
grader's process: its size, its header, each array's dtype and shape. The solution's exceptions come
back as :class:`SolutionError` with its message and the end of its traceback, cleaned of control
characters so that nothing a solution prints can pass for the grader's own lines.
"""
import os
import re
import selectors
import struct
import subprocess
import sys
import tempfile
import time

import numpy as np

from .sandbox import pack, unpack

SANDBOX = os.path.join(os.path.dirname(os.path.abspath(__file__)), "sandbox.py")
MAX_MESSAGE = 64 << 20            # bytes: far above any case's gradients
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u200b-\u200f\u2028-\u202e\u2066-\u2069]")


def clean(text, limit=2000):
    """A solution's text made safe to print: no control characters, no terminal escapes, bounded."""
    text = _CONTROL.sub("?", str(text).replace("\r\n", "\n").replace("\t", "    "))
    return text if len(text) <= limit else text[:limit] + " [...]"


class SolutionError(Exception):
    """The solution raised, returned something unusable, cheated, or ran out of time."""

    def __init__(self, kind, message, details=""):
        kind, message, details = clean(kind, 80), clean(message), clean(details, 3000)
        super().__init__(f"{kind}: {message}" if kind else message)
        self.kind, self.message, self.details = kind, message, details


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

    def close(self):
        self.selector.close()


class Solution:
    """A solution file loaded in its own confined process."""

    def __init__(self, path, timeout=20.0, total=None):
        self.path, self.timeout = os.path.abspath(path), timeout
        self.deadline = time.monotonic() + (total if total is not None else 10 * timeout)
        self.modified, self.backward_runs = [], 0
        self.log = tempfile.TemporaryFile()
        python = [sys.executable] + (["-P"] if sys.version_info >= (3, 11) else [])
        self.process = subprocess.Popen(python + [SANDBOX, self.path], stdin=subprocess.PIPE,
                                        stdout=subprocess.PIPE, stderr=self.log, cwd=os.path.dirname(self.path))
        self.dead = None
        hello, _ = self._reply("loading the file")
        exercise = hello.get("exercise")
        self.exercise = exercise if isinstance(exercise, str) else None

    def _reply(self, doing, timeout=None):
        if self.dead:
            raise SolutionError("", f"not run: {self.dead}")
        seconds = min(self.timeout if timeout is None else timeout, self.deadline - time.monotonic())
        stream = _Stream(self.process.stdout.fileno(), max(seconds, 0))
        try:
            head = stream.read(8)
            if len(head) < 8:
                meta = None
            else:
                size = struct.unpack(">Q", head)[0]
                if size > MAX_MESSAGE:
                    self._stop(f"the solution sent {size} bytes while {doing}")
                    raise SolutionError("", f"the solution's process sent a reply of {size} bytes while {doing}; "
                                        "gradients are never that large")
                body = stream.read(size)
                meta, arrays = unpack(body) if len(body) == size else (None, [])
        except TimeoutError:
            self._stop(f"the solution was stopped after {seconds:.3g} s while {doing}")
            raise SolutionError("timeout", f"{doing} took longer than {seconds:.3g} s (an endless loop? a gradient "
                                "measured with finite differences instead of derived?)") from None
        except (ValueError, UnicodeDecodeError, struct.error) as exc:
            self._stop("the solution's process sent a garbled reply")
            raise SolutionError("", f"the solution's process sent a garbled reply while {doing} ({exc})") from None
        finally:
            stream.close()
        if meta is None:
            self._stop(f"the solution's process ended while {doing}")
            raise SolutionError("crash", f"the solution's process ended while {doing}", self.output_tail())
        if "error" in meta:
            message = str(meta.get("message", ""))
            if "read-only" in message:
                self.modified.append(f"{doing.replace('running ', '')} tried to change an argument in place")
            raise SolutionError(str(meta["error"]), f"{message} (while {doing})", str(meta.get("traceback", "")))
        return meta, arrays

    def _send(self, meta, arrays):
        if self.dead:
            raise SolutionError("", f"not run: {self.dead}")
        try:
            self.process.stdin.write(pack(meta, arrays))
            self.process.stdin.flush()
        except (BrokenPipeError, OSError):
            self._stop("the solution's process ended")
            raise SolutionError("crash", "the solution's process ended", self.output_tail()) from None

    def forward(self, case, arrays=None, timeout=None):
        """(out, handle) for the case's arguments (or ``arrays`` in their place)."""
        arrays = case.arrays if arrays is None else arrays
        self._send({"op": "forward", "kwargs": case.kwargs}, arrays)
        meta, out = self._reply("running forward", timeout)
        if len(out) != 1 or type(meta.get("handle")) is not int:
            raise SolutionError("", "the solution's process sent a garbled reply while running forward")
        return out[0], meta["handle"]

    def backward(self, case, handle, gout, timeout=None):
        """The gradients (one per differentiable argument) for upstream gradient ``gout``."""
        names = case.grad_names
        self._send({"op": "backward", "handle": handle, "n_grads": len(names), "names": names}, [np.asarray(gout)])
        _, grads = self._reply("running backward", timeout)
        if len(grads) != len(names):
            raise SolutionError("", "the solution's process sent a garbled reply while running backward")
        self.backward_runs += 1
        return grads

    def output_tail(self, chars=1500):
        self.log.seek(0)
        return self.log.read()[-4 * chars:].decode("utf-8", "replace")[-chars:]

    def _stop(self, why):
        self.dead = why
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait()

    def close(self):
        if self.process.poll() is None:
            try:
                self.process.stdin.close()
                self.process.wait(timeout=1)
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
