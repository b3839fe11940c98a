"""Pooling (max, avg, adaptive) against plain loops, PyTorch and finite differences."""
import functools
import itertools
import math

import numpy as np
import pytest
from accuracy import assert_close_to_torch
from hypothesis import example, given
from hypothesis import strategies as hst

import minise
from minise import Tensor
from minise.functional.adaptive import (
    AdaptiveAvgPool2dFunction,
    AdaptiveMaxPool2dFunction,
    adaptive_avg_pool2d,
    adaptive_max_pool2d,
)
from minise.functional.pooling import AvgPool2dFunction, MaxPool2dFunction, avg_pool2d, max_pool2d
from minise.testing import strategies as st

# a gradient check that warns (a kink, a gradient that is zero everywhere) is an error here
pytestmark = pytest.mark.filterwarnings("error::minise.gradcheck.GradcheckWarning")

RNG = np.random.default_rng(2024)


def leaf(a):
    return Tensor(np.asarray(a, dtype=np.float64), requires_grad=True)


def pair(v):
    return (v, v) if isinstance(v, int) else tuple(v)


# -- the plain-loop reference: one window at a time, straight from the definitions ----------------------

def reference_length(L, k, s, p, ceil_mode):
    if not ceil_mode:
        return math.floor((L + 2 * p - k) / s) + 1
    out = math.ceil((L + 2 * p - k) / s) + 1
    return out - 1 if (out - 1) * s >= L + p else out      # the last window starts inside input or left pad


def reference_pool(x, gy, mode, kernel, stride, padding, ceil_mode=False, count_include_pad=True):
    """(y, gx): the pooled output and, for upstream gy (or None), the gradient of Σ gy·y."""
    (kH, kW), (sH, sW), (pH, pW) = pair(kernel), pair(stride or kernel), pair(padding)
    N, C, H, W = x.shape
    oH, oW = reference_length(H, kH, sH, pH, ceil_mode), reference_length(W, kW, sW, pW, ceil_mode)
    y, gx = np.zeros((N, C, oH, oW)), np.zeros(x.shape)
    for n, c, i, j in itertools.product(range(N), range(C), range(oH), range(oW)):
        top, left = i * sH - pH, j * sW - pW
        cells = [(h, w) for h in range(top, top + kH) for w in range(left, left + kW)   # row-major order
                 if 0 <= h < H and 0 <= w < W]
        values = [x[n, c, h, w] for h, w in cells]
        if mode == "max":
            first = int(np.argmax(values))                    # the first maximum wins a tie
            y[n, c, i, j] = values[first]
            if gy is not None:
                gx[(n, c) + cells[first]] += gy[n, c, i, j]
        else:
            if count_include_pad:
                divisor = (min(top + kH, H + pH) - top) * (min(left + kW, W + pW) - left)
            else:
                divisor = len(cells)
            y[n, c, i, j] = sum(values) / divisor
            if gy is not None:
                for h, w in cells:
                    gx[n, c, h, w] += gy[n, c, i, j] / divisor
    return y, gx


def reference_adaptive(x, mode, out):
    N, C, H, W = x.shape
    oH, oW = (H if out[0] is None else out[0]), (W if out[1] is None else out[1])
    y = np.zeros((N, C, oH, oW))
    for i, j in itertools.product(range(oH), range(oW)):
        block = x[:, :, math.floor(i * H / oH):math.ceil((i + 1) * H / oH),
                  math.floor(j * W / oW):math.ceil((j + 1) * W / oW)]
        y[:, :, i, j] = block.max(axis=(2, 3)) if mode == "max" else block.mean(axis=(2, 3))
    return y


@hst.composite
def pool_configs(draw, max_side=6):
    """A valid window: kernel, stride (None or ≤ 4, so larger than the kernel too), padding ≤ k//2, and a
    shape whose padded size holds one window."""
    kernel = (draw(hst.integers(1, 3)), draw(hst.integers(1, 3)))
    stride = draw(hst.none() | hst.tuples(hst.integers(1, 4), hst.integers(1, 4)))
    padding = tuple(draw(hst.integers(0, k // 2)) for k in kernel)
    H, W = (draw(hst.integers(max(1, k - 2 * p), max_side)) for k, p in zip(kernel, padding))
    shape = (draw(hst.integers(1, 2)), draw(hst.integers(1, 2)), H, W)
    return shape, dict(kernel_size=kernel, stride=stride, padding=padding, ceil_mode=draw(hst.booleans()))


# -- 1. forward (and max's routing) against the loops -----------------------------------------------------

@given(pool_configs(), st.seeds(), hst.booleans())
def test_max_pool_matches_the_loop_reference(config, seed, with_ties):
    shape, kw = config
    x = st.make_array(shape, seed)
    if with_ties:
        x = np.round(x)                                       # many ties: the first maximum must win
    t = leaf(x)
    y = max_pool2d(t, **kw)
    gy = np.random.default_rng(seed).standard_normal(y.shape)
    y.backward(gy)
    want_y, want_gx = reference_pool(x, gy, "max", kw["kernel_size"], kw["stride"], kw["padding"], kw["ceil_mode"])
    np.testing.assert_allclose(y.data, want_y, rtol=1e-12)
    np.testing.assert_allclose(t.grad, want_gx, rtol=1e-12, atol=1e-12)


@given(pool_configs(), st.seeds(), hst.booleans())
def test_avg_pool_matches_the_loop_reference(config, seed, count_include_pad):
    shape, kw = config
    x = st.make_array(shape, seed)
    t = leaf(x)
    y = avg_pool2d(t, **kw, count_include_pad=count_include_pad)
    gy = np.random.default_rng(seed).standard_normal(y.shape)
    y.backward(gy)
    want_y, want_gx = reference_pool(x, gy, "avg", kw["kernel_size"], kw["stride"], kw["padding"],
                                     kw["ceil_mode"], count_include_pad)
    np.testing.assert_allclose(y.data, want_y, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(t.grad, want_gx, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("mode", ["max", "avg"])
@pytest.mark.parametrize("out", [1, 2, 3, (2, 5), (None, 2), (4, None), (7, 1)])
def test_adaptive_pool_matches_the_loop_reference(mode, out):
    x = RNG.standard_normal((2, 3, 5, 6))
    op = adaptive_max_pool2d if mode == "max" else adaptive_avg_pool2d
    np.testing.assert_allclose(op(Tensor(x), out).data, reference_adaptive(x, mode, pair(out)), rtol=1e-12)


@pytest.mark.parametrize("kernel, stride, padding, ceil_mode, size", [
    (3, 1, 1, False, (4, 5)),             # every border window holds padding
    (2, 2, 1, True, (5, 4)),              # ceil mode: the last window hangs into the right padding
    ((3, 2), (2, 3), (1, 1), True, (6, 5)),
])
def test_max_pool_padding_never_wins(kernel, stride, padding, ceil_mode, size):
    """All values negative: padding taken as 0 would win every border window and swallow its
    gradient. Padding is −∞: every output is a real element, and all of gy reaches x."""
    x = -1.0 - st.make_array((2, 3) + size, 11, low=0.0, high=1.0, tie_free=True)
    t = leaf(x)
    y = max_pool2d(t, kernel, stride, padding, ceil_mode=ceil_mode)
    gy = RNG.uniform(1.0, 2.0, y.shape)
    y.backward(gy)
    assert np.all(y.data < 0)
    assert np.isin(y.data, x).all()                           # each output is one of x's values
    np.testing.assert_allclose(t.grad.sum(), gy.sum(), rtol=1e-12)    # no gradient lost to padding
    want_y, want_gx = reference_pool(x, gy, "max", kernel, stride, padding, ceil_mode)
    np.testing.assert_array_equal(y.data, want_y)
    np.testing.assert_allclose(t.grad, want_gx, rtol=1e-12)


@pytest.mark.parametrize("op, cls", [(lambda t: max_pool2d(t, 2), MaxPool2dFunction),
                                     (lambda t: adaptive_max_pool2d(t, 1), AdaptiveMaxPool2dFunction),
                                     (lambda t: adaptive_max_pool2d(t, (1, 3)), AdaptiveMaxPool2dFunction)],
                         ids=["max_pool2d", "global", "adaptive-bins"])
def test_a_tie_sends_the_gradient_to_the_first_maximum_as_documented(op, cls):
    """The documented convention: the first maximum in row-major window order gets all of gy."""
    assert "first maximum in row-major" in " ".join(cls.__doc__.split())
    x = np.array([[0.0, 1.0, 1.0, 0.5],
                  [1.0, 0.0, 1.0, 1.0]])[None, None]              # (1, 1, 2, 4): ties in every window
    t = leaf(x)
    y = op(t)
    y.backward(np.full(y.shape, 3.0))
    # the first maximum of each window: columns 0-1 and 2-3 / everything / bins [0,2) [1,3) [2,4)
    first = {(1, 1, 1, 2): [(0, 1), (0, 2)], (1, 1, 1, 1): [(0, 1)], (1, 1, 1, 3): [(0, 1), (0, 1), (0, 2)]}
    want = np.zeros((2, 4))
    for cell in first[y.shape]:
        want[cell] += 3.0
    np.testing.assert_array_equal(t.grad[0, 0], want)


# -- 1b. forward and gradient against PyTorch, float64 --------------------------------------------------

SIZES = [(5, 5), (6, 7), (4, 9), (1, 3)]
KERNELS = [1, 2, 3, (2, 3), (3, 1)]
STRIDES = [None, 1, 2, (1, 3), 4]
PADDINGS = [0, 1, (1, 0), (0, 1)]


def against_torch(ours, theirs, x):
    """Forward and the gradient for a random upstream gradient, ours vs PyTorch's."""
    torch = pytest.importorskip("torch")
    tx = torch.tensor(x, requires_grad=True)
    ty = theirs(tx)
    t = leaf(x)
    y = ours(t)
    gy = RNG.standard_normal(tuple(ty.shape))
    ty.backward(torch.from_numpy(gy))
    y.backward(gy)
    assert_close_to_torch(y.data, ty)
    assert_close_to_torch(t.grad, tx.grad)


@pytest.mark.parametrize("kernel", KERNELS)
@pytest.mark.parametrize("ceil_mode", [False, True])
@pytest.mark.parametrize("mode", ["max", "avg-include-pad", "avg-exclude-pad"])
def test_pooling_matches_pytorch(kernel, ceil_mode, mode):
    """Same outputs, same gradients, and the same windows refused, over a grid of configurations."""
    torch = pytest.importorskip("torch")
    F = torch.nn.functional
    compared = 0
    for (H, W), stride, padding in itertools.product(SIZES, STRIDES, PADDINGS):
        if any(p > k // 2 for p, k in zip(pair(padding), pair(kernel))):
            continue                                          # refused on both sides: see the bad-input tests
        if mode == "max":
            x = RNG.permutation(2 * 3 * H * W).reshape(2, 3, H, W) / 7.0      # tie-free
            options = dict(kernel_size=kernel, stride=stride, padding=padding, ceil_mode=ceil_mode)
            ours, theirs = functools.partial(max_pool2d, **options), functools.partial(F.max_pool2d, **options)
        else:
            x = RNG.standard_normal((2, 3, H, W))
            include = mode == "avg-include-pad"
            options = dict(kernel_size=kernel, stride=stride, padding=padding, ceil_mode=ceil_mode,
                           count_include_pad=include)
            ours, theirs = functools.partial(avg_pool2d, **options), functools.partial(F.avg_pool2d, **options)
        try:
            theirs(torch.tensor(x))
        except RuntimeError:                                  # "output size is too small"
            with pytest.raises(ValueError, match="kernel_size"):
                ours(Tensor(x))
            continue
        against_torch(ours, theirs, x)
        compared += 1
    assert compared >= 20


@pytest.mark.parametrize("size", [(5, 5), (6, 7), (1, 4), (8, 3), (12, 12)])
@pytest.mark.parametrize("out", [1, 2, 3, (None, 2), (3, None), (5, 7), (4, 6)])
@pytest.mark.parametrize("mode", ["max", "avg"])
def test_adaptive_pooling_matches_pytorch(size, out, mode):
    F = pytest.importorskip("torch").nn.functional
    if mode == "max":
        x = RNG.permutation(2 * 3 * size[0] * size[1]).reshape((2, 3) + size) / 7.0
        against_torch(lambda t: adaptive_max_pool2d(t, out), lambda t: F.adaptive_max_pool2d(t, out), x)
    else:
        x = RNG.standard_normal((2, 3) + size)
        against_torch(lambda t: adaptive_avg_pool2d(t, out), lambda t: F.adaptive_avg_pool2d(t, out), x)


@pytest.mark.parametrize("op", ["max_pool2d", "adaptive_max_pool2d"])
def test_ties_and_nan_go_where_pytorch_sends_them(op):
    """Integer-valued inputs tie everywhere; a NaN must win its windows. The gradient must land
    on the same element as PyTorch's (the first maximum in row-major window order)."""
    torch = pytest.importorskip("torch")
    x = RNG.integers(0, 3, size=(2, 3, 7, 6)).astype(np.float64)
    if op == "max_pool2d":
        x[0, 0, 2, 3] = np.nan
        ours = lambda t: max_pool2d(t, 3, 2, 1, ceil_mode=True)
        theirs = lambda t: torch.nn.functional.max_pool2d(t, 3, 2, 1, ceil_mode=True)
    else:
        ours = lambda t: adaptive_max_pool2d(t, (3, 4))
        theirs = lambda t: torch.nn.functional.adaptive_max_pool2d(t, (3, 4))
    against_torch(ours, theirs, x)


@pytest.mark.parametrize("out", [1, (3, 3)])
def test_adaptive_max_sends_the_gradient_to_the_last_nan_like_pytorch(out):
    x = np.arange(2 * 5 * 5, dtype=np.float64).reshape(1, 2, 5, 5)
    x[0, 0, 0, 0] = x[0, 0, 1, 1] = np.nan                    # two NaNs in one bin
    F = pytest.importorskip("torch").nn.functional
    against_torch(lambda t: adaptive_max_pool2d(t, out), lambda t: F.adaptive_max_pool2d(t, out), x)


# -- 2. backward against finite differences --------------------------------------------------------------

# Pinned in every profile, whatever the draws: rectangular kernels on rectangular inputs, stride
# larger than the kernel, padding of half the kernel, and a ceil-mode window hanging off the input.
CORNER_CASES = [((2, 2, 5, 4), dict(kernel_size=(3, 2), stride=(4, 3), padding=(1, 1), ceil_mode=True)),
                ((1, 2, 6, 7), dict(kernel_size=(2, 3), stride=(3, 1), padding=(1, 0), ceil_mode=False)),
                ((1, 2, 5, 6), dict(kernel_size=(2, 1), stride=(2, 2), padding=(0, 0), ceil_mode=True))]


@example(CORNER_CASES[0], 3)
@example(CORNER_CASES[1], 4)
@example(CORNER_CASES[2], 5)
@given(pool_configs(), st.seeds())
def test_max_pool_gradcheck(config, seed):
    shape, kw = config
    x = st.make_array(shape, seed, tie_free=True)
    assert minise.gradcheck(lambda t: max_pool2d(t, **kw), [leaf(x)], seed=seed)


@example(CORNER_CASES[0], 3, False)
@example(CORNER_CASES[0], 3, True)
@example(CORNER_CASES[1], 4, False)
@example(CORNER_CASES[2], 5, True)
@given(pool_configs(), st.seeds(), hst.booleans())
def test_avg_pool_gradcheck(config, seed, count_include_pad):
    shape, kw = config
    x = st.make_array(shape, seed)
    assert minise.gradcheck(lambda t: avg_pool2d(t, **kw, count_include_pad=count_include_pad), [leaf(x)],
                            seed=seed)


def test_the_corner_cases_are_what_they_claim():
    half_padding = hanging_off = False
    for shape, kw in CORNER_CASES:
        (kH, kW), (sH, sW), (pH, pW) = kw["kernel_size"], kw["stride"], kw["padding"]
        assert kH != kW and shape[2] != shape[3] and (sH > kH or sW > kW)       # rectangular, strided past k
        half_padding |= 0 < pH == kH // 2 or 0 < pW == kW // 2
        for L, k, s, p in zip(shape[2:], (kH, kW), (sH, sW), (pH, pW)):
            out = reference_length(L, k, s, p, kw["ceil_mode"])
            hanging_off |= (out - 1) * s + k > L + 2 * p                       # past the right padding
    assert half_padding and hanging_off


adaptive_sizes = hst.one_of(hst.integers(1, 4), hst.tuples(hst.none() | hst.integers(1, 4), hst.integers(1, 4)))


@given(hst.tuples(hst.integers(1, 2), hst.integers(1, 2), hst.integers(1, 5), hst.integers(1, 5)),
       adaptive_sizes, st.seeds())
def test_adaptive_gradcheck(shape, out, seed):
    x = st.make_array(shape, seed, tie_free=True)
    assert minise.gradcheck(lambda t: adaptive_max_pool2d(t, out), [leaf(x)], seed=seed)
    assert minise.gradcheck(lambda t: adaptive_avg_pool2d(t, out), [leaf(x)], seed=seed)


# -- 3. planted wrong backwards are caught ---------------------------------------------------------------

class MaxToTheWrongTap(MaxPool2dFunction):
    def backward(self, gy):
        winner, shape, padded = self.saved
        self.save_for_backward(winner=(winner + 1) % (self.kernel[0] * self.kernel[1]), x_shape=shape,
                               padded=padded)                                   # the next tap
        return super().backward(gy)


class AvgWithTheKernelAreaAsDivisor(AvgPool2dFunction):
    def backward(self, gy):
        d, shape, padded = self.saved
        self.save_for_backward(d=d * 0 + self.kernel[0] * self.kernel[1], x_shape=shape, padded=padded)
        return super().backward(gy)


class GlobalAvgWithoutTheMean(AdaptiveAvgPool2dFunction):
    def backward(self, gy):
        (gx,) = super().backward(gy)
        H, W = self.saved.P_H.shape[1], self.saved.P_W.shape[1]
        return (gx * H * W,)                                  # drops the 1/(H·W)


class AdaptiveMaxToTheFirstCell(AdaptiveMaxPool2dFunction):
    def backward(self, gy):
        winner, rows, cols, shape = self.saved
        self.save_for_backward(winner=winner * 0, rows=rows, cols=cols, x_shape=shape)
        return super().backward(gy)


@pytest.mark.parametrize("right, wrong, shape", [
    (lambda t: max_pool2d(t, 3, 2, 1), lambda t: MaxToTheWrongTap(3, 2, 1)(t), (1, 2, 5, 5)),
    (lambda t: avg_pool2d(t, 3, 2, 1, count_include_pad=False),
     lambda t: AvgWithTheKernelAreaAsDivisor(3, 2, 1, count_include_pad=False)(t), (1, 2, 5, 5)),
    (lambda t: avg_pool2d(t, 2, 2, 0, ceil_mode=True),
     lambda t: AvgWithTheKernelAreaAsDivisor(2, 2, 0, ceil_mode=True)(t), (1, 1, 5, 5)),
    (lambda t: adaptive_avg_pool2d(t, 1), lambda t: GlobalAvgWithoutTheMean(1)(t), (2, 3, 2, 2)),
    (lambda t: adaptive_max_pool2d(t, (2, 3)), lambda t: AdaptiveMaxToTheFirstCell((2, 3))(t), (1, 2, 5, 5)),
], ids=["max-wrong-element", "avg-divisor-excluding-pad", "avg-divisor-ceil-mode", "global-avg-no-mean",
        "adaptive-max-wrong-element"])
def test_a_planted_wrong_backward_is_caught(right, wrong, shape):
    x = st.make_array(shape, 7, tie_free=True)
    assert minise.gradcheck(right, [leaf(x)], seed=1)
    with pytest.raises(minise.GradcheckError):
        minise.gradcheck(wrong, [leaf(x)], seed=1)


# -- 4. bad input ------------------------------------------------------------------------------------------

@pytest.mark.parametrize("call, error, message", [
    (lambda x: max_pool2d(x[0], 2), ValueError, r"4-D \(N, C, H, W\), got shape \(3, 5, 5\)"),
    (lambda x: avg_pool2d(x.reshape(1, 1, 3, 5, 5), 2), ValueError, r"got shape \(1, 1, 3, 5, 5\)"),
    (lambda x: adaptive_avg_pool2d(x[0, 0], 1), ValueError, r"4-D .* got shape \(5, 5\)"),
    (lambda x: max_pool2d(x, 3, padding=2), ValueError, r"padding \(2, 2\) .* half of kernel_size \(3, 3\)"),
    (lambda x: avg_pool2d(x, (4, 2), padding=(1, 2)), ValueError, r"padding \(1, 2\) .* kernel_size \(4, 2\)"),
    (lambda x: max_pool2d(x, 8, padding=1), ValueError, r"kernel_size \(8, 8\) is larger than the padded input"),
    (lambda x: avg_pool2d(x, (2, 8)), ValueError, r"kernel_size \(2, 8\) is larger .* \(5, 5\)"),
    (lambda x: max_pool2d(x, 0), ValueError, r"kernel_size must be ≥ 1, got 0"),
    (lambda x: avg_pool2d(x, 2, stride=(1, -1)), ValueError, r"stride must be ≥ 1, got \(1, -1\)"),
    (lambda x: max_pool2d(x, 3, padding=-1), ValueError, r"padding must be ≥ 0"),
    (lambda x: max_pool2d(x, 2.0), TypeError, r"kernel_size must be an int or a pair of ints, got 2.0"),
    (lambda x: max_pool2d(x, (2, 2, 2)), TypeError, r"kernel_size must be an int or a pair"),
    (lambda x: avg_pool2d(x, 2, stride="2"), TypeError, r"stride must be an int or a pair"),
    (lambda x: adaptive_max_pool2d(x, 0), ValueError, r"output_size must be ≥ 1, got 0"),
    (lambda x: adaptive_avg_pool2d(x, (2, -1)), ValueError, r"output_size must be ≥ 1"),
    (lambda x: adaptive_avg_pool2d(x, None), TypeError, r"output_size must be an int or a pair"),
    (lambda x: adaptive_max_pool2d(x, 1.5), TypeError, r"output_size must be an int or a pair"),
    (lambda x: max_pool2d(Tensor(np.ones((1, 1, 4, 4), dtype=np.int64)), 2), TypeError,
     r"floating-point input, got dtype int64"),
])
def test_bad_input_gets_a_clear_error(call, error, message):
    with pytest.raises(error, match=message):
        call(Tensor(np.ones((1, 3, 5, 5))))


# -- 5. the device path, and dtypes ----------------------------------------------------------------------

OPS = {
    "max": lambda t: max_pool2d(t, 3, 2, 1, ceil_mode=True),
    "avg": lambda t: avg_pool2d(t, (3, 2), (2, 3), (1, 0), ceil_mode=True, count_include_pad=False),
    "adaptive_avg": lambda t: adaptive_avg_pool2d(t, (3, 2)),
    "global_avg": lambda t: adaptive_avg_pool2d(t, 1),
    "adaptive_max_bins": lambda t: adaptive_max_pool2d(t, (3, 4)),
    "adaptive_max_taps": lambda t: adaptive_max_pool2d(t, (4, 4)),
    "global_max": lambda t: adaptive_max_pool2d(t, 1),
}


@pytest.mark.parametrize("name", OPS)
def test_device_results_equal_numpy(device_backend, name):
    x = st.make_array((2, 3, 8, 8), 5, tie_free=True)
    gy_shape = OPS[name](Tensor(x)).shape
    gy = RNG.standard_normal(gy_shape)
    results = []
    for to_backend in (np.asarray, device_backend.asarray):
        t = Tensor(to_backend(x), requires_grad=True)
        y = OPS[name](t)
        y.backward(to_backend(gy))
        assert y.device == t.device
        results.append((device_backend.to_numpy(y.data), device_backend.to_numpy(t.grad)))
    np.testing.assert_array_equal(results[0][0], results[1][0])
    np.testing.assert_array_equal(results[0][1], results[1][1])


@pytest.mark.parametrize("name", OPS)
def test_float32_stays_float32(name):
    t = Tensor(RNG.standard_normal((2, 3, 8, 8)).astype(np.float32), requires_grad=True)
    y = OPS[name](t)
    y.backward(np.ones(y.shape, dtype=np.float32))
    assert y.dtype == np.float32 and t.grad.dtype == np.float32


def test_no_grad_keeps_nothing_for_backward():
    op = MaxPool2dFunction(2)
    with minise.no_grad():
        op(Tensor(np.ones((1, 1, 4, 4))))
    assert op.saved is None
