"""The second layer of a solution's confinement: an audit hook (PEP 578) that explains refusals kindly.

The kernel (:mod:`minise.exercises.kernel`) is what confines a solution: code that can write its own
memory can switch any in-process check off, and this hook is one. What the hook adds is a clear
message for an honest mistake ("the grader does not allow importing torch in a solution") where the
kernel would only say "Permission denied", and a fence of its own on systems without Landlock.
It refuses

* reading any file but the solution itself, Python's standard library and NumPy;
* writing, renaming or deleting files; opening file descriptors by number;
* importing anything but NumPy and the standard library (no torch, sympy, minise, ...), and ctypes;
* starting or signalling processes, sockets, hand-made code objects, tracing hooks, changing limits.

The hook keeps what it needs in its own default arguments, so patching modules cannot steer it.
"""
import os
import sys
import types

NO_IMPORT = frozenset({"ctypes", "_ctypes", "_posixsubprocess", "_bootsubprocess", "readline", "sqlite3",
                       "_sqlite3", "_posixshmem", "multiprocessing", "_multiprocessing"})
DENIED_EVENTS = frozenset({
    "os.system", "os.exec", "os.posix_spawn", "os.spawn", "os.fork", "os.forkpty", "subprocess.Popen",
    "pty.spawn", "os.kill", "os.killpg", "signal.pthread_kill", "signal.pidfd_send_signal",
    "sys.settrace", "sys.setprofile", "sys.addaudithook", "sys._setprofileallthreads", "sys._settraceallthreads",
    "os.remove", "os.rename", "os.rmdir", "os.mkdir", "os.symlink", "os.link", "os.chmod", "os.chown",
    "os.truncate", "os.utime", "os.chflags", "os.lchflags", "os.setxattr", "os.removexattr", "os.mknod",
    "os.mkfifo", "mmap.__new__", "resource.setrlimit", "resource.prlimit", "fcntl.fcntl", "fcntl.ioctl",
    "fcntl.flock", "fcntl.lockf", "shutil.rmtree", "os.startfile", "os.add_dll_directory",
    "code.__new__",                 # hand-made bytecode can read and write memory
    "gc.get_objects", "gc.get_referrers", "gc.get_referents",   # no fishing for what was taken away
    "sqlite3.connect", "cpython.PyInterpreterState_New"})
DENIED_PREFIXES = ("ctypes.", "socket.", "winreg.", "_winapi.", "msvcrt.", "webbrowser.")


class Refused(PermissionError):
    """What the audit hook raises; its message says what a solution may use."""


def stdlib_names(stdlib_dirs):
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


def install(solution, stdlib, packages, numpy_dirs):
    """Add the hook, for the rest of this process's life. ``stdlib`` and ``packages`` are folders
    ending in "/" (the standard library may be read, third-party packages inside it may not)."""
    imports = stdlib_names(stdlib) - NO_IMPORT | {"numpy"}
    sys.addaudithook(_make_hook(os.path.realpath(solution), stdlib, packages, numpy_dirs, imports))


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
            writes = mode is not None and _type(mode) is _str and ("w" in mode or "a" in mode or "+" in mode
                                                                    or "x" in mode)
            if writes or (_type(flags) is _int and flags & _writing):
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
