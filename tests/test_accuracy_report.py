"""The --gradcheck-report machinery (tests/accuracy.py): what it records, and that it cleans up."""
import importlib

import accuracy
import numpy as np
import pytest
from accuracy import AccuracyReport, assert_close_to_torch, relative_errors

import minise
from minise import Tensor


def test_relative_errors_element_and_norm():
    element, norm = relative_errors(np.array([1.0, 2.0, 0.0]), np.array([1.0, 2.02, 0.0]))
    assert element == pytest.approx(0.02 / 4.02)
    assert norm == pytest.approx(0.02 / np.hypot(1.0, 2.02))
    assert relative_errors(np.array([np.nan, 1.0]), np.array([np.nan, 1.0])) == (0.0, 0.0)   # NaN where NaN belongs


def test_the_report_records_passing_and_caught_checks_and_restores_gradcheck():
    gc = importlib.import_module("minise.gradcheck")
    originals = gc.InputCheck.__init__, gc.GradcheckReport.__init__, accuracy.RECORDER   # patched in a report run
    report = AccuracyReport()
    report.pytest_sessionstart(None)
    try:
        report.current = ("toy", True)
        x = Tensor(np.random.default_rng(0).uniform(1, 2, (3, 2)), requires_grad=True)
        assert minise.gradcheck(lambda t: t * t, [x], seed=1)

        class WrongSquare(minise.Function):
            def forward(self, a):
                self.saved = a
                return a * a

            def backward(self, gy):
                return (gy * self.saved,)                     # a dropped factor 2

        with pytest.raises(minise.GradcheckError):
            minise.gradcheck(lambda t: WrongSquare()(t), [x], seed=1)
        assert_close_to_torch(np.array([1.0, 2.0]), np.array([1.0, 2.0 + 1e-9]))
    finally:
        report.pytest_sessionfinish(None)
    assert (gc.InputCheck.__init__, gc.GradcheckReport.__init__, accuracy.RECORDER) == originals
    toy = report.families["toy"]
    assert (toy.gradchecks, toy.in_hypothesis, toy.caught, toy.torch) == (2, 2, 1, 1)
    assert 0 < toy.fd_element < 1e-6 and 0 < toy.fd_norm < 1e-6     # the passing check only
    assert toy.torch_element == pytest.approx(1e-9 / 4, rel=1e-3)
    assert "toy" in report.table()


def test_hypothesis_cases_are_counted_and_the_test_body_is_restored():
    from hypothesis import example, given, settings
    from hypothesis import strategies as hst

    calls = []

    @settings(max_examples=7, derandomize=True, database=None)
    @example(-1)
    @given(hst.integers())
    def drawn(n):
        calls.append(n)

    report = AccuracyReport()
    toy = report.families["toy"]
    report.count_cases(drawn.hypothesis, toy)
    drawn()
    report.pytest_runtest_teardown(None)
    assert toy.cases == len(calls) == 8 and calls[0] == -1        # the @example, then 7 drawn cases
    drawn()
    assert toy.cases == 8 and len(calls) == 16                     # after teardown nothing is counted
    assert "hypothesis cases" in report.table()
