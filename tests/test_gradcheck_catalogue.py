"""The checker against a catalogue of planted wrong backwards (minise.testing.planted).

Every wrong backward must be caught by gradcheck and by check_backward; every right twin must pass
both, without a warning (which proves that the inputs are clean, so each catch is the bug's doing).
``python benchmarks/gradcheck_catalogue.py`` sets the catch rate beside PyTorch's gradcheck.
"""
import warnings

import pytest

import minise
from minise import Tensor
from minise.testing.planted import catalogue

BUGS = catalogue()


def run_both(bug, backward, seed):
    """(gradcheck report, check_backward report) for ``bug.forward`` with this backward."""
    op = bug.function(backward)
    tensors = {k: Tensor(v, requires_grad=True) for k, v in bug.fresh_inputs().items()}
    return (minise.gradcheck(lambda *t: op()(*t), tensors, seed=seed, raise_exception=False),
            minise.check_backward(bug.forward, backward, bug.fresh_inputs(), seed=seed, raise_exception=False))


def test_the_catalogue_is_large_and_varied():
    assert len(BUGS) >= 40
    assert len({b.kind for b in BUGS}) >= 20
    assert len({b.name for b in BUGS}) == len(BUGS)


@pytest.mark.parametrize("bug", BUGS, ids=lambda b: b.name)
def test_every_planted_bug_is_caught_and_its_right_twin_passes(bug):
    for seed in (0, 1):
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            assert all(run_both(bug, bug.right, seed)), "the right twin fails: the case itself is unsound"
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")          # a wrong backward may well look like a kink
            gradcheck_report, check_backward_report = run_both(bug, bug.wrong, seed)
        assert not gradcheck_report, f"gradcheck missed {bug.name} ({bug.kind}) at seed {seed}"
        assert not check_backward_report, f"check_backward missed {bug.name} ({bug.kind}) at seed {seed}"
        assert gradcheck_report.failures() and check_backward_report.failures()
