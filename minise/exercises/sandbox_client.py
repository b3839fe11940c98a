"""The grader's handle on a solution's process (see :mod:`minise.exercises.sandbox`).

``Solution(path)`` starts the confined process, reads what confinement it got (sent before any of
the solution's code exists there), sends it the solution's source, and offers ``forward(case)`` and
``backward(case, handle, gout)``; each, sending its request as well as waiting for the reply, takes at
most ``timeout`` seconds (and never runs past the file's overall deadline) and kills the process when
time runs out: a process that stops reading its requests cannot block the grader either.

The process leads a session and process group of its own, and whatever ends it here (a timeout, a
garbled reply, ``close()``, an error or a KeyboardInterrupt in the grader, the Solution's garbage
collection, the grader's exit) kills the whole group and reaps it; if the grader itself is killed, the
kernel ends the process (see sandbox.py).

Every reply is checked here, in the grader's process: its size, its header, each array's dtype and
shape. The solution's prints arrive on a pipe that is drained while waiting and kept only in part (a
print flood costs nothing). Its exceptions come back as :class:`SolutionError`, cleaned of control
characters and of the words the grader's own verdict uses, so that nothing a solution prints can pass
for a grader line.
"""
import os
import re
import selectors
import signal
import struct
import subprocess
import sys
import time
import weakref

import numpy as np

from .protocol import pack, unpack
from .source import read_source

SANDBOX = os.path.join(os.path.dirname(os.path.abspath(__file__)), "sandbox.py")
NUMPY_SITE = os.path.dirname(os.path.dirname(os.path.abspath(np.__file__)))
MAX_MESSAGE = 64 << 20            # bytes: far above any case's gradients
STARTUP_SECONDS = 60.0           # Python and NumPy starting on a busy machine, before any solution code
KEPT_OUTPUT = 1 << 16             # bytes of the solution's printed text kept (the end of it)
CLOCK_TICKS = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100   # the unit of /proc's CPU times
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u200b-\u200f\u2028-\u202e\u2066-\u2069\ufeff]")
_VERDICT = re.compile(r"(?i)(p)(ass)")


def clean(text, limit=2000):
    """A solution's text made safe to print: no control characters, no terminal escapes, no word
    "PASS" (shown as "P·ASS", so that `grep PASSED` finds only the grader's verdicts), bounded."""
    text = _CONTROL.sub("?", str(text).replace("\r\n", "\n").replace("\t", "    "))
    text = _VERDICT.sub(r"\1·\2", text)
    return text if len(text) <= limit else text[:limit] + " [...]"


class SolutionError(Exception):
    """The solution raised, returned something unusable, cheated, or ran out of time."""

    def __init__(self, kind, message, details=""):
        kind, message, details = clean(kind, 80), clean(message), clean(details, 3000)
        super().__init__(f"{kind}: {message}" if kind else message)
        self.kind, self.message, self.details = kind, message, details


def describe_confinement(report):
    """One line: what confined the solution's process."""
    if not isinstance(report, dict):
        return "unknown: the solution's process did not say"
    if report.get("kernel"):
        abi = report["landlock"]
        fences = "files" + (", TCP" if abi >= 4 else "") + (", signals, abstract sockets" if abi >= 6 else "")
        extra = [name for key, name in [("seccomp", "seccomp"), ("no_new_privs", "no new privileges"),
                                        ("capabilities_dropped", "no capabilities"), ("session", "own session")]
                 if report.get(key)]
        text = f"Landlock ABI {abi} ({fences}) + " + " + ".join(extra + ["rlimits"] if report.get("rlimits") else extra)
        return text + ("" if report.get("audit_hook") else " (audit hook off)")
    problems = "; ".join(str(p) for p in report.get("problems", [])) or "no kernel confinement"
    return f"audit hook only: {problems}; not proof against a determined student"


class _Pipes:
    """Writes of requests and reads of replies, each with a deadline (a process that stops reading its
    requests cannot block the grader), draining the solution's printed text meanwhile."""

    def __init__(self, request_fd, reply_fd, text_fd, keep):
        self.selector, self.writer = selectors.DefaultSelector(), selectors.DefaultSelector()
        self.request_fd, self.reply_fd, self.keep = request_fd, reply_fd, keep
        os.set_blocking(request_fd, False)
        self.selector.register(reply_fd, selectors.EVENT_READ)
        self.selector.register(text_fd, selectors.EVENT_READ)
        self.writer.register(request_fd, selectors.EVENT_WRITE)
        self.writer.register(text_fd, selectors.EVENT_READ)

    def _drain(self, fd):
        chunk = os.read(fd, 1 << 16)
        if not chunk:
            for selector in (self.selector, self.writer):
                selector.unregister(fd)
        self.keep(chunk)

    def write(self, data, deadline):
        """Write all of ``data`` to the request pipe (BrokenPipeError if the process closed it)."""
        data = memoryview(data)
        while data:
            try:
                data = data[os.write(self.request_fd, data):]
                continue
            except BlockingIOError:
                pass
            left = deadline - time.monotonic()
            if left <= 0:
                raise TimeoutError
            for key, _ in self.writer.select(left):
                if key.fd != self.request_fd:
                    self._drain(key.fd)

    def read(self, n, deadline):
        chunks, need = [], n
        while need:
            left = deadline - time.monotonic()
            if left <= 0:
                raise TimeoutError
            for key, _ in self.selector.select(left):
                if key.fd != self.reply_fd:
                    self._drain(key.fd)
                    continue
                chunk = os.read(key.fd, min(need, 1 << 20))
                if not chunk:
                    return b"".join(chunks)
                chunks.append(chunk)
                need -= len(chunk)
        return b"".join(chunks)

    def close(self):
        self.selector.close()
        self.writer.close()


def end_process(process):
    """Kill ``process`` (a Popen that leads its own process group) and everything in its group, then reap it.
    The group is killed while its leader is not yet reaped, so that its id cannot have been reused."""
    if process.returncode is None:
        try:
            os.killpg(process.pid, signal.SIGKILL)
        except (AttributeError, OSError):          # no process groups here (Windows), or the group is gone
            pass
        try:
            process.kill()
        except OSError:
            pass
    process.wait()


class Solution:
    """A solution file loaded in its own confined process."""

    def __init__(self, path, timeout=20.0, total=None, audit_hook=True):
        self.path, self.timeout = os.path.abspath(path), timeout
        self.deadline = time.monotonic() + (total if total is not None else 10 * timeout)
        self.modified, self.backward_runs, self.printed, self.dead = [], 0, 0, None
        self._text = bytearray()
        source = read_source(self.path)                  # raises SourceError: the file is not gradable
        argv = [sys.executable, "-I", "-S", SANDBOX, self.path, NUMPY_SITE, str(os.getpid())]
        argv += [] if audit_hook else ["--no-audit-hook"]
        self.process = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                        cwd=os.path.dirname(SANDBOX), start_new_session=True)
        self._end = weakref.finalize(self, end_process, self.process)     # on garbage collection and at exit
        self.confinement, self.exercise = None, None
        try:
            self.pipes = _Pipes(self.process.stdin.fileno(), self.process.stdout.fileno(),
                                self.process.stderr.fileno(), self._keep)
            meta, _ = self._reply("starting", max(timeout, STARTUP_SECONDS))   # no solution code runs yet
        except BaseException:
            self.close()
            raise
        self.confinement = meta.get("confinement")
        self._source = source

    def load(self):
        """Send the source and run it, as a new module each time it is called (what an earlier load
        left in the module's globals is gone); sets ``exercise`` (the file's EXERCISE, or None)."""
        self.modified, self.backward_runs = [], 0
        self._send({"op": "load"}, [np.frombuffer(self._source.encode("utf-8"), np.uint8)], "loading the file")
        hello, _ = self._reply("loading the file")
        exercise = hello.get("exercise")
        self.exercise = exercise if isinstance(exercise, str) else None

    def _keep(self, chunk):
        self.printed += len(chunk)
        self._text += chunk
        del self._text[:-KEPT_OUTPUT]

    def _seconds(self, timeout):
        return max(min(self.timeout if timeout is None else timeout, self.deadline - time.monotonic()), 0)

    def _timed_out(self, doing, seconds):
        self._stop(f"the solution was stopped after {seconds:.3g} s while {doing}")
        return SolutionError("timeout", f"{doing} took longer than {seconds:.3g} s (an endless loop? a gradient "
                             "measured with finite differences instead of derived?)")

    def _reply(self, doing, timeout=None):
        if self.dead:
            raise SolutionError("", f"not run: {self.dead}")
        seconds = self._seconds(timeout)
        deadline = time.monotonic() + seconds
        try:
            head = self.pipes.read(8, deadline)
            if len(head) < 8:
                meta = None
            else:
                size = struct.unpack(">Q", head)[0]
                if size > MAX_MESSAGE:
                    self._stop(f"the solution sent {size} bytes while {doing}")
                    raise SolutionError("", f"the solution's process sent a reply of {size} bytes while {doing}; "
                                        "gradients are never that large")
                body = self.pipes.read(size, deadline)
                meta, arrays = unpack(body) if len(body) == size else (None, [])
        except TimeoutError:
            raise self._timed_out(doing, seconds) from None
        except (ValueError, struct.error, RecursionError, MemoryError) as exc:   # whatever bytes it forged
            self._stop("the solution's process sent a garbled reply")
            raise SolutionError("", f"the solution's process sent a garbled reply while {doing} "
                                f"({type(exc).__name__}: {str(exc)[:200]})") from None
        if meta is None:
            self._stop(f"the solution's process ended while {doing}")
            raise SolutionError("crash", f"the solution's process ended while {doing}", self.output_tail())
        if "error" in meta:
            kind, message, details = (meta.get(key) for key in ("error", "message", "traceback"))
            kind, message, details = (v if isinstance(v, str) else "" for v in (kind, message, details))
            if "read-only" in message:
                self.modified.append(f"{doing.replace('running ', '')} tried to change an argument in place")
            raise SolutionError(kind, f"{message} (while {doing})", details)
        return meta, arrays

    def _send(self, meta, arrays, doing, timeout=None):
        if self.dead:
            raise SolutionError("", f"not run: {self.dead}")
        seconds = self._seconds(timeout)
        try:
            self.pipes.write(pack(meta, arrays), time.monotonic() + seconds)
        except TimeoutError:
            raise self._timed_out(f"{doing} (reading its arguments)", seconds) from None
        except OSError:
            self._stop("the solution's process ended")
            raise SolutionError("crash", "the solution's process ended", self.output_tail()) from None

    def forward(self, case, arrays=None, timeout=None):
        """(out, handle) for the case's arguments (or ``arrays`` in their place)."""
        arrays = case.arrays if arrays is None else arrays
        self._send({"op": "forward", "kwargs": case.kwargs}, arrays, "running forward", timeout)
        meta, out = self._reply("running forward", timeout)
        if len(out) != 1 or type(meta.get("handle")) is not int:
            raise SolutionError("", "the solution's process sent a garbled reply while running forward")
        return out[0], meta["handle"]

    def backward(self, case, handle, gout, timeout=None):
        """The gradients (one per differentiable argument) for upstream gradient ``gout``."""
        names = case.grad_names
        self._send({"op": "backward", "handle": handle, "n_grads": len(names), "names": names}, [np.asarray(gout)],
                   "running backward", timeout)
        _, grads = self._reply("running backward", timeout)
        if len(grads) != len(names):
            raise SolutionError("", "the solution's process sent a garbled reply while running backward")
        self.backward_runs += 1
        return grads

    def check(self, inputs, gout, grads, program=None):
        """The solution's gradient checker's verdict (True or False) on claimed gradients ``grads``, for the
        file's own forward, or for the function ``program`` describes (see sandbox.program_forward)."""
        self._send({"op": "check", "n_inputs": len(inputs), "program": program}, list(inputs) + [gout] + list(grads),
                   "running check_gradient")
        meta, _ = self._reply("running check_gradient")
        if type(meta.get("verdict")) is not bool:
            raise SolutionError("", "the solution's process sent a garbled reply while running check_gradient")
        return meta["verdict"]

    def cpu_seconds(self):
        """The CPU time the solution's process has used so far, all its threads together, as the kernel counts
        it (/proc on Linux); None where it cannot be read."""
        try:
            with open(f"/proc/{self.process.pid}/stat", "rb") as f:
                fields = f.read().rsplit(b")", 1)[1].split()
            return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS        # utime + stime
        except (OSError, ValueError, IndexError):
            return None

    def output_tail(self, chars=1500):
        text = bytes(self._text).decode("utf-8", "replace")[-chars:]
        if self.printed > len(self._text):
            text = f"[the solution printed {self.printed:,} bytes; the last {len(text)} characters:]\n" + text
        return text

    def _stop(self, why):
        self.dead = why
        self._end()

    def close(self):
        """Kill the solution's process group and reap it (nothing it holds needs a gentler end)."""
        self._end()
        if getattr(self, "pipes", None) is not None:
            self.pipes.close()
        for stream in (self.process.stdin, self.process.stdout, self.process.stderr):
            try:
                stream.close()
            except OSError:
                pass

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
        return False
