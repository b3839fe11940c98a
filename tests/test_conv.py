"""conv2d: against plain loops, against PyTorch, against finite differences; bad input; device."""
import numpy as np
import pytest
from accuracy import assert_close_to_torch
from hypothesis import given
from hypothesis import strategies as hst

import minise
from minise.functional import conv_im2col, conv_reference
from minise.functional.conv import Conv2dFunction, conv2d
from minise.testing import strategies as st


def loop_conv2d(x, w, b=None, stride=(1, 1), padding=(0, 0), dilation=(1, 1), groups=1):
    """The definition, one output number at a time: a dot product of a window with a kernel."""
    N, C_in, H, W = x.shape
    C_out, C_group, kH, kW = w.shape
    (sh, sw), (ph, pw), (dh, dw) = stride, padding, dilation
    x_pad = np.zeros((N, C_in, H + 2 * ph, W + 2 * pw))
    x_pad[:, :, ph:ph + H, pw:pw + W] = x
    Ho = (H + 2 * ph - dh * (kH - 1) - 1) // sh + 1
    Wo = (W + 2 * pw - dw * (kW - 1) - 1) // sw + 1
    y = np.zeros((N, C_out, Ho, Wo))
    for n in range(N):
        for o in range(C_out):
            first = (o // (C_out // groups)) * C_group          # the group's first input channel
            for i in range(Ho):
                for j in range(Wo):
                    window = x_pad[n, first:first + C_group,
                                   i * sh:i * sh + dh * (kH - 1) + 1:dh, j * sw:j * sw + dw * (kW - 1) + 1:dw]
                    y[n, o, i, j] = np.sum(window * w[o]) + (0.0 if b is None else b[o])
    return y


# (N, C_in, C_out, H, W, kH, kW, stride, padding, dilation, groups)
CASES = [
    (2, 3, 4, 6, 5, 3, 3, 1, 1, 1, 1),
    (1, 2, 3, 7, 6, 2, 3, (2, 1), (1, 0), 1, 1),
    (2, 4, 6, 8, 7, 3, 2, 2, (1, 1), (2, 1), 2),
    (1, 3, 3, 5, 6, 3, 3, 1, 1, 1, 3),                         # depthwise
    (2, 4, 4, 6, 6, 1, 1, 2, 0, 1, 1),                         # 1×1, stride 2
    (1, 2, 2, 7, 7, 2, 2, 3, 0, 1, 1),                         # stride larger than the kernel
]

# cases for the device test beyond CASES: a 1×1 pointwise (no im2col) and a no-padding stride-1 conv
KERNEL_CORNERS_DEVICE = [(2, 4, 6, 5, 6, 1, 1, 1, 0, 1, 2), (2, 1, 2, 5, 3, 2, 2, 1, 0, (2, 1), 1)]


def _draw_case(case, seed, dtype=np.float64):
    N, C_in, C_out, H, W, kH, kW, stride, padding, dilation, groups = case
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((N, C_in, H, W)).astype(dtype)
    w = rng.standard_normal((C_out, C_in // groups, kH, kW)).astype(dtype)
    b = rng.standard_normal(C_out).astype(dtype)
    return x, w, b, dict(stride=stride, padding=padding, dilation=dilation, groups=groups)


def reference(x, w, b, gy, kw):
    """(y, gx, gw, gb) from the tap loops of conv_reference."""
    kw = _pairs(kw)
    geometry = (kw["stride"], kw["padding"], kw["dilation"], kw["groups"])
    return (conv_reference.conv2d(x, w, b, *geometry), conv_reference.conv_transpose2d(gy, w, x.shape, *geometry),
            conv_reference.conv2d_weight_grad(x, gy, w.shape, *geometry), gy.sum(axis=(0, 2, 3)))


def _pairs(kw):
    pair = lambda v: (v, v) if isinstance(v, int) else v
    return dict(stride=pair(kw["stride"]), padding=pair(kw["padding"]), dilation=pair(kw["dilation"]),
                groups=kw["groups"])


@pytest.mark.parametrize("case", CASES)
@pytest.mark.parametrize("bias", [True, False])
def test_forward_matches_loops(case, bias):
    x, w, b, kw = _draw_case(case, seed=1)
    b = b if bias else None
    y = conv2d(minise.Tensor(x), minise.Tensor(w), None if b is None else minise.Tensor(b), **kw)
    expected = loop_conv2d(x, w, b, **_pairs(kw))
    assert y.shape == expected.shape
    np.testing.assert_allclose(y.data, expected, rtol=1e-12, atol=1e-12)


def test_float32_stays_float32():
    x, w, b, kw = _draw_case(CASES[0], seed=2, dtype=np.float32)
    xt, wt, bt = (minise.Tensor(a, requires_grad=True) for a in (x, w, b))
    y = conv2d(xt, wt, bt, **kw)
    y.backward(np.ones(y.shape, dtype=np.float32))
    assert y.dtype == np.float32 and xt.grad.dtype == wt.grad.dtype == bt.grad.dtype == np.float32
    np.testing.assert_allclose(y.data, loop_conv2d(x, w, b, **_pairs(kw)), rtol=1e-4, atol=1e-4)


@pytest.mark.parametrize("case", CASES)
def test_matches_pytorch(case):
    torch = pytest.importorskip("torch")
    x, w, b, kw = _draw_case(case, seed=3)
    xt, wt, bt = (minise.Tensor(a, requires_grad=True) for a in (x, w, b))
    y = conv2d(xt, wt, bt, **kw)
    gy = np.random.default_rng(4).standard_normal(y.shape)
    y.backward(gy)
    tx, tw, tb = (torch.tensor(a, requires_grad=True) for a in (x, w, b))
    ty = torch.nn.functional.conv2d(tx, tw, tb, **kw)
    ty.backward(torch.tensor(gy))
    for ours, theirs in [(y.data, ty), (xt.grad, tx.grad), (wt.grad, tw.grad), (bt.grad, tb.grad)]:
        assert ours.shape == tuple(theirs.shape)
        assert_close_to_torch(ours, theirs)             # element-wise, 1e-6 relative


def _touched(L, k, s, p, d):
    """The smallest length ≥ L at which some tap of some window lands on the input, not only on
    padding: a dilated kernel on a tiny padded input can straddle it (taps at −1 and +1 around
    L = 1), and then y does not depend on x or w and a gradient check could not fail."""
    def hit(L):
        out = (L + 2 * p - d * (k - 1) - 1) // s + 1
        return any(0 <= i * s - p + t * d < L for i in range(out) for t in range(k))
    while not hit(L):
        L += 1
    return L


@hst.composite
def conv_problems(draw):
    """Tiny convolutions: every argument drawn, shapes kept valid (the kernel fits the padded input)."""
    groups = draw(hst.sampled_from([1, 1, 2, 3]))
    C_in = groups * draw(hst.integers(1, 4 // groups if groups < 4 else 1))
    C_out = groups * draw(hst.integers(1, max(1, 4 // groups)))
    kH, kW = draw(hst.integers(1, 3)), draw(hst.integers(1, 3))
    dilation = (draw(hst.integers(1, 2)), draw(hst.integers(1, 2)))
    padding = (draw(hst.integers(0, kH // 2)), draw(hst.integers(0, kW // 2)))
    stride = (draw(hst.integers(1, 4)), draw(hst.integers(1, 4)))
    span_h, span_w = dilation[0] * (kH - 1) + 1, dilation[1] * (kW - 1) + 1
    H = _touched(draw(hst.integers(max(1, span_h - 2 * padding[0]), 7)), kH, stride[0], padding[0], dilation[0])
    W = _touched(draw(hst.integers(max(1, span_w - 2 * padding[1]), 7)), kW, stride[1], padding[1], dilation[1])
    N = draw(hst.integers(1, 2))
    x = draw(st.arrays((N, C_in, H, W)))
    w = draw(st.arrays((C_out, C_in // groups, kH, kW)))
    b = draw(hst.none() | st.arrays((C_out,)))
    return x, w, b, dict(stride=stride, padding=padding, dilation=dilation, groups=groups)


def _check(op_class, x, w, b, kw, seed):
    inputs = {"x": minise.Tensor(x, requires_grad=True), "w": minise.Tensor(w, requires_grad=True)}
    if b is not None:
        inputs["b"] = minise.Tensor(b, requires_grad=True)
    return minise.gradcheck(lambda x, w, b=None: op_class(**kw)(x, w, b), inputs, seed=seed)


@pytest.mark.filterwarnings("error::minise.gradcheck.GradcheckWarning")     # every drawn check discriminates
@given(conv_problems(), st.seeds())
def test_backward_matches_finite_differences(problem, seed):
    x, w, b, kw = problem
    assert _check(Conv2dFunction, x, w, b, kw, seed)


class FlippedKernelGradient(Conv2dFunction):
    """Planted bug: gw of a convolution (flipped kernel) instead of a cross-correlation."""

    def backward(self, gy):
        gx, gw, gb = super().backward(gy)
        return gx, gw[:, :, ::-1, ::-1], gb


class DroppedDilation(Conv2dFunction):
    """Planted bug: backward forgets the dilation (taps read from and sent to adjacent pixels)."""

    def backward(self, gy):
        self.dilation = (1, 1)
        return super().backward(gy)


class DroppedStride(Conv2dFunction):
    """Planted bug: backward forgets the stride."""

    def backward(self, gy):
        self.stride = (1, 1)
        return super().backward(gy)


@pytest.mark.parametrize("planted, kw", [
    (FlippedKernelGradient, dict(stride=1, padding=1, dilation=1, groups=1)),
    (DroppedDilation, dict(stride=1, padding=1, dilation=2, groups=1)),
    (DroppedStride, dict(stride=2, padding=0, dilation=1, groups=2)),
])
def test_planted_wrong_backward_is_caught(planted, kw):
    rng = np.random.default_rng(5)
    x, b = rng.standard_normal((2, 2, 6, 6)), rng.standard_normal(2)
    w = rng.standard_normal((2, 2 // kw["groups"], 3, 3))
    assert _check(Conv2dFunction, x, w, b, kw, seed=6)
    with pytest.raises(minise.GradcheckError):
        _check(planted, x, w, b, kw, seed=6)


def reference_op(**kw):
    return Conv2dFunction(**kw, impl="reference")


@pytest.mark.filterwarnings("error::minise.gradcheck.GradcheckWarning")
@given(conv_problems(), st.seeds())
def test_reference_backward_matches_finite_differences(problem, seed):
    """The tap-loop implementation is an op of its own: its gradient is checked like the fast one's."""
    x, w, b, kw = problem
    assert _check(reference_op, x, w, b, kw, seed)


def _gx_with_the_kernel_flipped(gy, w, x_shape, *geometry, right=conv_reference.conv_transpose2d):
    return right(gy, w[:, :, ::-1, ::-1], x_shape, *geometry)


def _gw_from_the_other_group(x, gy, w_shape, *geometry, right=conv_reference.conv2d_weight_grad):
    return right(x[:, ::-1], gy, w_shape, *geometry)          # channels reversed: the groups swap


@pytest.mark.parametrize("name, planted, kw", [
    ("conv_transpose2d", _gx_with_the_kernel_flipped, dict(stride=1, padding=1, dilation=1, groups=1)),
    ("conv2d_weight_grad", _gw_from_the_other_group, dict(stride=2, padding=1, dilation=1, groups=2)),
])
def test_planted_wrong_reference_backward_is_caught(name, planted, kw, monkeypatch):
    rng = np.random.default_rng(5)
    x, b = rng.standard_normal((2, 2, 6, 6)), rng.standard_normal(2)
    w = rng.standard_normal((2, 2 // kw["groups"], 3, 3))
    assert _check(reference_op, x, w, b, kw, seed=6)
    monkeypatch.setattr(conv_reference, name, planted)
    with pytest.raises(minise.GradcheckError):
        _check(reference_op, x, w, b, kw, seed=6)


@pytest.mark.parametrize("case", CASES)
def test_reference_implementation_trains_like_the_fast_one(case):
    """F.conv2d(..., impl="reference"): the same y and gradients through the Tensor API."""
    x, w, b, kw = _draw_case(case, seed=16)
    gy = None
    results = []
    for impl in ("fast", "reference"):
        xt, wt, bt = (minise.Tensor(a, requires_grad=True) for a in (x, w, b))
        y = conv2d(xt, wt, bt, **kw, impl=impl)
        gy = np.random.default_rng(17).standard_normal(y.shape) if gy is None else gy
        y.backward(gy)
        results.append((y.data, xt.grad, wt.grad, bt.grad))
    for fast, slow in zip(*results):
        np.testing.assert_allclose(fast, slow, rtol=1e-10, atol=1e-12)
    with pytest.raises(ValueError, match="impl must be one of 'fast', 'reference', got 'slow'"):
        conv2d(x, w, impl="slow")


@pytest.mark.parametrize("x_shape, w_shape, kw, error, words", [
    ((2, 3, 5), (4, 3, 3, 3), {}, ValueError, ["4-D", "(2, 3, 5)"]),
    ((2, 3, 5, 5), (4, 3, 3), {}, ValueError, ["4-D", "(4, 3, 3)"]),
    ((2, 3, 5, 5), (4, 2, 3, 3), {}, ValueError, ["(2, 3, 5, 5)", "(4, 2, 3, 3)"]),
    ((2, 4, 5, 5), (6, 1, 3, 3), dict(groups=3), ValueError, ["groups=3", "(2, 4, 5, 5)"]),
    ((2, 3, 2, 2), (4, 3, 3, 3), {}, ValueError, ["(2, 3, 2, 2)", "(4, 3, 3, 3)", "padded"]),
    ((2, 3, 5, 5), (4, 3, 3, 3), dict(padding=0, dilation=3), ValueError, ["7×7", "5×5"]),
    ((2, 3, 5, 5), (4, 3, 3, 3), dict(stride=0), ValueError, ["stride"]),
    ((2, 3, 5, 5), (4, 3, 3, 3), dict(stride=(1, -2)), ValueError, ["stride"]),
    ((2, 3, 5, 5), (4, 3, 3, 3), dict(padding=-1), ValueError, ["padding"]),
    ((2, 3, 5, 5), (4, 3, 3, 3), dict(stride=1.5), TypeError, ["stride"]),
    ((2, 3, 5, 5), (4, 3, 3, 3), dict(groups=0), ValueError, ["groups"]),
    ((2, 3, 5, 5), (4, 3, 0, 3), {}, ValueError, ["at least 1×1", "0×3", "(4, 3, 0, 3)"]),
    ((2, 0, 5, 5), (4, 0, 3, 3), {}, ValueError, ["at least one channel", "(2, 0, 5, 5)", "(4, 0, 3, 3)"]),
    ((2, 3, 5, 5), (0, 3, 3, 3), {}, ValueError, ["at least one channel", "(0, 3, 3, 3)"]),
])
def test_bad_input_is_explained(x_shape, w_shape, kw, error, words):
    with pytest.raises(error) as info:
        conv2d(minise.Tensor(np.zeros(x_shape)), minise.Tensor(np.zeros(w_shape)), **kw)
    for word in words:
        assert word in str(info.value)


@pytest.mark.parametrize("kw, words", [
    (dict(kernel_size=0), ["kernel_size must be ≥ 1", "got 0"]),
    (dict(kernel_size=(3, 0)), ["kernel_size must be ≥ 1", "(3, 0)"]),
    (dict(kernel_size=3, stride=0), ["stride must be ≥ 1"]),
    (dict(kernel_size=3, dilation=0), ["dilation must be ≥ 1"]),
    (dict(kernel_size=3, padding=-1), ["padding must be ≥ 0"]),
])
def test_bad_layer_hyper_parameters_are_explained(kw, words):
    """nn.Conv2d(3, 4, 0) names the argument instead of dividing by a zero fan-in."""
    with pytest.raises(ValueError) as info:
        minise.nn.Conv2d(3, 4, **kw)
    assert str(info.value).startswith("Conv2d: ")
    for word in words:
        assert word in str(info.value)


def test_numpy_integers_and_python_data_are_accepted():
    rng = np.random.default_rng(0)
    x, w = rng.standard_normal((1, 4, 5, 5)), rng.standard_normal((4, 2, 3, 3))
    expected = conv2d(minise.Tensor(x), minise.Tensor(w), stride=2, padding=1, groups=2)
    ours = conv2d(minise.Tensor(x), minise.Tensor(w), stride=np.int64(2), padding=(np.int32(1), 1),
                  groups=np.int64(2))
    np.testing.assert_array_equal(ours.data, expected.data)
    x = x[:, :2]
    from_lists = conv2d(x.tolist(), w.astype(np.float32).tolist())      # Python data is float32
    np.testing.assert_allclose(from_lists.data, conv2d(minise.Tensor(x), minise.Tensor(w)).data, rtol=1e-5)


def test_dtype_mismatch_is_an_error():
    x, w = np.zeros((1, 2, 4, 4), dtype=np.float32), np.zeros((3, 2, 3, 3), dtype=np.float64)
    with pytest.raises(TypeError, match="float32.*float64"):
        conv2d(minise.Tensor(x), minise.Tensor(w))
    with pytest.raises(ValueError, match=r"\(3,\)"):
        conv2d(minise.Tensor(x), minise.Tensor(w.astype(np.float32)), minise.Tensor(np.zeros(4, np.float32)))


@pytest.mark.parametrize("case, impl", [(CASES[0], "fast"), (CASES[2], "fast"), (CASES[3], "fast"), (CASES[4], "fast"),
                                        (KERNEL_CORNERS_DEVICE[0], "fast"), (KERNEL_CORNERS_DEVICE[1], "fast"),
                                        (CASES[2], "reference")])
def test_device_matches_numpy(case, impl, device_backend):
    x, w, b, kw = _draw_case(case, seed=7)
    gy = np.random.default_rng(8).standard_normal(loop_conv2d(x, w, b, **_pairs(kw)).shape)
    results = []
    for to in (np.asarray, device_backend.asarray):
        xt, wt, bt = (minise.Tensor(to(a), requires_grad=True) for a in (x, w, b))
        y = conv2d(xt, wt, bt, **kw, impl=impl)
        y.backward(to(gy))
        results.append([device_backend.to_numpy(a) for a in (y.data, xt.grad, wt.grad, bt.grad)])
        assert y.device == ("cpu" if to is np.asarray else device_backend.device)
    for ours, host in zip(*results):
        np.testing.assert_allclose(ours, host, rtol=1e-12, atol=1e-12)


@given(conv_problems(), st.seeds())
def test_fast_matches_tap_loop_reference(problem, seed):
    x, w, b, kw = problem
    op = Conv2dFunction(**kw)
    op.needs_input_grad = (True, True, b is not None)
    y = op.forward(x, w, b)
    gy = np.random.default_rng(seed).standard_normal(y.shape)
    for ours, expected in zip((y, *op.backward(gy)), reference(x, w, b, gy, kw)):
        if ours is not None:
            np.testing.assert_allclose(ours, expected, rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("chunk_elements", [1, 2 * 2 * 9 * 25, 10 ** 9])   # one image, two, all at once
def test_batch_chunks_give_the_same_result(chunk_elements, monkeypatch):
    x, w, b, kw = _draw_case((5, 4, 4, 5, 5, 3, 3, 1, 1, 1, 2), seed=9)
    gy = np.random.default_rng(10).standard_normal((5, 4, 5, 5))
    monkeypatch.setattr(conv_im2col, "CHUNK_ELEMENTS", chunk_elements)
    op = Conv2dFunction(**kw)
    op.needs_input_grad = (True, True, True)
    y, (gx, gw, _) = op.forward(x, w, b), op.backward(gy)
    expected_y, expected_gx, expected_gw, _ = reference(x, w, b, gy, kw)
    for ours, expected in [(y, expected_y), (gx, expected_gx), (gw, expected_gw)]:
        np.testing.assert_allclose(ours, expected, rtol=1e-10, atol=1e-12)


# The fast kernel's own corners: stride-1 "wide rows" (windows read on past a row's end), the 1×1
# shortcut, and gx computed either as a correlation (stride 1) or by col2im (the rest).
# (N, C_in, C_out, H, W, kH, kW, stride, padding, dilation, groups)
KERNEL_CORNERS = [
    (2, 1, 2, 5, 3, 2, 2, 1, 0, (2, 1), 1),                    # no padding: a spare row is read
    (2, 2, 3, 4, 4, 1, 1, 1, 1, 1, 1),                         # 1×1 with padding: gx by col2im
    (2, 2, 2, 5, 5, 3, 3, 1, 3, 1, 1),                         # padding wider than the kernel
    (3, 4, 6, 5, 6, 1, 1, 1, 0, 1, 2),                         # 1×1 pointwise, grouped
    (2, 3, 4, 7, 6, 3, 2, (2, 1), (1, 0), 1, 1),               # wide rows with a row stride
    (2, 2, 4, 6, 7, 3, 3, (1, 2), 1, (1, 2), 2),               # column stride 2: exact rows
]


@pytest.mark.parametrize("case", KERNEL_CORNERS)
def test_kernel_corners_match_tap_loop_reference(case):
    x, w, b, kw = _draw_case(case, seed=11)
    op = Conv2dFunction(**kw)
    op.needs_input_grad = (True, True, True)
    y = op.forward(x, w, b)
    gy = np.random.default_rng(12).standard_normal(y.shape)
    for ours, expected in zip((y, *op.backward(gy)), reference(x, w, b, gy, kw)):
        assert ours.shape == expected.shape
        np.testing.assert_allclose(ours, expected, rtol=1e-10, atol=1e-12)


def _bounds_checked_as_strided(as_strided):
    """as_strided that refuses a view reaching past the memory of the array it views."""
    def checked(x, shape=None, strides=None, **kwargs):
        reach = sum((n - 1) * s for n, s in zip(shape, strides))           # last byte offset of the view
        extent = sum((n - 1) * s for n, s in zip(x.shape, x.strides))     # last byte offset of x
        assert min(strides) >= 0 and min(x.strides) >= 0 and reach <= extent, \
            f"view {shape} / {strides} reaches byte {reach}, past the end of x {x.shape} at byte {extent}"
        return as_strided(x, shape, strides, **kwargs)
    return checked


def _run_bounds_checked(x, w, b, kw, seed):
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(np.lib.stride_tricks, "as_strided", _bounds_checked_as_strided(np.lib.stride_tricks.as_strided))
        op = Conv2dFunction(**kw)
        op.needs_input_grad = (True, True, b is not None)
        y = op.forward(x, w, b)
        op.backward(np.random.default_rng(seed).standard_normal(y.shape))


@pytest.mark.parametrize("case", CASES + KERNEL_CORNERS)
def test_im2col_views_stay_inside_their_buffers(case):
    """as_strided does not check bounds: a window reaching past the buffer reads whatever memory
    lies there. Every view the kernel makes, forward and backward, must stay inside."""
    x, w, b, kw = _draw_case(case, seed=14)
    _run_bounds_checked(x, w, b, kw, seed=15)


@given(conv_problems(), st.seeds())
def test_im2col_views_stay_inside_their_buffers_drawn(problem, seed):
    _run_bounds_checked(*problem, seed)


def test_bounds_check_catches_a_view_past_the_end():
    checked = _bounds_checked_as_strided(np.lib.stride_tricks.as_strided)
    a = np.zeros((2, 3))
    assert checked(a, (2, 2), a.strides).shape == (2, 2)
    with pytest.raises(AssertionError, match="past the end"):
        checked(a, (2, 4), a.strides)


def test_work_no_gradient_needs_is_skipped():
    """With a constant x, backward gives only gw, and the op keeps no w (gx is what needs w);
    with a constant w, only gx, and the op keeps no x (gw is what needs x)."""
    x, w, b, kw = _draw_case(CASES[0], seed=13)
    xt, wt = minise.Tensor(x), minise.Tensor(w, requires_grad=True)
    y = conv2d(xt, wt, **kw)
    gy = np.random.default_rng(14).standard_normal(y.shape)
    assert y.creator.saved.w is None and y.creator.saved.w_shape == w.shape
    y.backward(gy)
    assert xt.grad is None and wt.grad is not None
    np.testing.assert_allclose(wt.grad, reference(x, w, None, gy, kw)[2], rtol=1e-10)
    xt, wt = minise.Tensor(x, requires_grad=True), minise.Tensor(w)
    y = conv2d(xt, wt, **kw)
    assert y.creator.saved.x is None and y.creator.saved.x_shape == x.shape
    y.backward(gy)
    assert wt.grad is None and xt.grad is not None
    np.testing.assert_allclose(xt.grad, reference(x, w, None, gy, kw)[1], rtol=1e-10)
