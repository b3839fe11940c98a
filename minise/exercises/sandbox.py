"""The student's side of grading: a separate, confined process that runs a solution's forward and backward.

Run by :mod:`minise.exercises.sandbox_client` as ``python -P sandbox.py SOLUTION``. It is a plain script
that imports NumPy and nothing of minise, and the grader computes the right answers only after the
solution has replied, so this process never holds an answer worth stealing. Before the solution is
loaded it

* caps memory (address space) and the size of files it may write (its stderr log);
* installs an audit hook (PEP 578; it cannot be removed) that refuses
  - reading any file but the solution itself, Python's standard library and NumPy (so not minise,
    not the tests' reference solutions, not another library, not /proc and the grader's memory),
  - writing, renaming or deleting files; opening file descriptors by number,
  - importing anything but NumPy and the standard library (no torch, jax, sympy, minise, ...),
  - starting or signalling processes, sockets, ctypes, hand-made code objects, tracing hooks,
    changing these limits;
  the hook keeps what it needs in its own default arguments, so patching modules cannot steer it;
* hands every argument (x, w, ..., gout) over as a read-only array: changing one in place raises
  ``ValueError: ... read-only`` instead of silently corrupting another layer's input.

Requests and replies are length-prefixed: a JSON header naming each array's dtype and shape, then
the raw bytes (no pickle, no zip). The grader validates every reply: it trusts nothing this process
says about values, shapes, dtypes or time. The solution's prints go to stderr.
This fences off honest mistakes and every trick in tests/exercise_solutions/wrong/; it is not meant
to stop an attacker armed with a memory-safety bug of CPython itself.
"""
import importlib.util
import json
import os
import struct
import sys
import sysconfig
import traceback
import types

import numpy as np

try:
    import resource                 # POSIX only; elsewhere the time limits still hold
except ImportError:
    resource = None

MAX_FORWARDS_IN_BACKWARD = 2      # recomputing forward once is fine; measuring gradients is not
KEPT_CACHES = 8                   # caches of forwards whose backward may still come
MEMORY_LIMIT = 3 << 30            # bytes of address space on top of what Python and NumPy already use
LOG_LIMIT = 1 << 20               # bytes a solution may print
ARRAY_DTYPES = frozenset(np.dtype(t).str for t in
                         ("f2", "f4", "f8", "i1", "i2", "i4", "i8", "u1", "u2", "u4", "u8", "?"))
NO_IMPORT = frozenset({"ctypes", "_ctypes", "_posixsubprocess", "_bootsubprocess"})   # the rest of the standard
# library may load (numpy.testing needs subprocess, sockets, ...): what it could do is refused by the hook
DENIED_EVENTS = frozenset({
    "os.system", "os.exec", "os.posix_spawn", "os.spawn", "os.fork", "os.forkpty", "subprocess.Popen",
    "pty.spawn", "os.kill", "os.killpg", "signal.pthread_kill",
    "sys.settrace", "sys.setprofile", "sys.addaudithook", "sys._setprofileallthreads", "sys._settraceallthreads",
    "os.remove", "os.rename", "os.rmdir", "os.mkdir", "os.symlink", "os.link", "os.chmod", "os.chown",
    "os.truncate", "os.utime", "os.chflags", "os.lchflags", "os.setxattr", "os.removexattr", "os.mknod",
    "os.mkfifo", "mmap.__new__", "resource.setrlimit", "resource.prlimit", "fcntl.fcntl", "fcntl.ioctl",
    "fcntl.flock", "fcntl.lockf", "shutil.rmtree", "os.startfile", "os.add_dll_directory",
    "code.__new__",                 # hand-made bytecode can read and write memory
    "gc.get_objects", "gc.get_referrers", "gc.get_referents",   # no fishing for what was taken away
    "cpython.PyInterpreterState_New"})   # a subinterpreter would start without this hook
DENIED_PREFIXES = ("ctypes.", "socket.", "winreg.", "_winapi.", "msvcrt.", "webbrowser.")


class Refused(PermissionError):
    """What the audit hook raises; its message says what a solution may use."""


def confine(solution_path):
    """Limit memory and log size, then install the audit hook (for the rest of this process's life)."""
    used = 0
    try:
        with open("/proc/self/status", encoding="ascii") as status:
            used = next(int(line.split()[1]) * 1024 for line in status if line.startswith("VmSize:"))
    except (OSError, StopIteration, ValueError):
        used = 1 << 30
    limits = () if resource is None else ((resource.RLIMIT_AS, used + MEMORY_LIMIT),
                                          (resource.RLIMIT_FSIZE, LOG_LIMIT), (resource.RLIMIT_CORE, 0))
    for limit, value in limits:
        try:
            resource.setrlimit(limit, (value, value))
        except (ValueError, OSError):
            pass
    import _posixsubprocess         # subprocess (numpy.testing imports it) may load, but never fork:
    import subprocess               # Popen is refused by the hook, and its raw fork_exec is taken away
    for module in (_posixsubprocess, subprocess):
        for name in ("fork_exec", "_fork_exec"):
            if hasattr(module, name):
                delattr(module, name)
    numpy_dir = os.path.realpath(os.path.dirname(np.__file__))
    readable = tuple(sorted({os.path.realpath(p) + "/" for p in
                             (sysconfig.get_paths()["stdlib"], sysconfig.get_paths()["platstdlib"])}))
    packages = tuple(sorted({os.path.realpath(p) + "/" for p in
                             (sysconfig.get_paths()["purelib"], sysconfig.get_paths()["platlib"])}))
    numpy_dirs = (numpy_dir + "/", numpy_dir + ".libs/", os.path.join(os.path.dirname(numpy_dir), "numpy.libs/"))
    imports = _stdlib_names(readable) - NO_IMPORT | {"numpy"}
    sys.addaudithook(_make_hook(os.path.realpath(solution_path), readable, packages, numpy_dirs, imports))


def _stdlib_names(stdlib_dirs):
    """The standard library's top-level module names (listed by Python itself from 3.10 on)."""
    if hasattr(sys, "stdlib_module_names"):
        return frozenset(sys.stdlib_module_names)
    names = set(sys.builtin_module_names)
    for folder in stdlib_dirs:
        for sub in ("", "lib-dynload"):
            try:
                names.update(entry.split(".")[0] for entry in os.listdir(os.path.join(folder, sub)))
            except OSError:
                pass
    return frozenset(names - {"site-packages", "dist-packages", "__pycache__"})


def _make_hook(solution, readable, packages, numpy_dirs, imports):
    # Everything the hook uses is a default argument bound now: patching builtins or modules later
    # cannot change it, and the hook refuses changes to its own code or defaults.
    def hook(event, args, _solution=solution, _readable=readable, _packages=packages, _numpy=numpy_dirs,
             _imports=imports, _denied=DENIED_EVENTS, _prefixes=DENIED_PREFIXES, _Refused=Refused,
             _ImportError=ImportError, _type=type, _str=str, _bytes=bytes, _int=int, _function=types.FunctionType,
             _here=__file__, _writing=os.O_WRONLY | os.O_RDWR | os.O_CREAT | os.O_TRUNC | os.O_APPEND):
        if event == "open":
            path, mode, flags = args
            if _type(path) is _bytes:
                path = _bytes.decode(path, "utf-8", "surrogateescape")
            if _type(path) is not _str:
                raise _Refused("the grader does not allow a solution to open files by number or path object")
            if (mode is not None and _type(mode) is _str and ("w" in mode or "a" in mode or "+" in mode or "x" in mode)) \
                    or (_type(flags) is _int and flags & _writing):
                raise _Refused(f"the grader does not allow a solution to write files ({path})")
            parts = []
            for part in _str.split(path, "/"):
                if part == "..":
                    if parts:
                        parts.pop()
                elif part and part != ".":
                    parts.append(part)
            full = "/" + "/".join(parts)
            if not _str.startswith(path, "/"):
                full = ""
            ok = full == _solution or _str.startswith(full, _numpy)
            if not ok and _str.startswith(full, _readable):
                ok = not _str.startswith(full, _packages)
            if not ok:
                raise _Refused(f"the grader does not allow a solution to read {path}: "
                               "only NumPy and Python's standard library are available")
        elif event == "import":
            top = _str.partition(args[0], ".")[0] if _type(args[0]) is _str else ""
            if top not in _imports:
                raise _ImportError(f"the grader does not allow importing {top} in a solution; "
                                   "NumPy and Python's standard library are available: write the gradient with NumPy")
        elif event in _denied or _str.startswith(event, _prefixes):
            raise _Refused(f"the grader does not allow a solution to do this ({event})")
        elif event == "object.__setattr__" and _type(args[0]) is _function \
                and args[0].__code__.co_filename == _here:
            raise _Refused("the grader does not allow a solution to change the grader's functions")
    return hook


# -- messages: an 8-byte length, a 4-byte header length, a JSON header, then the arrays' raw bytes ----

def pack(meta, arrays=()):
    arrays = [np.asarray(a) for a in arrays]
    meta = dict(meta, arrays=[[a.dtype.str, list(a.shape)] for a in arrays])
    head = json.dumps(meta).encode()
    body = b"".join([struct.pack(">I", len(head)), head] + [a.tobytes() for a in arrays])
    return struct.pack(">Q", len(body)) + body


def unpack(body):
    """(meta, arrays) from a message body; arrays are read-only views of it. ValueError if malformed."""
    if len(body) < 4:
        raise ValueError("a message too short")
    size = struct.unpack(">I", body[:4])[0]
    meta = json.loads(body[4:4 + size].decode())
    if not isinstance(meta, dict) or not isinstance(meta.get("arrays"), list):
        raise ValueError("a message without its header")
    arrays, offset = [], 4 + size
    for item in meta.pop("arrays"):
        if not (isinstance(item, list) and len(item) == 2 and item[0] in ARRAY_DTYPES and isinstance(item[1], list)
                and len(item[1]) <= 8 and all(type(d) is int and 0 <= d < 1 << 31 for d in item[1])):
            raise ValueError(f"an array of an unexpected kind: {str(item)[:80]}")
        dtype, shape = np.dtype(item[0]), tuple(item[1])
        count = int(np.prod(shape, dtype=np.int64))
        if offset + count * dtype.itemsize > len(body):
            raise ValueError("a message shorter than its header says")
        arrays.append(np.frombuffer(body, dtype, count, offset).reshape(shape))
        offset += count * dtype.itemsize
    if offset != len(body):
        raise ValueError("a message longer than its header says")
    return meta, arrays


def read_message(read):
    """The next message's body via ``read(n)``, or None at the end of the stream."""
    head = read(8)
    if len(head) < 8:
        return None
    return read(struct.unpack(">Q", head)[0])


def as_array(value, what):
    """A numeric NumPy array, or a ValueError naming what the solution returned instead."""
    if isinstance(value, np.ndarray) and value.dtype.str in ARRAY_DTYPES:
        return np.asarray(value)
    if isinstance(value, (int, float, np.generic)) and not isinstance(value, bool) \
            and np.asarray(value).dtype.str in ARRAY_DTYPES:
        return np.asarray(value)
    kind = type(value).__name__ if not isinstance(value, np.ndarray) else f"an array of dtype {value.dtype}"
    raise ValueError(f"{what} is {kind}, expected a NumPy array of numbers")


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
        result = self.forward(*arrays, **meta["kwargs"])
        if not isinstance(result, tuple) or len(result) != 2:
            raise ValueError(f"forward must return (out, cache), got {type(result).__name__}")
        out = as_array(result[0], "forward's output")
        handle, self.next_handle = self.next_handle, self.next_handle + 1
        self.caches[handle] = result[1]
        while len(self.caches) > KEPT_CACHES:                 # finite differences never call backward
            self.caches.pop(next(iter(self.caches)))
        return {"handle": handle}, [out]

    def run_backward(self, meta, arrays):
        cache = self.caches.pop(meta["handle"])
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
        return {}, [as_array(g, f"the gradient for {name}") for g, name in zip(grads, meta["names"])]


def error_reply(exc):
    lines = traceback.format_exception(type(exc), exc, exc.__traceback__)
    return {"error": type(exc).__name__, "message": str(exc)[:2000], "traceback": "".join(lines[-6:])[-3000:]}


def main(argv):
    solution = os.path.realpath(argv[0])
    here = os.path.dirname(os.path.realpath(__file__))
    sys.path[:] = [p for p in sys.path if os.path.realpath(p or ".") != here]
    reply_fd = os.dup(1)
    os.dup2(2, 1)                                   # the solution's prints go to stderr
    sys.stdout = sys.stderr
    write, read = os.write, sys.stdin.buffer.read

    def send(meta, arrays=()):
        data = memoryview(pack(meta, arrays))
        while data:
            data = data[write(reply_fd, data):]

    confine(solution)
    try:
        spec = importlib.util.spec_from_file_location("solution", solution)
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        missing = [name for name in ("forward", "backward") if not callable(getattr(module, name, None))]
        if missing:
            raise AttributeError(f"the file defines no {' and no '.join(missing)}() function")
        runner = Runner(module)
        exercise = getattr(module, "EXERCISE", None)
    except BaseException as exc:                    # report any failure to load, then stop
        send(error_reply(exc))
        return
    send({"exercise": exercise if isinstance(exercise, str) else None})
    while True:
        message = read_message(read)
        if message is None:
            return
        meta, arrays = unpack(message)
        try:
            reply, out = (runner.run_forward if meta["op"] == "forward" else runner.run_backward)(meta, arrays)
            send(reply, out)
        except BaseException as exc:                # the solution's errors are the grader's findings
            send(error_reply(exc))


if __name__ == "__main__":
    main(sys.argv[1:])
