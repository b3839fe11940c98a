"""How close the ops come to PyTorch and to finite differences: the accuracy report.

``pytest --gradcheck-report`` prints, per op family (test module), how many hypothesis cases ran
(calls of a @given test's body, its @example cases included), how many gradient checks ran (and how
many of them inside hypothesis tests), the largest relative error seen against finite differences,
and the largest relative error seen against PyTorch:

    element-wise   max over elements of |a − b| / max(1e-8, |a| + |b|), the form gradcheck's
                   report uses (its max_rel_error), a = ours, b = finite differences or PyTorch;
                   an element near 0 shows the noise of the finite differences (≈ 1e-10
                   absolute for eps = 1e-6) divided by a small number
    norm-wise      ‖a − b‖ / ‖b‖ over one whole gradient (or output): the relative error of the
                   vector, which small elements cannot dominate

Gradient checks that fail on purpose (planted wrong backwards) are counted apart, as bugs caught;
a PyTorch comparison is recorded once it has passed.
Without the option nothing is patched and nothing is recorded.
"""
import collections
import functools
import importlib

import numpy as np
import pytest

RECORDER = None                   # an AccuracyReport while a report is being collected


def assert_close_to_torch(ours, theirs, rtol=1e-6, atol=1e-12):
    """np.testing.assert_allclose(ours, theirs) for a PyTorch result (a tensor or an array),
    recording the relative error of a passing comparison when an accuracy report is being collected."""
    if hasattr(theirs, "detach"):
        theirs = theirs.detach().numpy()
    ours, theirs = np.asarray(ours), np.asarray(theirs)
    np.testing.assert_allclose(ours, theirs, rtol=rtol, atol=atol)
    if RECORDER is not None:
        RECORDER.record_torch(*relative_errors(ours, theirs))


def relative_errors(a, b):
    """(element-wise, norm-wise) relative error of a against b; see the module docstring."""
    a, b = np.asarray(a, dtype=np.float64).ravel(), np.asarray(b, dtype=np.float64).ravel()
    same_nan = np.isnan(a) & np.isnan(b)                 # NaN where NaN belongs (assert_allclose's equal_nan)
    a, b = a[~same_nan], b[~same_nan]
    if a.size == 0:
        return 0.0, 0.0
    diff = np.abs(a - b)
    element = float(np.max(diff / np.maximum(1e-8, np.abs(a) + np.abs(b))))
    norm_b, norm_diff = float(np.linalg.norm(b)), float(np.linalg.norm(diff))
    return element, (norm_diff / norm_b if norm_b > 0 else (0.0 if norm_diff == 0 else float("inf")))


class Family:
    def __init__(self):
        self.cases = self.gradchecks = self.in_hypothesis = self.caught = self.torch = 0
        self.fd_element = self.fd_norm = self.torch_element = self.torch_norm = 0.0


class AccuracyReport:
    """A pytest plugin (registered by conftest.py for --gradcheck-report) that collects the figures."""

    def __init__(self):
        self.families = collections.defaultdict(Family)
        self.current = None           # (family, in a hypothesis test) for the running test
        self.restore = None           # (hypothesis handle, its inner test) while a @given test runs, counted
        self.pending = []             # norm-wise errors of the InputChecks of the report being built

    # -- patching minise.gradcheck (only in this mode) ---------------------------------------------

    def pytest_sessionstart(self, session):
        global RECORDER
        gc = importlib.import_module("minise.gradcheck")     # the module (minise.gradcheck is the function)
        self._originals = (gc.InputCheck.__init__, gc.GradcheckReport.__init__, RECORDER)
        input_init, report_init, _ = self._originals
        report = self

        def input_check_init(check, name, shape, analytic, numerical, checked, atol, rtol, kinks, *more):
            input_init(check, name, shape, analytic, numerical, checked, atol, rtol, kinks, *more)
            # a gradient that is zero everywhere (gradcheck warns) has no relative error to speak of
            report.pending.append(0.0 if check.all_zero else relative_errors(analytic, numerical)[1])

        def report_init_and_record(rep, inputs, atol, rtol, eps, *more):
            report_init(rep, inputs, atol, rtol, eps, *more)
            norm_errors, report.pending = report.pending[-len(inputs):] if inputs else [], []
            report.record_gradcheck(rep, norm_errors)

        gc.InputCheck.__init__ = input_check_init
        gc.GradcheckReport.__init__ = report_init_and_record
        RECORDER = self

    def pytest_sessionfinish(self, session):
        global RECORDER
        gc = importlib.import_module("minise.gradcheck")
        gc.InputCheck.__init__, gc.GradcheckReport.__init__, RECORDER = self._originals

    # -- which family is running --------------------------------------------------------------------

    @pytest.hookimpl(tryfirst=True)
    def pytest_runtest_call(self, item):
        family = item.module.__name__.rpartition(".")[2] if getattr(item, "module", None) else item.nodeid
        family = family[5:] if family.startswith("test_") else family
        test = getattr(item, "obj", None)
        self.current = (family, bool(getattr(test, "is_hypothesis_test", False)))
        if self.current[1]:
            self.count_cases(test.hypothesis, self.families[family])

    def count_cases(self, handle, family):
        """Count the calls of a @given test's body: hypothesis looks up ``handle.inner_test`` (the
        body) when the test starts, and lets it be replaced for exactly this kind of wrapping."""
        inner = handle.inner_test

        @functools.wraps(inner)
        def counted(*args, **kwargs):
            family.cases += 1
            return inner(*args, **kwargs)
        handle.inner_test, self.restore = counted, (handle, inner)

    def pytest_runtest_teardown(self, item):
        self.current = None
        if self.restore is not None:
            handle, handle.inner_test = self.restore
            self.restore = None

    def _family(self):
        return self.families[self.current[0] if self.current else "(outside tests)"]

    # -- recording ----------------------------------------------------------------------------------

    def record_gradcheck(self, rep, norm_errors):
        f = self._family()
        f.gradchecks += 1
        f.in_hypothesis += bool(self.current and self.current[1])
        if not rep.passed:
            f.caught += 1
            return
        f.fd_element = max([f.fd_element] + [c.max_rel_error for c in rep.inputs if not c.all_zero])
        f.fd_norm = max([f.fd_norm] + norm_errors)

    def record_torch(self, element, norm):
        f = self._family()
        f.torch += 1
        f.torch_element, f.torch_norm = max(f.torch_element, element), max(f.torch_norm, norm)

    # -- the table ------------------------------------------------------------------------------------

    def table(self):
        head = ("family", "hypothesis cases", "gradchecks", "in hypothesis", "failed (planted)", "vs FD: element",
                "norm", "torch comparisons", "vs torch: element", "norm")
        rows = [head]
        for name in sorted(self.families):
            f = self.families[name]
            fd, torch = f.gradchecks > f.caught, f.torch > 0
            rows.append((name, str(f.cases), str(f.gradchecks), str(f.in_hypothesis), str(f.caught),
                         f"{f.fd_element:.1e}" if fd else "-", f"{f.fd_norm:.1e}" if fd else "-", str(f.torch),
                         f"{f.torch_element:.1e}" if torch else "-", f"{f.torch_norm:.1e}" if torch else "-"))
        widths = [max(len(r[k]) for r in rows) for k in range(len(head))]
        line = lambda r: "  ".join(c.ljust(w) if k == 0 else c.rjust(w) for k, (c, w) in enumerate(zip(r, widths)))
        return "\n".join([line(rows[0]), "  ".join("-" * w for w in widths)] + [line(r) for r in rows[1:]])

    def pytest_terminal_summary(self, terminalreporter):
        terminalreporter.section("gradcheck accuracy report")
        terminalreporter.write_line(self.table())
        terminalreporter.write_line("largest relative errors: element = max |a-b|/max(1e-8,|a|+|b|), norm = "
                                    "||a-b||/||b||; vs FD over passing gradchecks (float64 central differences), "
                                    "vs torch over every output and gradient compared (float64)")
