"""Grade a solution file on many seeds cheaply: one sandboxed process, the file loaded afresh per seed.

A planted wrong solution says which check catches it (``EXPECT_FAIL = "..."``); that check must
fail on every seed, not on most. :func:`verdicts` loads the file once per seed, as a new module, in
one sandboxed process (a new process only when one died), and runs the checks asked for on the cases
the seed draws: the same cases, checks and verdicts as ``grade(path, seed=seed)``, without starting
Python and NumPy again for every seed. :func:`missed` lists the seeds a planted mistake got past its
check; :func:`wrongly_failed` the seeds on which a right solution failed a check.
"""
import os
import re

import numpy as np

from minise.exercises import EXERCISES
from minise.exercises.checks import checks_of
from minise.exercises.grader import _describe, _run_checks
from minise.exercises.sandbox_client import Solution, SolutionError

# A check's verdict that rests on another's: "untouched" credits only a right backward, "accepts"
# only a checker that rejects.
DEPENDS_ON = {"untouched": ("backward",), "accepts": ("rejects",)}


def _read(path):
    with open(path, encoding="utf-8") as f:
        return f.read()


def expected_failure(path):
    """The check a planted file names in its ``EXPECT_FAIL = "..."`` line ("load": refused on loading)."""
    match = re.search(r'^EXPECT_FAIL = "([^"]+)"', _read(path), re.MULTILINE)
    assert match, f"{path} must say which check catches it (EXPECT_FAIL = ...)"
    return match.group(1)


def exercise_of(path):
    match = re.search(r'^EXERCISE = "([^"]+)"', _read(path), re.MULTILINE)
    return match.group(1) if match else os.path.basename(path).split("__")[0]


def checks_for(path):
    """The checks that decide a planted file's verdict: the given forward, its check, what that rests on."""
    expected = expected_failure(path)
    return () if expected == "load" else ("forward", expected) + DEPENDS_ON.get(expected, ())


def verdicts(path, seeds, only=None, full_first=False, timeout=20.0):
    """Yield (seed, outcome) for each seed: outcome maps each check run to (passed, message), or is the
    message saying why the file could not be loaded. The checks run are those in ``only`` (default:
    all but the timed large input); with ``full_first``, every check on the first seed, as a grade."""
    exercise = EXERCISES[exercise_of(path)]
    everything = [check for check, _, _ in checks_of(exercise)]
    only = [check for check in everything if check != "large input"] if only is None else list(only)
    solution = None
    try:
        for index, seed in enumerate(seeds):
            if solution is None or solution.dead:
                if solution is not None:
                    solution.close()
                solution = Solution(path, timeout, total=1e9)
            try:
                solution.load()
            except SolutionError as exc:
                yield seed, _describe(exc)
                continue
            checks = everything if full_first and index == 0 else only
            results = _run_checks(solution, exercise, np.random.default_rng(seed), checks)
            yield seed, {check: (passed, message) for check, passed, message in results}
    finally:
        if solution is not None:
            solution.close()


def missed(path, seeds, timeout=20.0):
    """{seed: what happened} for the seeds on which the planted mistake in ``path`` got past the check it
    names (an empty dict: caught on every seed)."""
    expected, got_past = expected_failure(path), {}
    for seed, outcome in verdicts(path, seeds, checks_for(path), timeout=timeout):
        if expected == "load":
            if not isinstance(outcome, str):
                got_past[seed] = "loaded"
        elif isinstance(outcome, str):
            got_past[seed] = f"not loaded: {outcome}"
        elif outcome[expected][0]:
            got_past[seed] = f"{expected} passed: {outcome[expected][1]}"
    return got_past


def wrongly_failed(path, seeds, timeout=20.0):
    """{seed: [failed check: message]} for a right solution: every check but the timed large input."""
    failed = {}
    for seed, outcome in verdicts(path, seeds, timeout=timeout):
        bad = [f"load: {outcome}"] if isinstance(outcome, str) else \
            [f"{check}: {message}" for check, (passed, message) in outcome.items() if not passed]
        if bad:
            failed[seed] = bad
    return failed
