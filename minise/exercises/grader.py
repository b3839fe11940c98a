"""Grade a hand-written backward pass: ``minise grade FILE`` or ``python -m minise.exercises FILE``.

The file is one of the exercises in tutorials/exercises/ (its ``EXERCISE = "..."`` line says which):
a NumPy ``forward(...) -> (out, cache)`` and the student's ``backward(gout, cache)``. It runs in its
own process (:mod:`minise.exercises.sandbox`), where importing minise or torch fails, and every run
draws fresh random shapes and values, so neither copying an answer nor calling a library works.

Checks (each passes or fails; the score counts them):
  forward        the output matches minise's on random cases
  backward       every gradient has its input's shape and dtype and matches minise's, element by
                 element, for a random upstream gradient gout (an all-ones gout hides bugs)
  gradcheck      minise.check_backward: central finite differences of the student's own forward
                 agree with the student's backward
  untouched      neither forward nor backward changed an argument (x, w, ..., gout) in place
  float32        float32 inputs give float32 gradients
  large input    a large case is right too, and fast: the gradient is a formula, not measured
Exit code 0 when every check of every file passes, 1 otherwise.
"""
import argparse
import os
import sys
import warnings

import numpy as np

from ..gradcheck import check_backward
from .sandbox_client import Solution, SolutionError
from .specs import EXERCISES

CASES = 3                # random cases for the forward and backward checks
FD_ELEMENTS = 40         # finite differences on at most this many elements per input
RTOL, ATOL = 1e-5, 1e-7  # float64 agreement with minise


class CheckFailed(Exception):
    pass


def _compare(what, yours, expected, name):
    """Raise CheckFailed naming the element where ``yours`` and ``expected`` disagree most."""
    yours = np.asarray(yours)
    if yours.shape != expected.shape:
        raise CheckFailed(f"{what}: {name} has shape {yours.shape}, expected {expected.shape}")
    rtol, atol = (RTOL, ATOL) if yours.dtype != np.float32 else (1e-3, 1e-4 * (1 + np.abs(expected).max(initial=0)))
    expected = expected.astype(np.float64)
    excess = np.abs(yours.astype(np.float64) - expected) - (atol + rtol * np.abs(expected))
    if not np.all(np.isfinite(yours)):
        excess = np.where(np.isfinite(yours), excess, np.inf)
    if excess.size and excess.max() > 0:
        worst = np.unravel_index(int(np.argmax(excess)), expected.shape) if expected.shape else ()
        raise CheckFailed(f"{what}: {name} is wrong at element {tuple(int(i) for i in worst)}: yours "
                          f"{yours[worst]:.6g}, minise {expected[worst]:.6g} ({int((excess > 0).sum())} of "
                          f"{expected.size} elements differ)")


def _run_case(solution, exercise, case, rng, what):
    """Forward and backward of one case, compared with minise; returns nothing, raises CheckFailed."""
    out, handle = solution.forward(case)
    expected_out, expected_grads, gout = exercise.reference(case, rng)
    _compare(f"{what} ({case.describe()})", out, expected_out, "forward's output")
    grads = solution.backward(case, handle, gout.astype(case.arrays[0].dtype))
    for name, g, expected, x in zip(case.grad_names, grads, expected_grads,
                                    [a for a, d in zip(case.arrays, case.differentiable) if d]):
        if g.dtype != x.dtype:
            raise CheckFailed(f"{what} ({case.describe()}): the gradient of {name} has dtype {g.dtype}, but {name} "
                              f"is {x.dtype}; a gradient keeps its input's dtype (np.zeros_like(x), not np.zeros(shape))")
        _compare(f"{what} ({case.describe()})", g, expected, f"the gradient of {name}")


def check_forward(solution, exercise, rng):
    for _ in range(CASES):
        case = exercise.draw(rng, False)
        out, _ = solution.forward(case)
        _compare(f"forward ({case.describe()})", out, exercise.reference(case, rng)[0], "the output")
    return f"forward matches minise on {CASES} random cases"


def check_backward_values(solution, exercise, rng):
    for _ in range(CASES):
        case = exercise.draw(rng, False)
        for _ in range(2):           # twice, with two gouts: the answer must follow gout, not a memory
            _run_case(solution, exercise, case, rng, "backward")
    return f"every gradient matches minise on {CASES} random cases, two random gouts each"


def check_finite_differences(solution, exercise, rng):
    case = exercise.draw(rng, False)
    slots = [i for i, d in enumerate(case.differentiable) if d]

    def forward(*arrays):
        full = list(case.arrays)
        for i, a in zip(slots, arrays):
            full[i] = a
        return solution.forward(case, full)

    def backward(gout, handle):
        return solution.backward(case, handle, gout)

    inputs = {case.names[i]: case.arrays[i] for i in slots}
    try:
        with warnings.catch_warnings():       # the grader's inputs avoid kinks; the verdict is the report
            warnings.simplefilter("ignore")
            report = check_backward(forward, backward, inputs, seed=int(rng.integers(2 ** 31)),
                                    raise_exception=False, max_elements=FD_ELEMENTS)
    except (TypeError, ValueError) as exc:
        raise CheckFailed(f"gradcheck ({case.describe()}): {exc}") from None
    if not report:
        wrong = "; ".join(c.describe() for c in report.inputs if not c.passed)
        raise CheckFailed(f"gradcheck ({case.describe()}): {wrong}\n{report}")
    return "finite differences of your forward agree with your backward (minise.check_backward)"


def check_untouched(solution, exercise, rng):
    if solution.backward_runs == 0:
        raise CheckFailed("not checked: backward never returned")
    if solution.modified:
        raise CheckFailed("; ".join(sorted(set(solution.modified))) + ": work on copies (out = x * m, not x *= m); "
                          "in a network the same arrays feed other layers")
    return "no argument was changed in place"


def check_float32(solution, exercise, rng):
    _run_case(solution, exercise, exercise.draw(rng, False).astype(np.float32), rng, "float32")
    return "float32 inputs give float32 gradients"


def check_large(solution, exercise, rng):
    _run_case(solution, exercise, exercise.draw(rng, True), rng, "large input")
    return f"a large input is right too, within {solution.timeout:g} s"


CHECKS = [("forward", check_forward), ("backward", check_backward_values),
          ("gradcheck", check_finite_differences), ("untouched", check_untouched),
          ("float32", check_float32), ("large input", check_large)]


class Grade:
    """The outcome for one file: ``results`` is a list of (check, passed, message)."""

    def __init__(self, path, exercise, seed, results, error=None):
        self.path, self.exercise, self.seed, self.results, self.error = path, exercise, seed, results, error
        self.score = sum(passed for _, passed, _ in results)
        self.total = len(CHECKS)
        self.passed = error is None and self.score == self.total

    def __bool__(self):
        return self.passed

    def __str__(self):
        title = EXERCISES[self.exercise].title if self.exercise in EXERCISES else "?"
        lines = [f"{self.path}: exercise {self.exercise or '?'} ({title}), seed {self.seed}"]
        if self.error:
            lines.append(f"  ERROR {self.error}")
        for check, passed, message in self.results:
            body = message.replace("\n", "\n        ")
            lines.append(f"  {'PASS' if passed else 'FAIL'}  {check:<12}{body}")
        lines.append(f"  score {self.score}/{self.total}: {'PASSED' if self.passed else 'FAILED'}")
        return "\n".join(lines)


def _describe(exc):
    text = exc.message if exc.kind in ("", "timeout", "crash", "cheating") else f"{exc.kind}: {exc.message}"
    if exc.kind == "NotImplementedError":
        text = f"not written yet (NotImplementedError: {exc.message})"
    elif exc.details and exc.kind not in ("timeout", "cheating") and "does not allow" not in exc.message:
        text += "\n" + exc.details.rstrip()
    return text


def grade(path, exercise=None, seed=None, timeout=20.0):
    """Grade one solution file; returns a :class:`Grade` (truthy when every check passes)."""
    seed = int.from_bytes(os.urandom(4), "big") if seed is None else int(seed)
    if not os.path.isfile(path):
        raise FileNotFoundError(f"no such solution file: {path}")
    try:
        solution = Solution(path, timeout)
    except SolutionError as exc:
        return Grade(path, exercise, seed, [], f"the file could not be loaded: {_describe(exc)}")
    with solution:
        name = exercise or solution.exercise or os.path.splitext(os.path.basename(path))[0]
        if name not in EXERCISES:
            return Grade(path, None, seed, [], f"unknown exercise {name!r}: the file needs a line EXERCISE = \"...\" "
                                               f"with one of {', '.join(EXERCISES)}")
        rng = np.random.default_rng(seed)
        results = []
        for check, run in CHECKS:
            try:
                results.append((check, True, run(solution, EXERCISES[name], rng)))
            except CheckFailed as exc:
                results.append((check, False, str(exc)))
            except SolutionError as exc:
                results.append((check, False, _describe(exc)))
        return Grade(path, name, seed, results)


def main(argv=None):
    """``minise grade FILE [FILE ...] [--seed N] [--exercise NAME] [--timeout S]``; returns the exit code."""
    parser = argparse.ArgumentParser(prog="minise grade", description="Grade hand-written backward passes.")
    parser.add_argument("files", nargs="+", help="solution files (copies of tutorials/exercises/*.py)")
    parser.add_argument("--exercise", choices=sorted(EXERCISES), help="which exercise (default: the file's EXERCISE)")
    parser.add_argument("--seed", type=int, help="repeat a run exactly (default: fresh random cases)")
    parser.add_argument("--timeout", type=float, default=20.0, help="seconds allowed per call (default 20)")
    args = parser.parse_args(argv)
    all_passed = True
    for path in args.files:
        try:
            result = grade(path, args.exercise, args.seed, args.timeout)
        except FileNotFoundError as exc:
            print(f"minise grade: {exc}", file=sys.stderr)
            return 2
        print(result)
        all_passed = all_passed and result.passed
    return 0 if all_passed else 1
