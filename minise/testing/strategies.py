"""Hypothesis strategies for testing ops, reusable in your own tests and exercises.

Gradient checks by finite differences need inputs that keep away from trouble:

* kinks: ReLU at 0, |x| at 0. A central difference that straddles a kink averages two slopes
  and disagrees with any correct backward. ``arrays(..., away_from_zero=0.1)`` keeps |x| ≥ 0.1.
* ties: max-pooling sends the gradient to one winner; if two values tie (or are within ε of each
  other), nudging one by ε changes the winner. ``arrays(..., tie_free=True)`` makes every value
  distinct by at least ``gap``, by construction, so hypothesis never has to throw draws away.

Arrays are built from a drawn seed with NumPy's generator (fast for any size), in float64.

    from hypothesis import given
    from minise.testing import strategies as st

    @given(st.arrays(st.shapes(min_dims=2, max_dims=4), tie_free=True))
    def test_max(x): ...
"""
import numpy as np

try:
    from hypothesis import strategies as hst
except ImportError as error:
    raise ImportError('minise.testing.strategies needs hypothesis: pip install "minise[test]"') from error


def shapes(min_dims=1, max_dims=4, min_side=1, max_side=5):
    """Tuples of array dimensions, e.g. (3, 1, 4)."""
    return hst.lists(hst.integers(min_side, max_side), min_size=min_dims, max_size=max_dims).map(tuple)


@hst.composite
def broadcastable_shapes(draw, min_dims=1, max_dims=4, max_side=4):
    """A pair of shapes that broadcast together: the second drops leading axes or has 1s."""
    a = draw(shapes(min_dims, max_dims, 1, max_side))
    keep = draw(hst.integers(0, len(a)))
    b = tuple(1 if draw(hst.booleans()) else n for n in a[len(a) - keep:])
    return (a, b) if draw(hst.booleans()) else (b, a)


def make_array(shape, seed, low=-2.0, high=2.0, away_from_zero=None, tie_free=False, gap=1e-2):
    """The array that :func:`arrays` draws, built from a seed (usable without hypothesis)."""
    rng = np.random.default_rng(seed)
    size = int(np.prod(shape))
    if tie_free:
        values = (np.arange(size) - size / 2) * gap                 # distinct, spaced by ``gap``
        values = values + rng.uniform(0, gap / 4)                   # off the grid, still spaced
        values = rng.permutation(values) * max(1.0, (high - low) / max(size * gap, 1e-12) / 2)
        if away_from_zero is not None:
            # push every value outwards by the margin, the positive ones up and the others down:
            # the order on each side is kept, so are the gaps (moving only the values near 0 would
            # land them on values already there)
            values = values + np.where(values >= 0, away_from_zero, -away_from_zero)
        return values.reshape(shape)
    if away_from_zero is not None:
        magnitude = rng.uniform(away_from_zero, max(abs(low), abs(high)), size)
        return (magnitude * rng.choice([-1.0, 1.0], size)).reshape(shape)
    return rng.uniform(low, high, size).reshape(shape)


@hst.composite
def arrays(draw, shape, low=-2.0, high=2.0, away_from_zero=None, tie_free=False, gap=1e-2):
    """Float64 arrays of ``shape`` (a tuple or a strategy of tuples).

    away_from_zero  every |value| ≥ this margin (for kinks at 0)
    tie_free        all values distinct, at least ``gap`` apart (for max and max-pooling)
    """
    if not isinstance(shape, tuple):
        shape = draw(shape)
    seed = draw(hst.integers(0, 2**32 - 1))
    return make_array(shape, seed, low, high, away_from_zero, tie_free, gap)


def seeds():
    """Seeds for the random upstream gradient of gradcheck."""
    return hst.integers(0, 2**32 - 1)
