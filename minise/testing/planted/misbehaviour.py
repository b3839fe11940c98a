"""Backwards whose numbers may even be right once: they write where they must not, keep state,
return NaN, or lose precision in float32."""
import numpy as np

from .bug import Bug, rng, uniform


def _cube(a):
    return a ** 3, a


def _right(g, a):
    return (3 * a ** 2 * g,)


def _doubles_upstream(g, a):
    g *= 2                                       # writes into an array other ops may share
    return (3 * a ** 2 * g,)


def _damages_input(g, a):
    grad = 3 * a ** 2 * g                        # right ...
    a *= 1.5                                     # ... but the saved input is changed for everyone
    return (grad,)


def _cube_counted(a):
    return a ** 3, {"a": a, "calls": [0]}


def _right_counted(g, c):
    return (3 * c["a"] ** 2 * g,)


def _right_only_first(g, c):
    c["calls"][0] += 1
    return (3 * c["a"] ** 2 * g * c["calls"][0],)


def _memoised(g, c):
    if "memo" not in c:
        c["memo"] = 3 * c["a"] ** 2 * g          # remembers the first answer, whatever comes next
    return (c["memo"].copy(),)


def _all_nan(g, a):
    return (np.full(a.shape, np.nan),)


def _one_inf(g, a):
    grad = 3 * a ** 2 * g
    grad.reshape(-1)[-1] = np.inf
    return (grad,)


def _offset_square(a):
    return (a - 1e5) ** 2, a


def _offset_square_float32(g, a):
    d = a.astype(np.float32) - np.float32(1e5)   # 1e5 + x in float32 keeps ~3 decimals of x
    return (2 * d.astype(np.float64) * g,)


def bugs():
    x = uniform(50, (2, 3), 0.5, 2.0)
    near_offset = 1e5 + rng(51).uniform(-2, 2, 6)
    return [
        Bug("upstream_gradient_doubled_in_place", "in-place upstream gradient", _cube, _doubles_upstream, _right, x=x),
        Bug("saved_input_changed_in_place", "in-place saved input", _cube, _damages_input, _right, x=x),
        Bug("right_only_on_first_call", "stateful second call", _cube_counted, _right_only_first, _right_counted, x=x),
        Bug("remembers_first_answer", "stateful (memoised)", _cube_counted, _memoised, _right_counted, x=x),
        Bug("all_nan", "NaN", _cube, _all_nan, _right, x=x),
        Bug("one_infinite_element", "inf", _cube, _one_inf, _right, x=x),
        Bug("float32_round_trip_in_backward", "float32 round trip", _offset_square, _offset_square_float32,
            lambda g, a: (2 * (a - 1e5) * g,), x=near_offset),
    ]
