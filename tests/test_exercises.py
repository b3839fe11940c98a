"""The exercise grader: it passes every reference solution and fails every planted wrong or cheating
one, for the reason planted; an untouched stub scores nothing. Each run draws fresh random cases.

tests/exercise_solutions/wrong/ holds one file per way to go wrong or to cheat (finite differences of
every kind, masks wrong at a kink, caches changed in place, loading minise or the reference solutions,
forged replies, fake output, ...): each names the check that must catch it. The escape attempts
(``ESCAPE = True``) are graded by tests/test_exercise_escapes.py, with and without the audit hook."""
import os

import pytest
from exercise_sweep import checks_for, expected_failure, missed, verdicts, wrongly_failed

from minise.exercises import EXERCISES, grade
from minise.exercises.handout import STUBS

HERE = os.path.dirname(os.path.abspath(__file__))
SOLUTIONS = os.path.join(HERE, "exercise_solutions")
WRONG = os.path.join(SOLUTIONS, "wrong")
# The reference and planted wrong solutions stay out of the source distribution; the tests that read
# them skip there (a test parametrized over the planted files gets one placeholder case, which skips).
needs_reference_solutions = pytest.mark.usefixtures("reference_solutions")
needs_planted_solutions = pytest.mark.usefixtures("planted_solutions")
ABSENT = "left-out-of-the-source-distribution"
TUTORIAL_COPIES = os.path.join(os.path.dirname(HERE), "tutorials", "exercises")


def _files(folder):
    return sorted(f for f in os.listdir(folder) if f.endswith(".py")) if os.path.isdir(folder) else []


def _read(path):
    with open(path, encoding="utf-8") as f:
        return f.read()


MISTAKES = [f for f in _files(WRONG) if "\nESCAPE = True" not in _read(os.path.join(WRONG, f))] or [ABSENT]
PLANTED = [os.path.join(WRONG, f) for f in _files(WRONG)] or [ABSENT]
SWEEP_SEEDS = range(200)           # MINISE_SLOW=1: every planted file on this many seeds
QUICK_SEEDS = range(3)             # the default suite: a full grade on the first, the file's check on the others
# The large input check's verdict rests on time and on calls of forward, not on the values a seed draws, and
# a file it catches costs the check's whole allowance: fewer seeds for those.
TIMED = "large input"


def seeds_for(path, seeds):
    return seeds[:len(seeds) // 10 or 1] if expected_failure(path) == TIMED else seeds
slow = pytest.mark.skipif(not os.environ.get("MINISE_SLOW"), reason="a sweep over seeds: MINISE_SLOW=1 runs it")


@needs_reference_solutions
def test_every_exercise_has_a_stub_a_reference_solution_and_a_tutorial_copy():
    assert sorted(STUBS) == sorted(EXERCISES)
    assert sorted(f[:-3] for f in _files(SOLUTIONS)) == sorted(EXERCISES)
    assert sorted(f[:-3] for f in _files(TUTORIAL_COPIES)) == sorted(EXERCISES)
    for name, path in STUBS.items():
        assert _read(os.path.join(TUTORIAL_COPIES, name + ".py")) == _read(path), \
            f"tutorials/exercises/{name}.py differs from the stub the package ships: copy it over"
        assert "raise NotImplementedError" in _read(path) and f'EXERCISE = "{name}"' in _read(path)


@pytest.mark.parametrize("name", sorted(EXERCISES))
@needs_reference_solutions
def test_reference_solution_passes(name):
    result = grade(os.path.join(SOLUTIONS, f"{name}.py"))
    assert result.passed, str(result)
    assert result.exercise == name and result.score == result.total
    assert "forward" not in result.scored
    assert result.scored == [check for check, _, _ in result.results if check != "forward"]


@pytest.mark.parametrize("filename", MISTAKES)
@needs_planted_solutions
def test_planted_wrong_solution_fails_for_its_reason(filename):
    """Every check on the first seed, as a grade; then the check the file names on more seeds."""
    path = os.path.join(WRONG, filename)
    expected = expected_failure(path)
    for seed, outcome in verdicts(path, seeds_for(path, QUICK_SEEDS), checks_for(path), full_first=True):
        if expected == "load":
            assert isinstance(outcome, str), f"seed {seed}: the file loaded"
            assert "does not allow" in outcome or "Permission denied" in outcome, outcome
        else:
            assert not isinstance(outcome, str), f"seed {seed}: the file did not load: {outcome}"
            assert outcome[expected][0] is False, f"seed {seed}: check {expected!r} should have failed:\n{outcome}"
            assert outcome.get("forward", (True,))[0] is True, f"seed {seed}: forward is given and right; only " \
                                                               f"backward is wrong:\n{outcome}"


@slow
@pytest.mark.slow
@pytest.mark.parametrize("path", PLANTED, ids=os.path.basename)
@needs_planted_solutions
def test_every_planted_mistake_is_caught_on_every_seed(path):
    """Caught by construction, not by the luck of the seed: the check a planted file names fails on every one
    of 200 seeds (each exercise draws every kind of case, every run)."""
    seeds = seeds_for(path, SWEEP_SEEDS)
    got_past = missed(path, seeds)
    assert not got_past, f"caught on {len(seeds) - len(got_past)} of {len(seeds)} seeds; missed: {got_past}"


@pytest.mark.parametrize("name", sorted(EXERCISES))
def test_a_stub_scores_nothing(name):
    result = grade(STUBS[name])
    assert not result.passed and result.error is None and result.score == 0, str(result)
    outcome = {check: (passed, message) for check, passed, message in result.results}
    first = result.scored[0]
    assert "NotImplementedError" in outcome[first][1], str(result)
    if "forward" in outcome:                            # the given forward is right, and earns nothing
        assert outcome["forward"][0] and "not credited" in outcome["untouched"][1], str(result)


@needs_planted_solutions
def test_the_same_seed_draws_the_same_cases_and_new_seeds_differ():
    path = os.path.join(WRONG, "relu_backward__ignores_gout.py")
    first, again = grade(path, seed=7), grade(path, seed=7)
    assert [r[2] for r in first.results] == [r[2] for r in again.results]
    other = grade(path, seed=8)
    assert [r[2] for r in first.results] != [r[2] for r in other.results]


def _variant(tmp_path, name, old, new, filename=None):
    source = _read(os.path.join(SOLUTIONS, f"{name}.py"))
    assert old in source
    path = tmp_path / (filename or f"{name}.py")
    path.write_text(source.replace(old, new), encoding="utf-8")
    return str(path)


@needs_reference_solutions
def test_a_correct_but_slow_backward_is_told_what_was_measured(tmp_path, monkeypatch):
    """Too slow is not cheating: the message gives the times and says how to vectorise."""
    import minise.exercises.checks as checks
    monkeypatch.setattr(checks, "LARGE_FLOOR", 0.05)
    monkeypatch.setattr(checks, "LARGE_FACTOR", 1)
    slow = ("    import time\n    end = time.process_time() + (0.5 if x.size > 10000 else 0)\n"      # 0.5 s of work
            "    while time.process_time() < end:\n        pass\n    gx = gout * (x > 0)\n")
    result = grade(_variant(tmp_path, "relu_backward", "    gx = gout * (x > 0)\n", slow), seed=3)
    message = dict((c, m) for c, _, m in result.results)["large input"]
    assert not result.passed and "the given forward's" in message and "timed on this machine" in message, message
    assert "NumPy operations on whole arrays" in message and "finite differences" not in message


@needs_reference_solutions
def test_a_backward_of_zeros_scores_nothing(tmp_path):
    path = _variant(tmp_path, "conv2d_backward", "    return gx, gw, gb\n",
                    "    return np.zeros_like(x), np.zeros_like(w), np.zeros(w.shape[0])\n")
    result = grade(path, seed=4)
    assert result.score == 0 and [c for c, p, _ in result.results if p] == ["forward"], str(result)


@pytest.mark.parametrize("out", ["np.maximum(x, 0).astype(np.int64)", "np.maximum(x, 0)[..., :1] if CALLS.append(1) "
                                 "or len(CALLS) % 2 else np.maximum(x, 0)"], ids=["integers", "a shape that changes"])
def test_a_forward_returning_what_no_check_expects_is_graded_not_a_crash(tmp_path, out):
    """The given forward, changed to return integers or a shape that changes from call to call: every check
    that meets it fails, and the file is graded."""
    path = tmp_path / "odd_forward.py"
    path.write_text(f'import numpy as np\nEXERCISE = "relu_backward"\nCALLS = []\n\n\ndef forward(x):\n'
                    f'    return {out}, x\n\n\ndef backward(gout, cache):\n    return gout * (cache > 0)\n',
                    encoding="utf-8")
    result = grade(str(path), seed=1)
    outcome = {check: passed for check, passed, _ in result.results}
    assert not result.passed and outcome["forward"] is False and outcome["gradcheck"] is False, str(result)


def test_the_checker_exercise_functions_mean_the_same_on_both_sides():
    """The functions a gradient checker is tried on are evaluated by NumPy in the solution's process and by
    minise here: the two agree."""
    import importlib.util

    import numpy as np

    from minise.exercises.checker_exercise import program_op, random_program
    from minise.exercises.sandbox_client import SANDBOX
    from minise.tensor import Tensor
    spec = importlib.util.spec_from_file_location("sandbox_script", SANDBOX)
    sandbox = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(sandbox)
    rng = np.random.default_rng(0)
    for _ in range(30):
        program, x, w = random_program(rng), rng.standard_normal((3, 4)), rng.standard_normal((4, 2))
        ours = program_op(Tensor(x), Tensor(w), program).numpy()
        np.testing.assert_allclose(sandbox.program_forward(program)(x, w)[0], ours, rtol=1e-12, atol=1e-14)
    assert {op for _ in range(30) for op, _ in random_program(rng)} == {0, 1, 2}


def test_unknown_exercise_missing_and_unreadable_files(tmp_path):
    path = tmp_path / "mystery.py"
    path.write_text("def forward(x):\n    return x, x\n\ndef backward(g, c):\n    return g\n", encoding="utf-8")
    result = grade(str(path))
    assert not result.passed and "unknown exercise" in result.error
    for bad, why in [(tmp_path / "absent.py", "no such file"), (tmp_path / "notes.txt", "expected a Python file"),
                     (tmp_path / "latin1.py", "not UTF-8"), (tmp_path / "broken.ipynb", "not a Jupyter notebook")]:
        if bad.name != "absent.py":
            bad.write_bytes(b"{cells: 1}" if bad.suffix == ".ipynb" else b"caf\xe9 = 1\n")
        row = grade(str(bad))
        assert not row.passed and row.status == "not graded" and why in row.error, str(row)


@needs_reference_solutions
def test_a_notebook_is_graded_like_its_code(tmp_path):
    import json
    source = _read(os.path.join(SOLUTIONS, "relu_backward.py"))
    cells = [{"cell_type": "markdown", "source": ["# my solution"]},
             {"cell_type": "code", "source": ["%matplotlib inline\n", "!pip list\n"]},
             {"cell_type": "code", "source": source.splitlines(True)}]
    path = tmp_path / "relu.ipynb"
    path.write_text(json.dumps({"cells": cells, "nbformat": 4}), encoding="utf-8")
    result = grade(str(path))
    assert result.passed and result.exercise == "relu_backward", str(result)


@needs_reference_solutions
def test_a_file_cannot_choose_another_exercise_than_the_teachers():
    result = grade(os.path.join(SOLUTIONS, "relu_backward.py"), exercise="linear_backward")
    assert not result.passed and "graded as linear_backward" in result.error


@needs_reference_solutions
def test_a_print_flood_gets_a_note_not_an_error(tmp_path):
    flood = ("    if not PRINTED:\n        PRINTED.append(1)\n        print('x' * (1 << 20) * 24)\n"
             "    gx = gout * (x > 0)\n")
    path = _variant(tmp_path, "relu_backward", "    gx = gout * (x > 0)\n", flood)
    with open(path, "a", encoding="utf-8") as f:
        f.write("\nPRINTED = []\n")
    result = grade(path, seed=1)
    assert result.passed, str(result)
    assert "printed 25,165,825 bytes" in result.note


STYLES = os.path.join(SOLUTIONS, "styles")
STYLE_FILES = _files(STYLES)                        # left out of the source distribution too


@pytest.mark.parametrize("filename", STYLE_FILES or [ABSENT])
@needs_reference_solutions
def test_right_solutions_in_other_styles_pass(filename):
    """im2col, loops over output positions, np.add.at, np.where, einsum, row loops, the three batch-norm
    paths: a right backward passes whatever its style, on a busy machine too."""
    result = grade(os.path.join(STYLES, filename))
    assert result.passed, str(result)


@slow
@pytest.mark.slow
@pytest.mark.parametrize("path", [os.path.join(SOLUTIONS, f) for f in _files(SOLUTIONS)] +
                         [os.path.join(STYLES, f) for f in STYLE_FILES], ids=os.path.basename)
def test_right_solutions_pass_across_seeds(path):
    """Every check but the timed one on 200 seeds (no false alarm from a case drawn badly), and whole grades
    on a few."""
    failed = wrongly_failed(path, SWEEP_SEEDS)
    assert not failed, f"failed on {len(failed)} of {len(SWEEP_SEEDS)} seeds: {dict(list(failed.items())[:3])}"
    for seed in range(3):
        result = grade(path, seed=seed)
        assert result.passed, str(result)
