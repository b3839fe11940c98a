"""The live processes of this machine, read from /proc (Linux): for tests that no process outlives its use.

A zombie (state Z) has ended and runs nothing: it counts as gone. Its parent reaps it; an orphan's is
the machine's init process.
"""
import os
import signal
import time


def survivors(pids=(), text=None):
    """[(pid, command line)] of the live processes whose pid, process group or session is in ``pids``,
    or whose command line contains ``text``."""
    pids, found = {int(p) for p in pids}, []
    for entry in os.listdir("/proc"):
        if not entry.isdigit() or int(entry) == os.getpid():
            continue
        try:
            with open(f"/proc/{entry}/stat", "rb") as f:
                stat = f.read().decode("utf-8", "replace")
            with open(f"/proc/{entry}/cmdline", "rb") as f:
                command = f.read().replace(b"\0", b" ").decode("utf-8", "replace").strip()
        except OSError:                                    # ended while we looked
            continue
        state, _, group, session = stat.rsplit(")", 1)[1].split()[:4]
        if state == "Z":
            continue
        if {int(entry), int(group), int(session)} & pids or (text is not None and text in command):
            found.append((int(entry), command))
    return found


def wait_until_gone(pids=(), text=None, seconds=10.0):
    """survivors(pids, text) once they are gone or ``seconds`` have passed (a killed process takes a moment)."""
    deadline = time.monotonic() + seconds
    while True:
        left = survivors(pids, text)
        if not left or time.monotonic() > deadline:
            return left
        time.sleep(0.05)


def end_all(found):
    """SIGKILL the processes ``survivors`` found (a test's own leftovers, so that a failing test leaves none)."""
    for pid, _ in found:
        try:
            os.kill(pid, signal.SIGKILL)
        except OSError:
            pass
