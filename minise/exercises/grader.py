"""Grade a hand-written backward pass: ``minise grade FILE`` or ``python -m minise.exercises FILE``.

The file is one of the exercises in tutorials/exercises/ (its ``EXERCISE = "..."`` line says which;
a teacher passes ``--exercise NAME`` so that a file cannot pick an easier one): a NumPy
``forward(...) -> (out, cache)`` and the student's ``backward(gout, cache)``. It runs in its own
confined process (:mod:`minise.exercises.sandbox`): it may import only NumPy and the standard
library, read no file but its own, write none, start or signal no process, and every argument it
gets is read-only. Each run draws fresh random shapes and values; the right answers are computed
here, with minise, after the solution has answered, and every reply is checked here.

Checks (each passes or fails; the score counts them):
  forward        the output matches minise's on random cases (shape, dtype, values)
  backward       every gradient has its input's shape and dtype and matches minise's, element by
                 element, for a random upstream gradient gout (an all-ones gout hides bugs), twice
                 per case with two gouts; some inputs sit right next to a kink (ReLU at 1e-9 from
                 0, a pooling window whose runner-up is a few ulps below its maximum), where a
                 derived gradient is exact and a finite difference is not
  gradcheck      minise.check_backward: central finite differences of the student's own forward
                 agree with the student's backward (on inputs away from kinks)
  untouched      neither forward nor backward tried to change an argument (x, w, ..., gout) in place
  float32        float32 inputs give float32 gradients
  large input    a large case is right too, and forward + backward together take at most
                 LARGE_FACTOR times the exercise's own NumPy forward (timed here, on this machine,
                 so the budget follows the machine's speed; at least LARGE_FLOOR s). A derived
                 backward costs a few forwards; measuring the gradient costs a pair of forwards
                 per input element, or at best per "colour" of inputs that share no output; the
                 large cases of linear, batch-norm, convolution and cross-entropy are sized so that
                 even that is over two thousand forwards (ReLU and max-pooling, where it is a few,
                 are caught by the kinks above)
Tolerances: float64 within RTOL·|minise| + ATOL; float32 within 1e-3 relative to the largest value.

What no grader can tell apart: a solution whose author copied a right backward from somewhere,
and, for ops that are (bi)linear in each input (the SE block's scaling), a solution that measures
the slope of every element at once with two forwards, which only works because the author already
knows that each output depends on one input element (that is the derivation, in disguise).
Exit code 0 when every check of every file passes, 1 otherwise, 2 when a file is missing.
"""
import argparse
import os
import time
import warnings

import numpy as np

from ..gradcheck import check_backward
from .forwards import FORWARDS
from .sandbox_client import Solution, SolutionError, clean, describe_confinement
from .source import SourceError
from .specs import EXERCISES

CASES = 3                # random cases for the forward and backward checks
FD_ELEMENTS = 40         # finite differences on at most this many elements per input
RTOL, ATOL = 1e-5, 1e-7  # float64 agreement with minise
LARGE_FACTOR = 40        # the large case's forward + backward may take this many NumPy forwards ...
LARGE_FLOOR = 1.0        # ... or this many seconds, whichever is more
TOTAL_SECONDS = 120.0    # all checks of one file together


class CheckFailed(Exception):
    pass


def _compare(what, yours, expected, name, dtype):
    """Raise CheckFailed naming the element where ``yours`` and ``expected`` disagree most.

    ``dtype`` is the input's dtype: the answer must have it, and it sets the tolerance."""
    if yours.shape != expected.shape:
        raise CheckFailed(f"{what}: {name} has shape {yours.shape}, expected {expected.shape}")
    if yours.dtype != dtype:
        raise CheckFailed(f"{what}: {name} has dtype {yours.dtype}, but the inputs are {np.dtype(dtype)}; keep the "
                          "input's dtype (np.zeros_like(x), not np.zeros(shape))")
    rtol, atol = (RTOL, ATOL) if dtype != np.float32 else (1e-3, 1e-4 * (1 + np.abs(expected).max(initial=0)))
    yours64 = yours.astype(np.float64)
    excess = np.abs(yours64 - expected) - (atol + rtol * np.abs(expected))
    excess = np.where(np.isfinite(yours64), excess, np.inf)
    if excess.size and excess.max() > 0:
        worst = np.unravel_index(int(np.argmax(excess)), expected.shape) if expected.shape else ()
        raise CheckFailed(f"{what}: {name} is wrong at element {tuple(int(i) for i in worst)}: yours "
                          f"{yours64[worst]:.6g}, minise {expected[worst]:.6g} ({int((excess > 0).sum())} of "
                          f"{expected.size} elements differ)")


def _run_case(solution, exercise, case, rng, what, timeout=None):
    """Forward and backward of one case (twice, with two gouts), compared with minise; raises CheckFailed.
    Returns the slower of the two rounds' seconds spent waiting for the solution."""
    dtype = case.arrays[0].dtype
    label = f"{what} ({case.describe()})"
    rounds = []
    for _ in range(2):           # two gouts: the answer must follow gout, not a memory
        start = time.perf_counter()
        out, handle = solution.forward(case, timeout=timeout)
        waited = time.perf_counter() - start
        expected_out = exercise.output(case)
        _compare(label, out, expected_out, "forward's output", dtype)
        gout = rng.standard_normal(expected_out.shape).astype(dtype)
        start = time.perf_counter()
        grads = solution.backward(case, handle, gout, timeout=None if timeout is None else max(timeout - waited, 1e-3))
        rounds.append(waited + time.perf_counter() - start)
        _, expected_grads = exercise.reference(case, gout)   # computed only now that the solution has answered
        for name, g, expected in zip(case.grad_names, grads, expected_grads):
            _compare(label, g, expected, f"the gradient of {name}", dtype)
    return max(rounds)


def check_forward(solution, exercise, rng):
    for _ in range(CASES):
        case = exercise.draw(rng, False)
        out, _ = solution.forward(case)
        _compare(f"forward ({case.describe()})", out, exercise.output(case), "the output", case.arrays[0].dtype)
    return f"forward matches minise on {CASES} random cases"


def check_backward_values(solution, exercise, rng):
    for index in range(CASES):
        case = exercise.draw(rng, False, hard=index == 0)
        _run_case(solution, exercise, exercise.sharpen(case, rng), rng, "backward")
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
        raise CheckFailed(f"gradcheck ({case.describe()}): {clean(exc)}") from None
    if not report:
        wrong = "; ".join(c.describe() for c in report.inputs if not c.passed)
        raise CheckFailed(f"gradcheck ({case.describe()}): {wrong}\n{report}")
    return "finite differences of your forward agree with your backward (minise.check_backward)"


def check_untouched(solution, exercise, rng):
    if solution.modified:
        raise CheckFailed("; ".join(sorted(set(solution.modified))) + ": the arguments are read-only; work on "
                          "copies (out = x * m, not x *= m): in a network the same arrays feed other layers")
    if solution.backward_runs == 0:
        raise CheckFailed("not checked: backward never returned")
    return "no argument was changed in place"


def check_float32(solution, exercise, rng):
    _run_case(solution, exercise, exercise.sharpen(exercise.draw(rng, False).astype(np.float32), rng), rng,
              "float32")
    return "float32 inputs give float32 gradients"


def _forward_seconds(exercise, case):
    """The exercise's own NumPy forward (minise/exercises/forwards.py) on ``case``, timed here:
    the best of five, the time of a quiet machine."""
    forward, best = FORWARDS[exercise.name], np.inf
    for _ in range(5):
        start = time.perf_counter()
        forward(*case.arrays, **case.kwargs)
        best = min(best, time.perf_counter() - start)
    return best


def check_large(solution, exercise, rng):
    case = exercise.sharpen(exercise.draw(rng, True), rng)
    reference = _forward_seconds(exercise, case)
    budget = max(LARGE_FLOOR, LARGE_FACTOR * reference)
    try:
        seconds = _run_case(solution, exercise, case, rng, "large input", timeout=budget)
    except SolutionError as exc:
        if exc.kind != "timeout":
            raise
        raise CheckFailed(f"large input ({case.describe()}): forward and backward took longer than {budget:.2g} s "
                          f"({LARGE_FACTOR} forwards of {1e3 * reference:.1f} ms): derive the gradient, don't "
                          "measure it with finite differences") from None
    if seconds > budget:
        raise CheckFailed(f"large input ({case.describe()}): forward and backward took {seconds:.2f} s, more than "
                          f"{LARGE_FACTOR} forwards of {1e3 * reference:.1f} ms; derive the gradient, don't measure it")
    return (f"a large input is right too, in {seconds:.2f} s (allowed {budget:.2g} s: {LARGE_FACTOR} NumPy forwards "
            f"of {1e3 * reference:.1f} ms, at least {LARGE_FLOOR:g} s)")


CHECKS = [("forward", check_forward), ("backward", check_backward_values),
          ("gradcheck", check_finite_differences), ("untouched", check_untouched),
          ("float32", check_float32), ("large input", check_large)]


class Grade:
    """The outcome for one file: ``results`` is a list of (check, passed, message)."""

    def __init__(self, path, exercise, seed, results, error=None, confinement=None):
        self.path, self.exercise, self.seed, self.results, self.error = path, exercise, seed, results, error
        self.confinement = confinement
        self.score = sum(passed for _, passed, _ in results)
        self.total = len(CHECKS)
        self.passed = error is None and self.score == self.total

    def __bool__(self):
        return self.passed

    def __str__(self):
        title = EXERCISES[self.exercise].title if self.exercise in EXERCISES else "?"
        lines = [f"{self.path}: exercise {self.exercise or '?'} ({title}), seed {self.seed}"]
        if self.confinement:
            lines.append(f"  confinement: {self.confinement}")
        if self.error:
            lines.append("  ERROR " + self.error.replace("\n", "\n        | "))
        for check, passed, message in self.results:
            body = message.replace("\n", "\n        | ")      # a solution's text never starts a line
            lines.append(f"  {'PASS' if passed else 'FAIL'}  {check:<12}{body}")
        lines.append(f"  score {self.score}/{self.total}: {'PASSED' if self.passed else 'FAILED'}")
        return "\n".join(lines)


def _describe(exc):
    text = exc.message if exc.kind in ("", "timeout", "crash") else f"{exc.kind}: {exc.message}"
    if exc.kind == "NotImplementedError":
        text = f"not written yet (NotImplementedError: {exc.message})"
    elif "read-only" in exc.message:
        text += ("\nthe arguments are read-only: work on copies (gx = gout * m, not gout *= m)\n"
                 + exc.details.rstrip())
    elif exc.details and exc.kind != "timeout" and "does not allow" not in exc.message:
        text += "\n" + exc.details.rstrip()
    return text


def grade(path, exercise=None, seed=None, timeout=20.0, require_confinement=False, audit_hook=True):
    """Grade one solution file; returns a :class:`Grade` (truthy when every check passes).

    ``require_confinement``: refuse to run the solution's code unless the kernel confines it.
    ``audit_hook=False`` leaves the kernel alone to confine it (the tests prove it holds)."""
    seed = int.from_bytes(os.urandom(4), "big") if seed is None else int(seed)
    try:
        solution = Solution(path, timeout, total=max(TOTAL_SECONDS, 3 * timeout), audit_hook=audit_hook)
    except SourceError as exc:
        return Grade(path, exercise, seed, [], str(exc))
    except SolutionError as exc:
        return Grade(path, exercise, seed, [], f"the file could not be loaded: {_describe(exc)}")
    with solution:
        confinement = describe_confinement(solution.confinement)
        if require_confinement and not (solution.confinement or {}).get("kernel"):
            return Grade(path, exercise, seed, [], "not graded: the kernel could not confine the solution's process "
                                                   f"({confinement}) and --require-confinement was given", confinement)
        name = exercise or solution.exercise or os.path.splitext(os.path.basename(path))[0]
        if exercise and solution.exercise and solution.exercise != exercise:
            return Grade(path, exercise, seed, [], f"the file says EXERCISE = {clean(solution.exercise, 60)!r}, "
                                                   f"but it is graded as {exercise}", confinement)
        if name not in EXERCISES:
            return Grade(path, None, seed, [], f"unknown exercise {clean(name, 60)!r}: the file needs a line EXERCISE = \"...\" "
                                               f"with one of {', '.join(EXERCISES)}", confinement)
        rng = np.random.default_rng(seed)
        results, shown = [], set()
        for check, run in CHECKS:
            try:
                results.append((check, True, run(solution, EXERCISES[name], rng)))
            except CheckFailed as exc:
                results.append((check, False, str(exc)))
            except SolutionError as exc:
                text = _describe(exc)
                first, _, details = text.partition("\n")
                if details in shown:
                    text = first + " (details above)"
                shown.add(details)
                results.append((check, False, text))
        return Grade(path, name, seed, results, confinement=confinement)


def main(argv=None):
    """``minise grade FILE [FILE ...] [--seed N] [--exercise NAME] [--timeout S]``; returns the exit code."""
    parser = argparse.ArgumentParser(prog="minise grade", description="Grade hand-written backward passes.")
    parser.add_argument("files", nargs="+", help="solution files (copies of tutorials/exercises/*.py)")
    parser.add_argument("--exercise", choices=sorted(EXERCISES), help="which exercise (default: the file's EXERCISE)")
    parser.add_argument("--seed", type=int, help="repeat a run exactly (default: fresh random cases)")
    parser.add_argument("--timeout", type=float, default=20.0, help="seconds allowed per call (default 20)")
    args = parser.parse_args(argv)
    worst = 0
    for path in args.files:
        result = grade(path, args.exercise, args.seed, args.timeout)
        print(result, flush=True)
        worst = max(worst, 0 if result.passed else 2 if not result.results and not os.path.isfile(path) else 1)
    return worst
