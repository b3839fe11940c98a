"""The exercise grader: it passes every reference solution and fails every planted wrong or cheating
one, for the reason planted; an untouched skeleton fails cleanly. Each run draws fresh random cases.

tests/exercise_solutions/wrong/ holds one file per way to go wrong or to cheat (finite differences,
loading minise or the reference solutions, ctypes, subprocesses, /proc, writing files, signals,
forged replies, fake output, exiting early, huge memory): each names the check that must catch it."""
import ast
import os
import re
import subprocess
import sys

import pytest

from minise.exercises import EXERCISES, grade
from minise.exercises.forwards import FORWARDS

HERE = os.path.dirname(os.path.abspath(__file__))
SOLUTIONS = os.path.join(HERE, "exercise_solutions")
WRONG = os.path.join(SOLUTIONS, "wrong")
SKELETONS = os.path.join(os.path.dirname(HERE), "tutorials", "exercises")


def _files(folder):
    return sorted(f for f in os.listdir(folder) if f.endswith(".py"))


def _expected_failure(path):
    with open(path, encoding="utf-8") as f:
        match = re.search(r'^EXPECT_FAIL = "([^"]+)"', f.read(), re.M)
    assert match, f"{path} must say which check catches it (EXPECT_FAIL = ...)"
    return match.group(1)


def test_every_exercise_has_a_skeleton_and_a_reference_solution():
    assert sorted(f[:-3] for f in _files(SKELETONS)) == sorted(EXERCISES)
    assert sorted(f[:-3] for f in _files(SOLUTIONS)) == sorted(EXERCISES)


@pytest.mark.parametrize("name", sorted(EXERCISES))
def test_reference_solution_passes(name):
    result = grade(os.path.join(SOLUTIONS, f"{name}.py"))
    assert result.passed, str(result)
    assert result.exercise == name and result.score == result.total


@pytest.mark.parametrize("filename", _files(WRONG))
def test_planted_wrong_solution_fails_for_its_reason(filename):
    path = os.path.join(WRONG, filename)
    expected = _expected_failure(path)
    result = grade(path)
    assert not result.passed, f"the grader passed a planted wrong solution:\n{result}"
    if expected == "load":
        assert result.error and "does not allow" in result.error, str(result)
        assert result.score == 0
    else:
        outcome = {check: passed for check, passed, _ in result.results}
        assert outcome[expected] is False, f"check {expected!r} should have failed:\n{result}"
        assert outcome["forward"] is True, f"forward is given and right; only backward is wrong:\n{result}"


@pytest.mark.parametrize("name", sorted(EXERCISES))
def test_skeleton_fails_cleanly(name):
    result = grade(os.path.join(SKELETONS, f"{name}.py"))
    assert not result.passed and result.error is None
    outcome = {check: (passed, message) for check, passed, message in result.results}
    assert outcome["forward"][0], str(result)          # the given forward is right
    assert "NotImplementedError" in outcome["backward"][1], str(result)


def test_the_same_seed_draws_the_same_cases_and_new_seeds_differ():
    path = os.path.join(WRONG, "relu_backward__ignores_gout.py")
    first, again = grade(path, seed=7), grade(path, seed=7)
    assert [r[2] for r in first.results] == [r[2] for r in again.results]
    other = grade(path, seed=8)
    assert [r[2] for r in first.results] != [r[2] for r in other.results]


def test_slow_solution_is_stopped_by_the_timeout(tmp_path):
    source = open(os.path.join(SOLUTIONS, "relu_backward.py"), encoding="utf-8").read()
    slow = source.replace("    gx = gout * (x > 0)\n", "    while True:\n        pass\n")
    path = tmp_path / "slow.py"
    path.write_text(slow, encoding="utf-8")
    result = grade(str(path), timeout=1.0)
    assert not result.passed
    assert any("longer than 1 s" in message for _, _, message in result.results), str(result)


def test_unknown_exercise_and_missing_file(tmp_path):
    path = tmp_path / "mystery.py"
    path.write_text("def forward(x):\n    return x, x\n\ndef backward(g, c):\n    return g\n", encoding="utf-8")
    result = grade(str(path))
    assert not result.passed and "unknown exercise" in result.error
    missing = grade(str(tmp_path / "absent.py"))
    assert not missing.passed and "no such file" in missing.error


def test_command_line_exit_codes():
    def run(*files):
        return subprocess.run([sys.executable, "-m", "minise.exercises", *files], capture_output=True, text=True,
                              timeout=120)
    good = run(os.path.join(SOLUTIONS, "relu_backward.py"))
    assert good.returncode == 0, good.stdout + good.stderr
    assert "score 6/6" in good.stdout
    bad = run(os.path.join(SOLUTIONS, "relu_backward.py"), os.path.join(WRONG, "relu_backward__inplace.py"))
    assert bad.returncode == 1 and "FAIL  untouched" in bad.stdout
    assert run("no_such_file.py").returncode == 2


def test_a_solution_cannot_fake_the_graders_lines():
    result = grade(os.path.join(WRONG, "relu_backward__fakes_grader_output.py"))
    text = str(result)
    assert not result.passed and "\x1b" not in text and "\r" not in text
    assert [line for line in text.splitlines() if line.startswith("  score")] == ["  score 1/6: FAILED"], text
    assert all(not line.lstrip().startswith("score 6/6") for line in text.splitlines() if not line.startswith("      "))


def test_a_file_cannot_choose_another_exercise_than_the_teachers():
    result = grade(os.path.join(SOLUTIONS, "relu_backward.py"), exercise="linear_backward")
    assert not result.passed and "graded as linear_backward" in result.error


@pytest.mark.parametrize("name", sorted(EXERCISES))
def test_the_timed_forward_is_the_skeletons_forward(name):
    """The large case's time budget is counted in forwards of minise/exercises/forwards.py."""
    def body(source, function):
        tree = ast.parse(source)
        node = next(n for n in tree.body if isinstance(n, ast.FunctionDef) and n.name == function)
        return ast.dump(ast.Module(body=node.body, type_ignores=[]))
    with open(os.path.join(SKELETONS, f"{name}.py"), encoding="utf-8") as f:
        skeleton = body(f.read(), "forward")
    with open(FORWARDS[name].__code__.co_filename, encoding="utf-8") as f:
        timed = body(f.read(), FORWARDS[name].__name__)
    assert skeleton == timed
