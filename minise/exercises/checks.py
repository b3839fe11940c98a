"""The checks a solution goes through; each passes or fails, and only the student's work is scored.

  forward     (not scored: it is given) the forward still matches minise's on every case
  backward    every gradient has its input's shape and dtype and matches minise's, element by
              element, on every kind of hyper-parameters the layer has (all of them, every run),
              for a random upstream gradient gout (an all-ones gout hides bugs); backward runs
              twice on the same forward's cache with two different gouts, right both times (a
              backward that changes its cache in place is right only once)
  kinks       (layers with a kink) inputs exactly at the kink, graded against the convention the
              exercise states (ReLU at 0, ties in a max-pooling window), and a hair away from it:
              a derived gradient is exact there, a measured one is not
  gradcheck   minise.check_backward: central finite differences of the student's own forward
              agree with the student's backward (on inputs away from kinks)
  untouched   the backward is right and neither forward nor backward tried to change an argument
              (x, w, ..., gout) in place: every argument arrives read-only
  float32     float32 inputs give float32 gradients, right to float32's precision
  large input a large case is right too, and forward + backward together take at most
              LARGE_FACTOR times the exercise's own forward, timed here alternately with the
              solution, and never less than LARGE_FLOOR seconds. Both are measured in CPU time
              where the kernel tells the solution process's (Linux): work done, which a busy
              machine does not inflate (nor a solution's own threads spinning while the grader
              times its forward); elsewhere in wall-clock time, alternately, so that a busy
              machine slows both alike. A round is stopped after STOP_FACTOR times the
              allowance in wall-clock time, never less than LARGE_FLOOR
              seconds. A derived backward costs a few forwards; measuring a gradient costs a pair
              of forwards per input element. The large cases are sized so that even the cleverest
              measuring costs thousands of forwards.
"""
import time
import warnings

import numpy as np

from ..gradcheck import check_backward
from .cases import Case
from .handout import given_forward
from .sandbox_client import SolutionError, clean

FD_ELEMENTS = 40         # finite differences on at most this many elements per input
RTOL, ATOL = 1e-6, 1e-9  # float64 agreement with minise: ATOL is relative to the gradient's largest value
# float32: a right answer is within F32_GROWTH · (ε · (1 + its largest value) + δ) of minise's float64 one,
# ε float32's machine epsilon and δ how far minise's float64 answer moves when the inputs and gout are
# rounded by one float32 ulp (the case's own conditioning: logits near ±1000, a small variance).
# A float32 sum of n terms is off by up to about n·ε (Higham, Accuracy and Stability of Numerical
# Algorithms, 2nd ed., §4.2); right solutions of every exercise stay within 9 · (ε · (1 + scale) + δ) over
# 200 seeds, a factor 7 below F32_GROWTH. (Cases whose usual formula cancels beyond what float32 holds, batch
# statistics of two values, are checked in float64 only: see Case.float32.)
F32_EPS, F32_GROWTH = float(np.finfo(np.float32).eps), 64
LARGE_FACTOR = 40        # the large case's forward + backward may take this many forwards ...
LARGE_FLOOR = 2.0        # ... or this many seconds, whichever is more
LARGE_ROUNDS = 3         # at most this many timed rounds (the best counts); one when clearly fast
STOP_FACTOR = 2          # a round is stopped after this many times the allowance


class CheckFailed(Exception):
    pass


class Context:
    """What the checks share: the solution, the exercise, the random generator, earlier verdicts."""

    def __init__(self, solution, exercise, rng):
        self.solution, self.exercise, self.rng, self.passed = solution, exercise, rng, {}


def compare(what, yours, expected, name, dtype, noise=0.0):
    """Raise CheckFailed naming the element where ``yours`` and ``expected`` disagree most (``noise``: δ
    above, for float32)."""
    if yours.shape != expected.shape:
        raise CheckFailed(f"{what}: {name} has shape {yours.shape}, expected {expected.shape}")
    if yours.dtype != dtype:
        raise CheckFailed(f"{what}: {name} has dtype {yours.dtype}, but the inputs are {np.dtype(dtype)}; keep the "
                          "input's dtype (np.zeros_like(x), not np.zeros(shape))")
    if not np.all(np.isfinite(expected)):              # a case the grader drew badly: never compare with it
        raise RuntimeError(f"{what}: minise's own {name} is not finite: the grader's case is ill-posed")
    scale = float(np.abs(expected).max(initial=0))
    if dtype == np.float32:
        rtol, atol = 0.0, F32_GROWTH * (F32_EPS * (1 + scale) + noise)
    else:
        rtol, atol = RTOL, ATOL * (1 + scale)
    yours64 = yours.astype(np.float64)
    excess = np.abs(yours64 - expected) - (atol + rtol * np.abs(expected))
    excess = np.where(np.isfinite(yours64), excess, np.inf)
    if excess.size and excess.max() > 0:
        worst = np.unravel_index(int(np.argmax(excess)), expected.shape) if expected.shape else ()
        raise CheckFailed(f"{what}: {name} is wrong at element {tuple(int(i) for i in worst)}: yours "
                          f"{yours64[worst]:.6g}, minise {expected[worst]:.6g} ({int((excess > 0).sum())} of "
                          f"{expected.size} elements differ)")


def float32_noise(exercise, case, gout=None):
    """δ for float32 (see F32_GROWTH): the largest change of minise's float64 answer (the output, then
    each gradient) when every float input and gout is rounded by one float32 ulp, either way, at random."""
    rng, noise = np.random.default_rng(0), None
    for _ in range(2):
        arrays = [a.astype(np.float64) * (1 + F32_EPS * rng.choice([-1.0, 1.0], size=a.shape)) if d else a
                  for a, d in zip(case.arrays, case.differentiable)]
        rounded = Case(case.names, arrays, case.differentiable, case.kwargs)
        if gout is None:
            moved, exact = [exercise.output(rounded)], [exercise.output(case)]
        else:
            g = np.asarray(gout, np.float64) * (1 + F32_EPS * rng.choice([-1.0, 1.0], size=np.shape(gout)))
            moved, exact = exercise.reference(rounded, g)[1], exercise.reference(case, gout)[1]
        change = [float(np.abs(m - e).max(initial=0)) for m, e in zip(moved, exact)]
        noise = change if noise is None else [max(a, b) for a, b in zip(noise, change)]
    return noise


def run_case(ctx, case, what):
    """One forward, then backward twice on its cache with two random gouts; compared with minise."""
    dtype, label = case.arrays[0].dtype, f"{what} ({case.describe()})"
    float32 = dtype == np.float32
    out, handle = ctx.solution.forward(case)
    expected_out = ctx.exercise.output(case)
    compare(label, out, expected_out, "forward's output", dtype,
            float32_noise(ctx.exercise, case)[0] if float32 else 0.0)
    first = None
    for second in (False, True):
        gout = (ctx.rng.standard_normal(expected_out.shape) * ctx.rng.uniform(0.5, 2.0)).astype(dtype)
        grads = ctx.solution.backward(case, handle, gout)
        _, expected = ctx.exercise.reference(case, gout)       # computed only now that the solution has answered
        noise = float32_noise(ctx.exercise, case, gout) if float32 else [0.0] * len(expected)
        try:
            for name, g, right, delta in zip(case.grad_names, grads, expected, noise):
                compare(label, g, right, f"the gradient of {name}", dtype, delta)
        except CheckFailed as exc:
            if second and _cache_changed(ctx, case, handle, first):
                raise CheckFailed(f"{exc}. The first backward on this forward's cache was right, and the same gout "
                                  "on the same cache now gives another answer: does backward change its cache in "
                                  "place?") from None
            raise
        first = (gout, grads)


def _cache_changed(ctx, case, handle, first):
    """Whether backward, run again with the first gout on the same cache, answers differently from the first time."""
    gout, grads = first
    again = ctx.solution.backward(case, handle, gout)
    return any(a.shape != g.shape or not np.array_equal(a, g, equal_nan=True) for a, g in zip(again, grads))


def check_forward(ctx):
    for case in ctx.exercise.cases(ctx.rng):
        out, _ = ctx.solution.forward(case)
        compare(f"forward ({case.describe()})", out, ctx.exercise.output(case), "the output", case.arrays[0].dtype)
    return "the given forward matches minise on every case (not scored: it is given)"


def check_backward_values(ctx):
    cases = ctx.exercise.cases(ctx.rng)
    for case in cases:
        run_case(ctx, case, "backward")
    return f"every gradient matches minise on {len(cases)} cases (every kind of case), twice on each cache"


def check_kinks(ctx):
    cases = ctx.exercise.kinks(ctx.rng)
    for case in cases:
        try:
            run_case(ctx, case, "at a kink")
        except CheckFailed as exc:
            raise CheckFailed(f"{exc}\nthe convention: {ctx.exercise.convention}") from None
    return f"right exactly at the kinks too ({ctx.exercise.convention.split(':')[0].split(',')[0]})"


def check_finite_differences(ctx):
    case = ctx.exercise.cases(ctx.rng)[0]
    slots = [i for i, d in enumerate(case.differentiable) if d]

    def forward(*arrays):
        full = list(case.arrays)
        for i, a in zip(slots, arrays):
            full[i] = a
        return ctx.solution.forward(case, full)

    def backward(gout, handle):
        return ctx.solution.backward(case, handle, gout)

    inputs = {case.names[i]: case.arrays[i] for i in slots}
    try:
        with warnings.catch_warnings():       # the grader's inputs avoid kinks; the verdict is the report
            warnings.simplefilter("ignore")
            report = check_backward(forward, backward, inputs, seed=int(ctx.rng.integers(2 ** 31)),
                                    raise_exception=False, max_elements=FD_ELEMENTS)
    except SolutionError:
        raise
    except Exception as exc:              # what the solution's forward returned, the checker could not use
        raise CheckFailed(f"gradcheck ({case.describe()}): could not check your forward and backward "
                          f"({type(exc).__name__}: {clean(exc)})") from None
    if not report:
        wrong = "; ".join(c.describe() for c in report.inputs if not c.passed)
        raise CheckFailed(f"gradcheck ({case.describe()}): {wrong}\n{report}")
    return "finite differences of your forward agree with your backward (minise.check_backward)"


def check_untouched(ctx):
    if ctx.solution.modified:
        raise CheckFailed("; ".join(sorted(set(ctx.solution.modified))) + ": the arguments are read-only; work on "
                          "copies (out = x * m, not x *= m): in a network the same arrays feed other layers")
    if not ctx.passed.get("backward"):
        raise CheckFailed("not credited: the backward is not right yet")
    return "no argument was changed in place"


def check_float32(ctx):
    for case in ctx.exercise.cases(ctx.rng):
        if case.float32:                  # not the cases whose forward itself needs float64 (large offsets)
            run_case(ctx, case.astype(np.float32), "float32")
    return "float32 inputs give float32 gradients"


def _forward_seconds(forward, case, clock):
    """The given forward (the stub's, minise/exercises/stubs/) on ``case``, timed here with ``clock``: the
    better of two runs."""
    best = np.inf
    for _ in range(2):
        start = clock()
        forward(*case.arrays, **case.kwargs)
        best = min(best, clock() - start)
    return best


def _clocks(solution):
    """(the solution process's clock, the grader's clock, what they measure): CPU time where the kernel gives
    the solution's, wall-clock time otherwise."""
    if solution.cpu_seconds() is not None:
        return solution.cpu_seconds, time.process_time, "of CPU time"
    return time.perf_counter, time.perf_counter, ""


def _too_slow(case, mine, budget, reference, what, stopped=False):
    measured = f"was stopped after {mine:.2f} s" if stopped else f"took {mine:.2f} s {what} (the best of its rounds)"
    return (f"large input ({case.describe()}): forward + backward {measured}; the allowance is {budget:.2f} s: "
            f"{LARGE_FACTOR} times the given forward's {1e3 * reference:.1f} ms (timed on this machine, alternately "
            f"with yours), and at least {LARGE_FLOOR:g} s. A backward costs about as much as a few forwards: replace "
            "Python loops over elements by NumPy operations on whole arrays (a loop over the kernel's taps is fine), "
            "and avoid np.add.at in an inner loop")


def check_large(ctx):
    """Each round draws the large case afresh and checks its answer: a round gains nothing from an earlier
    one (a Jacobian measured slowly once and reused) and a fast round must be a right one."""
    forward = given_forward(ctx.exercise.name)
    theirs, ours, what = _clocks(ctx.solution)
    references, mine = [], []
    for _ in range(LARGE_ROUNDS):
        case = ctx.exercise.large(ctx.rng)
        references.append(_forward_seconds(forward, case, ours))
        reference = float(np.median(references))
        budget = max(LARGE_FLOOR, LARGE_FACTOR * reference)
        wall, start = time.perf_counter(), theirs()
        try:
            out, handle = ctx.solution.forward(case, timeout=STOP_FACTOR * budget)
            gout = ctx.rng.standard_normal(out.shape).astype(case.arrays[0].dtype)
            grads = ctx.solution.backward(case, handle, gout,
                                          timeout=max(STOP_FACTOR * budget - (time.perf_counter() - wall), 1e-3))
        except SolutionError as exc:
            if exc.kind != "timeout":
                raise
            raise CheckFailed(_too_slow(case, time.perf_counter() - wall, budget, reference, what, True)) from None
        mine.append(theirs() - start)
        label = f"large input ({case.describe()})"
        compare(label, out, ctx.exercise.output(case), "forward's output", case.arrays[0].dtype)
        for name, g, right in zip(case.grad_names, grads, ctx.exercise.reference(case, gout)[1]):
            compare(label, g, right, f"the gradient of {name}", case.arrays[0].dtype)
        if min(mine) <= budget / 2:
            break
    if min(mine) > budget:
        raise CheckFailed(_too_slow(case, min(mine), budget, reference, what))
    return (f"a large input is right too, in {min(mine):.2f} s {what} (allowed {budget:.2g} s: {LARGE_FACTOR} "
            f"forwards of {1e3 * reference:.1f} ms, at least {LARGE_FLOOR:g} s)").replace("  ", " ")


CHECKS = [("forward", check_forward, False), ("backward", check_backward_values, True), ("kinks", check_kinks, True),
          ("gradcheck", check_finite_differences, True), ("untouched", check_untouched, True),
          ("float32", check_float32, True), ("large input", check_large, True)]


def checks_of(exercise):
    """The (name, function, scored) checks that apply to ``exercise``."""
    if getattr(exercise, "checks", None):
        return exercise.checks
    return [c for c in CHECKS if c[0] != "kinks" or exercise.kinks is not None]
