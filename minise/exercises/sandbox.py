"""The student's side of grading: a separate process, confined by the kernel, that runs a solution.

Started by :mod:`minise.exercises.sandbox_client` as ``python -I -S sandbox.py SOLUTION NUMPY_SITE
GRADER_PID`` in a session of its own (``--no-audit-hook`` only in the tests that prove the kernel holds
alone). It is a plain script that imports NumPy and nothing of minise. In this order it

0. arranges to die with the grader (the kernel's parent-death signal), however the grader ends;
1. imports NumPy (and the parts of it loaded lazily), while the file system is still open;
2. confines itself for good (:mod:`minise.exercises.kernel`: Landlock, seccomp, rlimits, no new
   privileges, its own session): from here on it may read Python's standard library and NumPy
   only, write nothing, start and signal nothing; then adds the audit hook (:mod:`.audit`), the
   second layer that turns refusals into helpful messages;
3. tells the grader what confinement it got, before any of the solution's code exists here;
4. receives the solution's source over its stdin, runs it, and answers forward and backward requests
   (a new copy of the source may come again: it runs afresh, as a new module).

The grader computes the right answers only after this process has replied, so this process never
holds an answer worth stealing, and the grader checks every reply (:mod:`.protocol`). Every
argument (x, w, ..., gout) is handed over read-only. The solution's prints go to stderr, a pipe
the grader drains and bounds.
"""
import importlib.util
import linecache
import os
import sys
import sysconfig
import traceback
import types

MAX_FORWARDS_IN_BACKWARD = 1      # recomputing forward once is fine; measuring gradients is not
KEPT_CACHES = 8                   # caches of forwards whose backward may still come (or come again)
MEMORY_LIMIT = 3 << 30            # bytes of address space on top of what Python and NumPy already use
CPU_SECONDS = 400                 # far beyond any file's time limit: the grader stops it first


def _sibling(name):
    """A module of this folder, loaded by path (this script runs outside the minise package)."""
    path = os.path.join(os.path.dirname(__file__), f"{name}.py")
    spec = importlib.util.spec_from_file_location(f"_grader_{name}", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _readable(np):
    """(standard-library entries, third-party folders, NumPy's folders): what the solution may read."""
    paths = sysconfig.get_paths()
    stdlib = sorted({os.path.realpath(paths[k]) for k in ("stdlib", "platstdlib")})
    packages = sorted({os.path.realpath(paths[k]) for k in ("purelib", "platlib")} | {"dist-packages", "site-packages"})
    numpy_dir = os.path.realpath(os.path.dirname(np.__file__))
    numpy_dirs = [numpy_dir, numpy_dir + ".libs", os.path.join(numpy_dir, ".libs")]
    entries = []                     # the standard library, entry by entry: not the packages inside it
    for folder in stdlib:
        for entry in os.listdir(folder):
            full = os.path.join(folder, entry)
            if entry not in ("site-packages", "dist-packages") and full not in packages:
                entries.append(full)
    return stdlib, packages, numpy_dirs, entries


def _memory_limit():
    try:
        with open("/proc/self/status", encoding="ascii") as status:
            used = next(int(line.split()[1]) * 1024 for line in status if line.startswith("VmSize:"))
    except (OSError, StopIteration, ValueError):
        used = 1 << 30
    return used + MEMORY_LIMIT


def confine(np, solution, audit, audit_hook=True):
    """Kernel confinement, then the audit hook (``audit``: the loaded :mod:`.audit`); returns the
    kernel's report (see kernel.confine)."""
    stdlib, packages, numpy_dirs, entries = _readable(np)
    if sys.platform.startswith("linux"):
        kernel = _sibling("kernel")
        report = kernel.confine(entries + numpy_dirs, [solution], _memory_limit(), CPU_SECONDS)
    else:
        report = {"kernel": False, "landlock": 0, "problems": [f"{sys.platform} has no Landlock"]}
        try:
            if os.getsid(0) != os.getpid():
                os.setsid()
        except (AttributeError, OSError):
            pass
    import _posixsubprocess  # subprocess (numpy.testing imports it) may load, but never fork
    import subprocess
    for module in (_posixsubprocess, subprocess):
        for name in ("fork_exec", "_fork_exec"):
            if hasattr(module, name):
                delattr(module, name)
    for name in [m for m in sys.modules if m == "ctypes" or m.startswith(("ctypes.", "_ctypes", "_grader_"))]:
        del sys.modules[name]
    if audit_hook:
        slash = [p + "/" for p in stdlib], [p + "/" for p in packages], [p + "/" for p in numpy_dirs]
        audit.install(solution, *map(tuple, slash))
    report["audit_hook"] = audit_hook
    return report


class Runner:
    """Holds the solution module and the caches of the forwards that await their backward."""

    def __init__(self, module, as_array):
        self.module, self.as_array, self.caches, self.next_handle = module, as_array, {}, 0
        self.forward_calls, self.in_backward = 0, False
        self.forward = _count_calls(module, self)

    def count_forward(self):
        self.forward_calls += 1
        if self.in_backward and self.forward_calls > MAX_FORWARDS_IN_BACKWARD:
            raise RuntimeError("backward called forward() again and again: derive the gradient from "
                               "the cache instead of measuring it with finite differences")

    def run_forward(self, meta, arrays):
        result = self.forward(*arrays, **meta["kwargs"])
        if not isinstance(result, tuple) or len(result) != 2:
            raise ValueError(f"forward must return (out, cache), got {type(result).__name__}")
        out = self.as_array(result[0], "forward's output")
        handle, self.next_handle = self.next_handle, self.next_handle + 1
        self.caches[handle] = result[1]
        while len(self.caches) > KEPT_CACHES:                 # finite differences never call backward
            self.caches.pop(next(iter(self.caches)))
        return {"handle": handle}, [out]

    def run_backward(self, meta, arrays):
        cache = self.caches[meta["handle"]]                   # kept: backward may come again on it
        self.forward_calls, self.in_backward = 0, True
        try:
            grads = self.module.backward(arrays[0], cache)
        finally:
            self.in_backward = False
        count = meta["n_grads"]
        if count == 1 and not isinstance(grads, (tuple, list)):
            grads = (grads,)
        if not isinstance(grads, (tuple, list)) or len(grads) != count:
            got = f"{len(grads)} values" if isinstance(grads, (tuple, list)) else type(grads).__name__
            raise ValueError(f"backward must return {count} gradient(s) ({', '.join(meta['names'])}), got {got}")
        return {}, [self.as_array(g, f"the gradient for {name}") for g, name in zip(grads, meta["names"])]


    def run_check(self, meta, arrays):
        """The solution's gradient checker on (inputs, gout, claimed gradients): its verdict."""
        count = meta["n_inputs"]
        inputs, gout, claimed = tuple(arrays[:count]), arrays[count], tuple(arrays[count + 1:])
        forward = self.forward if meta.get("program") is None else program_forward(meta["program"])
        verdict = self.module.check_gradient(forward, inputs, gout, claimed)
        if type(verdict).__name__ not in ("bool", "bool_"):          # Python's or NumPy's
            raise ValueError(f"check_gradient must return True or False, got {type(verdict).__name__}")
        return {"verdict": bool(verdict)}, []


def program_forward(program):
    """A forward the checker exercise's file has never seen: z = x @ w, then each row (op, a) of
    ``program``: 0 tanh(a·z), 1 z·σ(a·z), 2 exp(−a·z²). (checker_exercise.program_op is its minise twin.)"""
    import numpy as np
    rows = [(int(op), float(a)) for op, a in program]

    def forward(x, w):
        z = x @ w                                                     # (N, K)
        for op, a in rows:
            z = np.tanh(a * z) if op == 0 else z / (1 + np.exp(-a * z)) if op == 1 else np.exp(-a * z * z)
        return z, None
    return forward


def _count_calls(module, runner):
    """Make every call of the solution's forward count, by whatever name it is called (``_f = forward``
    too): the function object's own code becomes a trampoline to a counted copy of it. Returns the
    uncounted copy, for the grader's own forward requests."""
    original = module.forward
    if not isinstance(original, types.FunctionType) or original.__closure__:
        return original
    copy = types.FunctionType(original.__code__, original.__globals__, original.__name__,
                              original.__defaults__, original.__closure__)
    copy.__kwdefaults__ = original.__kwdefaults__

    def counted(*args, **kwargs):
        runner.count_forward()
        return copy(*args, **kwargs)
    space = {}
    exec("def forward(*args, **kwargs):\n    return __minise_counted_forward__(*args, **kwargs)\n", space)
    original.__globals__["__minise_counted_forward__"] = counted
    original.__code__ = space["forward"].__code__
    return copy


def error_reply(exc):
    lines = traceback.format_exception(type(exc), exc, exc.__traceback__)
    return {"error": type(exc).__name__, "message": str(exc)[:2000], "traceback": "".join(lines[-6:])[-3000:]}


def _load(source, path, as_array):
    """Run the solution's source as a module; returns the Runner (raises what the solution raised)."""
    linecache.cache[path] = (len(source), None, source.splitlines(True), path)   # tracebacks show its lines
    module = types.ModuleType("solution")
    module.__file__ = path
    sys.modules["solution"] = module
    exec(compile(source, path, "exec"), module.__dict__)
    second = "check_gradient" if callable(getattr(module, "check_gradient", None)) else "backward"
    missing = [name for name in ("forward", second) if not callable(getattr(module, name, None))]
    if missing:
        raise AttributeError(f"the file defines no {' and no '.join(missing)}() function")
    return Runner(module, as_array)


def die_with_parent(parent):
    """End this process when the grader (pid ``parent``) ends, however it ends: the kernel's parent-death
    signal on Linux; elsewhere a thread that watches the parent."""
    try:
        if sys.platform.startswith("linux") and _sibling("kernel").die_with_parent(parent):
            return
    except OSError:                                     # no parent-death signal here: the thread below
        pass
    import threading
    import time

    def watch():
        while os.getppid() == parent:
            time.sleep(0.5)
        os._exit(1)
    if os.getppid() != parent:
        os._exit(1)
    threading.Thread(target=watch, daemon=True).start()


def main(argv):
    solution, site, parent = argv[0], argv[1], int(argv[2])
    die_with_parent(parent)
    here = os.path.dirname(os.path.realpath(__file__))
    sys.path[:] = [p for p in sys.path if os.path.realpath(p or ".") != here] + [site]
    import numpy as np
    import numpy.fft  # the parts NumPy loads lazily, loaded now
    import numpy.lib.stride_tricks
    import numpy.linalg
    import numpy.random
    protocol, audit = _sibling("protocol"), _sibling("audit")
    reply_fd = os.dup(1)
    os.dup2(2, 1)                                   # the solution's prints go to stderr
    sys.stdout = sys.stderr
    write, read = os.write, sys.stdin.buffer.read

    def send(meta, arrays=()):
        data = memoryview(protocol.pack(meta, arrays))
        while data:
            data = data[write(reply_fd, data):]

    send({"confinement": confine(np, solution, audit, "--no-audit-hook" not in argv)})
    runner = None
    while True:
        message = protocol.read_message(read)
        if message is None:
            return
        try:
            meta, arrays = protocol.unpack(message)
            if meta["op"] == "load":                # the source, run afresh as a new module each time
                runner = None
                runner = _load(arrays[0].tobytes().decode("utf-8"), solution, protocol.as_array)
                exercise = getattr(runner.module, "EXERCISE", None)
                send({"exercise": exercise if isinstance(exercise, str) else None})
                continue
            if runner is None:
                raise RuntimeError("no solution loaded")
            run = {"forward": runner.run_forward, "backward": runner.run_backward, "check": runner.run_check}
            reply, out = run[meta["op"]](meta, arrays)
            send(reply, out)
        except BaseException as exc:                # the solution's errors are the grader's findings
            send(error_reply(exc))


if __name__ == "__main__":
    main(sys.argv[1:])
