"""A catalogue of planted wrong backwards, for checking a gradient checker.

Each :class:`Bug` is a small layer written the way courses write them, as two array functions::

    forward(*inputs)   -> (y, cache)
    backward(gy, cache) -> one gradient per input

with the backward planted wrong (``wrong``) and its right twin (``right``) beside it. A checker worth
the name fails every ``wrong`` and passes every ``right``: the right twin proves that the inputs keep
away from kinks and ties, so a failure can only be the planted bug. The kinds range from the slips
everyone makes (a sign, a missing factor, a wrong axis) to what a single comparison cannot see
(an error invisible to an all-ones upstream gradient, a backward that writes into its arguments or is
right only on its first call, NaN, float32 round-off), to backwards right only under the conditions a
checker happens to try (contiguous float64 arrays, the first few calls) or that write later into
arrays they kept.

    from minise.testing.planted import catalogue
    for bug in catalogue():
        assert not minise.check_backward(bug.forward, bug.wrong, bug.inputs, raise_exception=False)

``benchmarks/gradcheck_catalogue.py`` runs it through minise and through PyTorch's gradcheck.
"""
from . import conditions, elementwise, linear_algebra, misbehaviour, normalisation, windows
from .bug import Bug

FAMILIES = (elementwise, linear_algebra, normalisation, windows, misbehaviour, conditions)


def catalogue():
    """Every planted bug, with fresh inputs (the same numbers at every call)."""
    return [bug for family in FAMILIES for bug in family.bugs()]


__all__ = ["Bug", "catalogue"]
