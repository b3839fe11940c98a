"""No solution's process outlives its grade: not after a timeout, an error or a KeyboardInterrupt in the
grader, nor when the grader itself is killed; and the whole process group goes with it.

The solution graded here tries to start processes (os.fork, os.posix_spawn, subprocess) and then loops;
each test looks for what is left by pid, process group and session in /proc (Linux)."""
import os
import signal
import subprocess
import sys
import threading
import time

import pytest
from process_table import end_all, survivors, wait_until_gone

import minise.exercises.grader as grader
from minise.exercises import grade
from minise.exercises.sandbox_client import end_process

pytestmark = pytest.mark.skipif(not os.path.isdir("/proc/self"), reason="reads the process table from /proc (Linux)")
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

SPAWNS_AND_LOOPS = '''
import os
import subprocess
import sys

import numpy as np

EXERCISE = "relu_backward"
LOOP = [sys.executable, "-c", "while True: pass"]


def forward(x):
    return np.maximum(x, 0), x


def backward(gout, cache):
    for start in (os.fork, lambda: os.posix_spawn(sys.executable, LOOP, {}), lambda: subprocess.Popen(LOOP)):
        try:
            if start() == 0:                # a forked copy loops too
                while True:
                    pass
        except Exception:
            pass
    while True:
        pass
'''


@pytest.fixture
def looping(tmp_path):
    path = tmp_path / "spawns_and_loops.py"
    path.write_text(SPAWNS_AND_LOOPS, encoding="utf-8")
    return str(path)


@pytest.fixture
def started(monkeypatch):
    """The pids of the solution processes the grader starts."""
    pids = []

    class Recorded(grader.Solution):
        def __init__(self, *args, **kwargs):
            super().__init__(*args, **kwargs)
            pids.append(self.process.pid)
    monkeypatch.setattr(grader, "Solution", Recorded)
    return pids


def _reaped(pid):
    try:
        os.waitpid(pid, os.WNOHANG)
    except ChildProcessError:                # not a child any more: reaped
        return True
    return False


def test_no_process_outlives_a_grade_that_timed_out(looping, started):
    """A backward that loops is stopped after the timeout (a limit no right solution comes near, however
    busy the machine), and its process ends."""
    result = grade(looping, timeout=3.0)
    outcome = {check: (passed, message) for check, passed, message in result.results}
    assert outcome["backward"][0] is False and "running backward took longer than 3 s" in outcome["backward"][1], \
        str(result)
    assert result.score == 0, str(result)
    assert started and all(_reaped(pid) for pid in started)
    left = survivors(started, looping)
    end_all(left)
    assert not left, "a solution's process outlived its grade"


@pytest.mark.parametrize("stop", ["KeyboardInterrupt", "an error in the grader"])
def test_no_process_outlives_an_interrupted_grade(looping, started, monkeypatch, stop):
    if stop == "KeyboardInterrupt":           # Ctrl-C while the grader waits for the looping backward
        expected = KeyboardInterrupt
        timer = threading.Timer(3.0, signal.pthread_kill, (threading.main_thread().ident, signal.SIGINT))
    else:
        expected, timer = RuntimeError, None

        def failing_checks(solution, exercise, rng):
            solution.forward(exercise.cases(rng)[0])            # the process is up and has run the file
            raise RuntimeError("a bug in a check")
        monkeypatch.setattr(grader, "_run_checks", failing_checks)
    if timer is not None:
        timer.start()
    try:
        with pytest.raises(expected):
            grade(looping, timeout=60.0)
    finally:
        if timer is not None:
            timer.cancel()
    assert started and all(_reaped(pid) for pid in started)
    left = survivors(started, looping)
    end_all(left)
    assert not left, "a solution's process outlived its grade"


def test_no_process_outlives_a_killed_grader(looping):
    """SIGKILL leaves the grader no say: the kernel ends the solution's process (its parent-death signal)."""
    env = dict(os.environ, PYTHONPATH=ROOT + os.pathsep + os.environ.get("PYTHONPATH", ""))
    batch = subprocess.Popen([sys.executable, "-m", "minise", "grade", "--timeout", "120", looping], env=env,
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    mine = f"sandbox.py {looping} "
    try:
        deadline = time.monotonic() + 120
        while not survivors(text=mine) and time.monotonic() < deadline and batch.poll() is None:
            time.sleep(0.1)
        assert survivors(text=mine), "the solution's process never started"
        time.sleep(1.0)                                     # into its loop
    finally:
        batch.kill()
        batch.wait()
    left = wait_until_gone(text=mine)
    end_all(left)
    assert not left, "the solution's process outlived the grader"


def test_the_whole_process_group_ends(tmp_path):
    """Where a solution could start processes (no seccomp), they are in its process group, which is killed whole."""
    code = ("import os, sys, time\npid = os.fork()\nif pid == 0:\n    while True:\n        time.sleep(0.1)\n"
            "print(pid, flush=True)\nwhile True:\n    time.sleep(0.1)\n")
    process = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, start_new_session=True)
    grandchild = int(process.stdout.readline())
    process.stdout.close()
    assert survivors([grandchild])
    end_process(process)
    assert process.returncode is not None and _reaped(process.pid)
    left = wait_until_gone([process.pid, grandchild])
    end_all(left)
    assert not left
