"""minise.testing.strategies keeps its promises: tie-free values are gap apart, away-from-zero
values keep their margin (also both at once), and broadcastable pairs broadcast."""
import numpy as np
from hypothesis import given
from hypothesis import strategies as hst

from minise.testing import strategies as st


def smallest_gap(a):
    return np.diff(np.sort(a.ravel())).min() if a.size > 1 else np.inf


@given(st.shapes(max_dims=4), st.seeds(), hst.sampled_from([None, 0.1, 0.5]), hst.sampled_from([1e-2, 0.05]))
def test_tie_free_values_are_at_least_gap_apart(shape, seed, away_from_zero, gap):
    a = st.make_array(shape, seed, tie_free=True, away_from_zero=away_from_zero, gap=gap)
    assert a.shape == shape and a.dtype == np.float64
    assert smallest_gap(a) >= gap * (1 - 1e-9)
    if away_from_zero is not None:
        assert np.abs(a).min() >= away_from_zero


def test_tie_free_and_away_from_zero_together_on_a_large_array():
    a = st.make_array((2, 3, 8, 8), 0, tie_free=True, away_from_zero=0.1)    # many values within 0.1 of 0
    assert smallest_gap(a) >= 1e-2 * (1 - 1e-9) and np.abs(a).min() >= 0.1


@given(st.shapes(max_dims=3), st.seeds())
def test_away_from_zero_keeps_the_margin_and_both_signs(shape, seed):
    a = st.make_array(shape, seed, away_from_zero=0.25)
    assert np.abs(a).min() >= 0.25 and np.abs(a).max() <= 2.0


@given(st.broadcastable_shapes())
def test_broadcastable_shapes_broadcast(shapes):
    a, b = shapes
    np.broadcast_shapes(a, b)                  # raises if they do not
