"""Grade a hand-written backward pass: ``minise grade FILE`` (or ``python -m minise.exercises FILE``).

The file is one of the exercises (``minise exercises list``; its ``EXERCISE = "..."`` line says
which; a teacher passes ``--exercise NAME`` so that a file cannot pick an easier one): a NumPy
``forward(...) -> (out, cache)`` and the student's ``backward(gout, cache)``, as a .py file or a
Jupyter notebook. It runs in its own process, confined by the kernel (:mod:`.sandbox`,
:mod:`.kernel`): it may read only NumPy and Python's standard library, write nothing, start or
signal no process, and every argument it gets is read-only. Each run draws fresh values for every
kind of case; the right answers are computed here, with minise, after the solution has answered,
and every reply is checked here. The checks are described in :mod:`.checks`.

What no grader can tell apart: a right backward the student copied from somewhere; and, where the
layer's Jacobian is symmetric (batch normalisation's gx; an elementwise layer such as the sigmoid,
whose Jacobian is diagonal) or the layer is (bi)linear in each input (the SE block's scaling), a
gradient obtained from a few forwards along gout (a complex step makes it exact) by someone who knew
that this works, which is the derivation in disguise. Where inputs are independent only in groups
(the rows of a softmax), measuring costs a forward per group member: the large cases make that
thousands.
"""
import os

import numpy as np

from .checks import CheckFailed, Context, checks_of
from .sandbox_client import Solution, SolutionError, clean, describe_confinement
from .source import SourceError
from .specs import EXERCISES

TOTAL_SECONDS = 120.0    # all checks of one file together (or 3 timeouts, whichever is more)
LOUD = 1 << 20           # bytes printed by a solution beyond which the grade mentions it

GRADED, NOT_GRADED, UNCONFINED = "graded", "not graded", "unconfined"


class Grade:
    """The outcome for one file: ``results`` is a list of (check, passed, message); ``scored`` the
    checks that count (the given forward does not). ``status``: graded, not graded (the file could
    not be read), or unconfined (refused under ``require_confinement``)."""

    def __init__(self, path, exercise, seed, results, error=None, confinement=None, scored=(), note="",
                 status=GRADED):
        self.path, self.exercise, self.seed, self.results, self.error = path, exercise, seed, results, error
        self.confinement, self.scored, self.note, self.status = confinement, list(scored), note, status
        self.score = sum(passed for check, passed, _ in results if check in self.scored)
        self.total = len(self.scored)
        self.passed = error is None and bool(results) and all(passed for _, passed, _ in results)

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
        if self.note:
            lines.append(f"  note  {self.note}")
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


def _run_checks(solution, exercise, rng, only=None):
    """[(check, passed, message)] for the exercise's checks in order (those named in ``only``, if given)."""
    ctx, results, shown = Context(solution, exercise, rng), [], set()
    for check, run, _ in checks_of(exercise):
        if only is not None and check not in only:
            continue
        try:
            results.append((check, True, run(ctx)))
        except CheckFailed as exc:
            results.append((check, False, str(exc)))
        except SolutionError as exc:
            text = _describe(exc)
            first, _, details = text.partition("\n")
            if details in shown:
                text = first + " (details above)"
            shown.add(details)
            results.append((check, False, text))
        except Exception as exc:         # whatever a solution makes of a check, the file is graded, failing it
            results.append((check, False, f"the grader could not finish this check on this file "
                                          f"({type(exc).__name__}: {clean(exc)})"))
        ctx.passed[check] = results[-1][1]
    return results


def grade(path, exercise=None, seed=None, timeout=20.0, require_confinement=False, audit_hook=True):
    """Grade one solution file; returns a :class:`Grade` (truthy when every check passes).

    ``require_confinement``: refuse to run the solution's code unless the kernel confines it.
    ``audit_hook=False`` leaves the kernel alone to confine it (the tests prove that it holds)."""
    seed = int.from_bytes(os.urandom(4), "big") if seed is None else int(seed)
    scored = [c for c, _, counts in checks_of(EXERCISES[exercise]) if counts] if exercise in EXERCISES else []
    try:
        solution = Solution(path, timeout, total=max(TOTAL_SECONDS, 3 * timeout), audit_hook=audit_hook)
    except SourceError as exc:
        return Grade(path, exercise, seed, [], str(exc), scored=scored, status=NOT_GRADED)
    except SolutionError as exc:
        return Grade(path, exercise, seed, [], f"the grader's sandbox did not start: {_describe(exc)}", scored=scored,
                     status=NOT_GRADED)
    with solution:
        confinement = describe_confinement(solution.confinement)
        if require_confinement and not (solution.confinement or {}).get("kernel"):
            return Grade(path, exercise, seed, [], "not graded: the kernel could not confine the solution's process "
                         "and --require-confinement was given", confinement, scored, status=UNCONFINED)
        try:
            solution.load()
        except SolutionError as exc:
            return Grade(path, exercise, seed, [], f"the file could not be loaded: {_describe(exc)}", confinement,
                         scored)
        name = exercise or solution.exercise or os.path.splitext(os.path.basename(path))[0]
        if exercise and solution.exercise and solution.exercise != exercise:
            return Grade(path, exercise, seed, [], f"the file says EXERCISE = {clean(solution.exercise, 60)!r}, "
                                                   f"but it is graded as {exercise}", confinement, scored)
        if name not in EXERCISES:
            return Grade(path, None, seed, [], f"unknown exercise {clean(name, 60)!r}: the file needs a line "
                         f"EXERCISE = \"...\" with one of {', '.join(EXERCISES)}", confinement)
        results = _run_checks(solution, EXERCISES[name], np.random.default_rng(seed))
        scored = [c for c, _, counts in checks_of(EXERCISES[name]) if counts]
        note = "" if solution.printed <= LOUD else (f"the solution printed {solution.printed:,} bytes of text "
                                                    "(only the end of it is kept)")
        return Grade(path, name, seed, results, None, confinement, scored, note)
