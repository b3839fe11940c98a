"""What a gradient check found: one :class:`InputCheck` per input, gathered in a
:class:`GradcheckReport` that is truthy when everything agrees.

An element agrees when ``|analytic − numerical| ≤ atol + rtol·|numerical|``. A NaN or an infinity
on either side never agrees: a backward full of NaN is a failure, not a pass. Besides element
mismatches a check can fail for what the backward *did* (wrote into its upstream gradient or into an
input, answered differently when called again); those are "problems", attached to the input they
concern or to the whole report.
"""
import numpy as np


class GradcheckError(AssertionError):
    """An analytic gradient disagrees with finite differences, or backward misbehaved."""


class GradcheckWarning(UserWarning):
    """The check ran, but something makes it less trustworthy; the message names the likely cause."""


def _index(flat, shape):
    return tuple(int(i) for i in np.unravel_index(int(flat), shape)) if shape else ()


class InputCheck:
    """The comparison for one input, over every upstream gradient tried ("probe").

    analytic, numerical  (probes, checked) or (checked,) gradients at the checked elements
    checked              the flat indices of those elements in the input
    atol                 a number, or one absolute tolerance per value (same shape as ``analytic``)
    kinks                positions in ``checked`` where the one-sided differences disagree
    problems             sentences about what backward did wrong to this input (fail the check)
    """

    def __init__(self, name, shape, analytic, numerical, checked, atol, rtol, kinks, problems=()):
        analytic, numerical = np.atleast_2d(analytic), np.atleast_2d(numerical)
        checked = np.asarray(checked, dtype=np.int64).reshape(-1)
        diff = np.abs(analytic - numerical)
        tol = atol + rtol * np.abs(numerical)
        bad = ~(diff <= tol)                                   # NaN compares False: it is bad
        excess = np.where(bad & ~np.isfinite(diff), np.inf, diff - tol)
        self.name, self.shape = name, tuple(shape)
        self.checked = int(checked.size)
        finite = np.where(np.isfinite(diff), diff, np.inf)
        self.max_abs_error = float(finite.max()) if diff.size else 0.0
        rel = finite / np.maximum(1e-8, np.abs(analytic) + np.abs(numerical))
        self.max_rel_error = float(np.nan_to_num(rel, nan=np.inf).max()) if diff.size else 0.0
        self.mismatches = int(bad.any(axis=0).sum()) if diff.size else 0
        self.problems = list(problems)
        self.passed = self.mismatches == 0 and not self.problems
        probe, k = np.unravel_index(int(np.argmax(excess if self.mismatches else diff)), diff.shape) \
            if diff.size else (0, 0)
        self.probe = int(probe)
        self.worst_index = _index(checked[k], shape) if checked.size else ()
        self.analytic = float(analytic[probe, k]) if diff.size else 0.0
        self.numerical = float(numerical[probe, k]) if diff.size else 0.0
        self.kinks = [_index(checked[j], shape) for j in kinks]
        small = np.abs(numerical) <= (atol if np.ndim(atol) == 0 else np.asarray(atol))
        self.all_zero = bool(checked.size) and bool(small.all())   # below round-off: cannot discriminate

    def describe(self):
        """One sentence: what is wrong with this input's gradient, and where."""
        said = list(self.problems)
        if self.mismatches:
            said.append(f"at element {self.worst_index} the analytic gradient is {self.analytic:.6g} but finite "
                        f"differences give {self.numerical:.6g} (abs error {abs(self.analytic - self.numerical):.3g}, "
                        f"upstream gradient #{self.probe + 1}); {self.mismatches} of {self.checked} checked "
                        "elements disagree")
        return f"input {self.name} (shape {self.shape}): " + "; ".join(said)


class GradcheckReport:
    """What gradcheck found; truthy when every checked element agrees and backward behaved.

    inputs    one :class:`InputCheck` per checked input (``report["x"]`` finds one by name)
    problems  sentences about the backward as a whole (it wrote into its upstream gradient, ...)
    hints     the likely causes the checker recognised (float32 inside the function, eps too small)
    variants  the reruns on strided and on float32 inputs: "checked", or why they were skipped
    ``str(report)`` prints a table.
    """

    def __init__(self, inputs, atol, rtol, eps, problems=(), hints=(), variants=None):
        self.inputs, self.atol, self.rtol, self.eps = inputs, atol, rtol, eps
        self.variants = dict(variants or {})          # "strided" / "float32" -> checked, or why skipped
        self.problems, self.hints = list(problems), list(hints)
        self.passed = all(c.passed for c in inputs) and not self.problems

    def __bool__(self):
        return self.passed

    def __getitem__(self, name):
        for c in self.inputs:
            if c.name == name:
                return c
        raise KeyError(name)

    def failures(self):
        """Every reason the check failed, one sentence each (empty when it passed)."""
        return self.problems + [c.describe() for c in self.inputs if not c.passed]

    def __str__(self):
        reruns = "".join(f", {kind} inputs {what}" for kind, what in self.variants.items())
        header = (f"gradcheck {'passed' if self.passed else 'FAILED'} (float64 central differences, eps={self.eps:g}, "
                  f"atol={self.atol:g}, rtol={self.rtol:g}; 2 random upstream gradients, 3 backward calls{reruns})")
        rows = [("input", "shape", "checked", "max abs err", "max rel err", "worst element")]
        for c in self.inputs:
            rows.append((str(c.name), str(c.shape), str(c.checked), f"{c.max_abs_error:.2e}", f"{c.max_rel_error:.2e}",
                         f"{c.worst_index}: analytic {c.analytic:.6g}, numerical {c.numerical:.6g}"
                         + ("" if c.passed else "  <-- MISMATCH")))
        lines = [header] + table(rows, right=(2, 3, 4))
        lines += [f"problem: {p}" for p in self.problems + [p for c in self.inputs for p in c.problems]]
        lines += [f"likely cause: {h}" for h in self.hints]
        return "\n".join(lines)

    __repr__ = __str__


def table(rows, right=()):
    """Lines of ``rows`` (tuples of strings) in columns as wide as their widest cell, two spaces
    apart; the columns numbered in ``right`` are aligned to the right."""
    widths = [max(len(row[j]) for row in rows) for j in range(len(rows[0]))]
    return ["  ".join(cell.rjust(w) if j in right else cell.ljust(w) for j, (cell, w) in enumerate(zip(row, widths)))
            .rstrip() for row in rows]


def raise_or_return(report, raise_exception):
    """Raise :class:`GradcheckError` naming every failure (and the likely causes), or return ``report``."""
    if raise_exception and not report:
        message = "gradcheck failed: " + "; ".join(report.failures())
        if report.hints:
            message += "\nlikely cause: " + " ".join(report.hints)
        raise GradcheckError(message + "\n" + str(report))
    return report
