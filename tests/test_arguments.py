"""The shared argument checks: what they accept, and what their errors say."""
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as hst

from minise.arguments import SQUEEZES, conv_output_size, is_int, one_of, pair, positive_int


def test_is_int_accepts_python_and_numpy_integers_but_not_bools_or_floats():
    assert is_int(3) and is_int(np.int64(3)) and is_int(np.uint8(0))
    assert not any(is_int(v) for v in (True, np.bool_(True), 3.0, "3", None, (3,)))


def test_positive_int():
    assert positive_int(np.int32(4), "channels") == 4 and type(positive_int(np.int32(4), "channels")) is int
    for bad in (0, -1, 2.5, True, "3", None):
        with pytest.raises(ValueError, match=rf"^Conv2d: channels must be a positive integer, got {bad!r}$"):
            positive_int(bad, "channels", "Conv2d")
    with pytest.raises(ValueError, match=r"^num_classes must be"):
        positive_int(0, "num_classes")


def test_pair():
    assert pair(2, "stride") == (2, 2) and pair([1, np.int64(3)], "stride") == (1, 3)
    assert pair((None, 4), "output_size", allow_none=True) == (None, 4)
    for bad in (2.0, (1, 2, 3), "22", (1, None), [1.0, 2]):
        with pytest.raises(TypeError, match=r"^pool: stride must be an int or a pair of ints, got"):
            pair(bad, "stride", "pool")
    with pytest.raises(ValueError, match=r"^conv2d: padding must be ≥ 0, got \(1, -1\)$"):
        pair((1, -1), "padding", "conv2d", minimum=0)
    with pytest.raises(ValueError, match=r"output_size must be ≥ 1"):
        pair((None, 0), "output_size", minimum=1, allow_none=True)
    with pytest.raises(TypeError, match=r"None keeps the input size"):
        pair(None, "output_size", allow_none=True)


def test_one_of():
    assert one_of("max", SQUEEZES, "squeeze") == "max"
    with pytest.raises(ValueError, match=r"^SEBlock: squeeze must be one of 'avg', 'max', got 'median'$"):
        one_of("median", SQUEEZES, "squeeze", "SEBlock")


@given(size=hst.integers(1, 40), kernel=hst.integers(1, 7), stride=hst.integers(1, 4),
       padding=hst.integers(0, 3), dilation=hst.integers(1, 3))
def test_conv_output_size_counts_the_window_positions(size, kernel, stride, padding, dilation):
    """The formula against a count of the window starts whose last tap still lands in the padded axis."""
    span = dilation * (kernel - 1) + 1
    starts = [s for s in range(0, size + 2 * padding, stride) if s + span <= size + 2 * padding]
    assert max(conv_output_size(size, kernel, stride, padding, dilation), 0) == len(starts)
