"""No false alarm: the built-in ops pass gradcheck, silently, over awkward shapes
(minise.testing.awkward: size-1 axes, broadcasting, non-contiguous views, stride > kernel,
padding, dilation, groups, ceil_mode, one-pixel inputs)."""
import warnings

import pytest

import minise
from minise.testing.awkward import cases

CASES = cases()


def test_the_sweep_covers_the_awkward_configurations():
    names = " ".join(name for name, _, _ in CASES)
    assert len(CASES) >= 60
    for needed in ("conv2d", "g=2", "d=2", "ceil=True", "max_pool2d", "avg_pool2d", "adaptive_max_pool2d",
                   "batch_norm", "(1, 1, 1, 1)", "transposed view", "strided slice", "(3, 1)+(1, 4)"):
        assert needed in names, needed


@pytest.mark.parametrize("index", range(len(CASES)), ids=[name for name, _, _ in CASES])
def test_no_false_alarm_and_no_warning(index):
    name, fn, inputs = CASES[index]
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        report = minise.gradcheck(fn, inputs, seed=index, raise_exception=False)
    assert report, f"{name}: false alarm\n{report}"
