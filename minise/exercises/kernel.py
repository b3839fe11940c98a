"""Kernel confinement for a solution's process (Linux): what the kernel refuses, no matter what the code does.

Code that can write its own memory (NumPy can point an array at any address through
``__array_interface__``) gets past every check made inside its own interpreter, so the walls that
count are the kernel's. :func:`confine` raises them in the solution's process, before the
solution's source is even read, and they hold for the rest of that process's life:

* a session of its own (``setsid``, or the grader's ``start_new_session``): no terminal, no signals from
  the teacher's shell, and one process group that the grader kills whole;
* death with the grader (:func:`die_with_parent`, ``PR_SET_PDEATHSIG``, which seccomp keeps it from
  undoing): however the grader ends, even by SIGKILL, the solution's process ends with it;
* rlimits: no new processes (``RLIMIT_NPROC`` 0), no file writes (``RLIMIT_FSIZE`` 0), bounded
  address space and CPU time, no core dumps;
* ``PR_SET_NO_NEW_PRIVS``, and, when it runs as root, no capabilities left (root could otherwise
  raise its own rlimits back);
* Landlock (Linux ≥ 5.13; unprivileged): the file system becomes read-only and readable only
  under the paths given (Python's standard library, NumPy); ABI ≥ 4 also forbids every TCP bind and
  connect, ABI ≥ 6 forbids signalling any process outside the sandbox and reaching abstract unix
  sockets outside it;
* seccomp (x86_64, aarch64): no fork, exec, ptrace, signals, sockets, mounts, namespaces or
  kernel keyrings, whatever the Landlock ABI, and no change of the parent-death signal; new threads
  stay allowed (``clone`` with CLONE_THREAD).

Everything is done with ctypes and the C library's ``syscall``; nothing is a Python-level check.
:func:`confine` returns a report of what it got: ``describe(report)`` says it in a line, and
``report["kernel"]`` is True when the file system, processes and signals are all fenced by the kernel.
"""
import ctypes
import os
import platform
import resource
import signal
import struct

LANDLOCK_CREATE_RULESET, LANDLOCK_ADD_RULE, LANDLOCK_RESTRICT_SELF = 444, 445, 446   # every architecture
PR_SET_NO_NEW_PRIVS, PR_CAPBSET_DROP, PR_SET_SECCOMP, SECCOMP_MODE_FILTER = 38, 24, 22, 2
PR_SET_PDEATHSIG = 1
READ_FILE, READ_DIR = 1 << 2, 1 << 3
FS_RIGHTS = {1: (1 << 13) - 1, 2: (1 << 14) - 1, 3: (1 << 15) - 1, 4: (1 << 15) - 1, 5: (1 << 16) - 1}
TCP_BIND_CONNECT, SCOPE_ABSTRACT_UNIX_AND_SIGNAL = 0b11, 0b11

# seccomp: syscall numbers refused with EPERM per architecture (clone3 gets ENOSYS, so that the C
# library falls back to clone, whose flags the filter can read), and the audit architecture.
DENIED = {
    "x86_64": (0xC000003E, 435, 56, dict(
        fork=57, vfork=58, execve=59, execveat=322, kill=62, tkill=200, tgkill=234, rt_sigqueueinfo=129,
        rt_tgsigqueueinfo=297, pidfd_open=434, pidfd_send_signal=424, pidfd_getfd=438, ptrace=101,
        process_vm_readv=310, process_vm_writev=311, socket=41, socketpair=53, io_uring_setup=425,
        mount=165, umount2=166, unshare=272, setns=308, chroot=161, pivot_root=155, keyctl=250,
        add_key=248, request_key=249, bpf=321, perf_event_open=298, userfaultfd=323,
        open_by_handle_at=304, name_to_handle_at=303, kexec_load=246, init_module=175,
        finit_module=313, delete_module=176, reboot=169, setrlimit=160, fanotify_init=300)),
    "aarch64": (0xC00000B7, 435, 220, dict(
        execve=221, execveat=281, kill=129, tkill=130, tgkill=131, rt_sigqueueinfo=138,
        rt_tgsigqueueinfo=240, pidfd_open=434, pidfd_send_signal=424, pidfd_getfd=438, ptrace=117,
        process_vm_readv=270, process_vm_writev=271, socket=198, socketpair=199, io_uring_setup=425,
        mount=40, umount2=39, unshare=97, setns=268, chroot=51, pivot_root=41, keyctl=219, add_key=217,
        request_key=218, bpf=280, perf_event_open=241, userfaultfd=282, open_by_handle_at=265,
        name_to_handle_at=264, kexec_load=104, init_module=105, finit_module=273, delete_module=106,
        reboot=142, setrlimit=164, fanotify_init=262)),
}
CAPSET = {"x86_64": 126, "aarch64": 91}
PRCTL = {"x86_64": 157, "aarch64": 167}
CLONE_THREAD = 0x10000
_libc = ctypes.CDLL(None, use_errno=True)
_libc.syscall.restype = ctypes.c_long
_libc.prctl.argtypes = [ctypes.c_int, ctypes.c_ulong, ctypes.c_ulong, ctypes.c_ulong, ctypes.c_ulong]


def _check(result, what):
    if result < 0:
        errno = ctypes.get_errno()
        raise OSError(errno, f"{what}: {os.strerror(errno)}")
    return result


def landlock_abi():
    """The kernel's Landlock ABI version, 0 when it has none (or it is disabled)."""
    if platform.system() != "Linux":
        return 0
    version = _libc.syscall(LANDLOCK_CREATE_RULESET, None, ctypes.c_size_t(0), ctypes.c_uint32(1))
    return max(int(version), 0)


def _landlock(abi, directories, files):
    """Read-only access beneath ``directories`` and to ``files``; nothing else, from now on."""
    fs = FS_RIGHTS[min(abi, 5)]
    attr = struct.pack("=QQQ", fs, TCP_BIND_CONNECT if abi >= 4 else 0,
                       SCOPE_ABSTRACT_UNIX_AND_SIGNAL if abi >= 6 else 0)
    size = 8 if abi < 4 else 16 if abi < 6 else 24
    ruleset = _check(_libc.syscall(LANDLOCK_CREATE_RULESET, ctypes.c_char_p(attr), ctypes.c_size_t(size),
                                   ctypes.c_uint32(0)), "landlock_create_ruleset")
    try:
        for path, rights in [(d, READ_FILE | READ_DIR) for d in directories] + [(f, READ_FILE) for f in files]:
            try:
                fd = os.open(path, os.O_PATH | os.O_CLOEXEC)
            except OSError:
                continue                                     # a path that does not exist grants nothing
            try:
                if not os.path.isdir(path):
                    rights = READ_FILE
                rule = ctypes.create_string_buffer(struct.pack("=Qi", rights, fd))
                _check(_libc.syscall(LANDLOCK_ADD_RULE, ctypes.c_int(ruleset), ctypes.c_int(1), rule,
                                     ctypes.c_uint32(0)), f"landlock_add_rule {path}")
            finally:
                os.close(fd)
        _check(_libc.syscall(LANDLOCK_RESTRICT_SELF, ctypes.c_int(ruleset), ctypes.c_uint32(0)),
               "landlock_restrict_self")
    finally:
        os.close(ruleset)


def _bpf(arch, clone3, clone, denied, prctl):
    """A classic-BPF seccomp program: other architectures killed, ``denied`` -> EPERM, clone3 -> ENOSYS,
    clone allowed only with CLONE_THREAD (threads, not processes), prctl(PR_SET_PDEATHSIG) -> EPERM (the
    process dies with the grader), everything else allowed."""
    LD, JEQ, JGE, JSET, RET = 0x20, 0x15, 0x35, 0x45, 0x06
    ALLOW, KILL, ERRNO = 0x7FFF0000, 0x80000000, 0x00050000
    checks = [(JGE, 0x40000000, "eperm")] if arch == 0xC000003E else []      # x32 system calls
    checks += [(JEQ, n, "eperm") for n in sorted(set(denied.values()))]
    checks += [(JEQ, clone3, "enosys"), (JEQ, clone, "clone"), (JEQ, prctl, "prctl")]
    head = [(LD, 0, 0, 4), (JEQ, 1, 0, arch), (RET, 0, 0, KILL), (LD, 0, 0, 0)]   # seccomp_data.arch, .nr
    start = len(head) + len(checks)
    labels = {"clone": start + 1, "prctl": start + 4, "eperm": start + 7, "enosys": start + 8}
    prog = head + [(code, labels[to] - (len(head) + i) - 1, 0, k) for i, (code, k, to) in enumerate(checks)]
    prog += [(RET, 0, 0, ALLOW),
             (LD, 0, 0, 16), (JSET, 0, 4, CLONE_THREAD), (RET, 0, 0, ALLOW),  # clone: args[0] & CLONE_THREAD
             (LD, 0, 0, 16), (JEQ, 1, 0, PR_SET_PDEATHSIG), (RET, 0, 0, ALLOW),  # prctl: args[0]
             (RET, 0, 0, ERRNO | 1), (RET, 0, 0, ERRNO | 38)]                   # EPERM, ENOSYS
    assert len(prog) == labels["enosys"] + 1 and all(0 <= jt < 256 for _, jt, _, _ in prog)
    return prog


def _seccomp():
    machine = platform.machine()
    if machine not in DENIED:
        raise OSError(f"no seccomp table for {machine}")
    prog = _bpf(*DENIED[machine], PRCTL[machine])
    raw = b"".join(struct.pack("=HBBI", *instruction) for instruction in prog)
    filters = ctypes.create_string_buffer(raw)
    fprog = struct.pack("@HP", len(prog), ctypes.addressof(filters))
    holder = ctypes.create_string_buffer(fprog)
    _check(_libc.prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, ctypes.addressof(holder), 0, 0), "seccomp")


def _drop_capabilities():
    """Root without capabilities: it keeps reading its own files, but cannot raise limits or override checks."""
    for cap in range(64):
        if _libc.prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) < 0:
            break
    header = ctypes.create_string_buffer(struct.pack("=Ii", 0x20080522, 0))
    data = ctypes.create_string_buffer(bytes(24))
    _check(_libc.syscall(CAPSET[platform.machine()], header, data), "capset")


def _rlimits(memory, cpu_seconds):
    limits = [("RLIMIT_NPROC", 0), ("RLIMIT_FSIZE", 0), ("RLIMIT_CORE", 0), ("RLIMIT_AS", memory),
              ("RLIMIT_CPU", cpu_seconds)]
    got = []
    for name, value in limits:
        try:
            resource.setrlimit(getattr(resource, name), (value, value))
            got.append(name)
        except (ValueError, OSError, AttributeError):
            pass
    return got


def die_with_parent(parent):
    """Have the kernel send SIGKILL to this process when its parent (the grader, pid ``parent``) ends,
    however it ends; exits at once if the parent is already gone. True where the kernel can do it (Linux)."""
    if platform.system() != "Linux":
        return False
    _check(_libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0), "PR_SET_PDEATHSIG")
    if os.getppid() != parent:                   # the grader ended before the signal was asked for
        os._exit(1)
    return True


def confine(directories, files, memory, cpu_seconds):
    """Confine this process for good (see the module's docstring); returns the report of what held."""
    report = {"landlock": 0, "seccomp": False, "no_new_privs": False, "capabilities_dropped": False,
              "session": False, "rlimits": [], "problems": [], "root": os.geteuid() == 0}
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)     # a write past the limit fails instead of killing
    try:
        if os.getsid(0) != os.getpid():         # not yet the leader of a session of its own
            os.setsid()
        report["session"] = True
    except OSError as exc:
        report["problems"].append(f"setsid: {exc}")
    report["rlimits"] = _rlimits(memory, cpu_seconds)
    steps = [("no_new_privs", lambda: _check(_libc.prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0), "no_new_privs"))]
    if report["root"]:
        steps.append(("capabilities_dropped", _drop_capabilities))
    abi = landlock_abi()
    if abi:
        steps.append(("landlock", lambda: _landlock(abi, directories, files)))
    else:
        report["problems"].append("this kernel has no Landlock (Linux 5.13 or later, enabled at boot)")
    steps.append(("seccomp", _seccomp))
    for key, step in steps:
        try:
            step()
            report[key] = abi if key == "landlock" else True
        except (OSError, KeyError, AttributeError) as exc:
            report["problems"].append(f"{key}: {exc}")
    no_processes = report["seccomp"] or (not report["root"] and "RLIMIT_NPROC" in report["rlimits"])
    no_signals = report["seccomp"] or report["landlock"] >= 6
    report["kernel"] = bool(report["landlock"] and report["no_new_privs"] and no_processes and no_signals)
    return report
