"""A solution that tries to escape its sandbox fails, and leaves no trace, with or without the audit hook.

Each file in tests/exercise_solutions/wrong/ marked ``ESCAPE = True`` is a right solution if, and only
if, its escape works (it returns the true gradient only after escaping). The kernel is what must stop
it: these tests grade every escape a second time with the audit hook switched off, so that what holds
is Landlock, seccomp and the rlimits alone (skipped where the kernel has no Landlock)."""
import glob
import os
import subprocess
import sys
import sysconfig

import pytest

from minise.exercises import grade
from minise.exercises.kernel import landlock_abi
from minise.exercises.sandbox_client import describe_confinement

WRONG = os.path.join(os.path.dirname(os.path.abspath(__file__)), "exercise_solutions", "wrong")
ESCAPES = sorted(os.path.basename(p) for p in glob.glob(os.path.join(WRONG, "*.py"))
                 if "\nESCAPE = True" in open(p, encoding="utf-8").read())
# Left out of the source distribution: one placeholder case, which the planted_solutions fixture skips.
CASES = ESCAPES or ["left-out-of-the-source-distribution"]
TRACES = ["/tmp/minise-escape-*", "/dev/shm/minise-escape-*", os.path.join(WRONG, "minise-escape-*"),
          os.path.join(sysconfig.get_paths()["purelib"], "minise_escape_*")]
KERNEL = landlock_abi() > 0 and sys.platform.startswith("linux")


def _traces():
    return sorted(path for pattern in TRACES for path in glob.glob(pattern))


@pytest.fixture
def no_traces():
    for path in _traces():
        os.remove(path)
    yield
    left = _traces()
    for path in left:
        os.remove(path)
    assert not left, f"an escape left files behind: {left}"


@pytest.mark.usefixtures("planted_solutions")
def test_there_is_an_escape_for_each_way_out():
    kinds = ["array_interface", "readline", "pth", "shm_open", "sqlite", "pidfd", "stops_grader", "sympy", "str_flag",
             "network", "forks", "proc_self_mem", "outlives_grader", "other_paths"]
    for kind in kinds:
        assert any(kind in name for name in ESCAPES), kind


@pytest.mark.parametrize("filename", CASES)
def test_escape_fails(filename, planted_solutions, no_traces):
    result = grade(os.path.join(WRONG, filename), seed=1)
    assert not result.passed and result.score <= 1, str(result)
    outcome = {check: passed for check, passed, _ in result.results}
    assert outcome["backward"] is False, str(result)


@pytest.mark.skipif(not KERNEL, reason="this kernel has no Landlock")
@pytest.mark.parametrize("filename", CASES)
def test_the_kernel_holds_without_the_audit_hook(filename, planted_solutions, no_traces):
    result = grade(os.path.join(WRONG, filename), seed=2, audit_hook=False)
    assert result.confinement.startswith("Landlock ABI") and "audit hook off" in result.confinement, str(result)
    assert not result.passed and result.score <= 1, str(result)
    messages = " ".join(message for _, _, message in result.results)
    assert "does not allow" not in messages, str(result)         # refused by the kernel, not by the hook


def test_no_backdoor_runs_in_a_new_python():
    """A planted .pth file would set this variable in every new interpreter (and so in every later grade)."""
    out = subprocess.run([sys.executable, "-c", "import os; print(os.environ.get('MINISE_BACKDOOR'))"],
                         capture_output=True, text=True, timeout=60, env={k: v for k, v in os.environ.items()
                                                                           if k != "MINISE_BACKDOOR"})
    assert out.stdout.strip() == "None"


@pytest.mark.skipif(not KERNEL, reason="this kernel has no Landlock")
@pytest.mark.usefixtures("reference_solutions")
def test_the_grade_states_its_confinement_and_can_require_it():
    reference = os.path.join(os.path.dirname(WRONG), "relu_backward.py")
    result = grade(reference, require_confinement=True)
    assert result.passed, str(result)
    assert f"Landlock ABI {landlock_abi()}" in str(result) and "seccomp" in result.confinement


def test_the_confinement_line_says_when_the_kernel_did_not_confine():
    text = describe_confinement({"kernel": False, "landlock": 0, "problems": ["this kernel has no Landlock"]})
    assert text.startswith("audit hook only") and "not proof against a determined student" in text
    full = {"kernel": True, "landlock": 6, "seccomp": True, "no_new_privs": True, "session": True,
            "rlimits": ["RLIMIT_NPROC"], "audit_hook": True}
    assert describe_confinement(full).startswith("Landlock ABI 6 (files, TCP, signals, abstract sockets) + seccomp")
