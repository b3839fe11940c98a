"""Fast forms against the readable ones they replace, on NumPy and on the strict device stand-in.

Where an op computes something in a less obvious way for speed (one reused buffer instead of
temporaries, a batched matrix product instead of multiply-then-sum), the obvious form is kept as
the reference and the fast one must agree with it, and keep float32 float32.
"""
import numpy as np
import pytest

import minise
from minise import Tensor
from minise import functional as F
from minise.functional.activation import ReLUFunction
from minise.functional.norm import (
    BatchNorm2dFunction,
    batch_norm_backward_reference,
    channel_sum,
    channel_sum_of_products,
)
from minise.functional.pooling import MaxPool2dFunction
from minise.functional.scale import ScaleChannelsFunction, channel_dot

SHAPES = [(4, 3), (3, 5, 4, 6), (2, 7, 1, 1)]


def _random(rng, shape, dtype):
    return rng.standard_normal(shape).astype(dtype)


@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("training", [True, False])
@pytest.mark.parametrize("with_weight", [True, False])
def test_batch_norm_backward_matches_the_three_term_formula(device_backend, shape, training, with_weight):
    rng = np.random.default_rng(sum(shape) + training)
    c = shape[1]
    x = device_backend.asarray(_random(rng, shape, np.float64) * 2 + 1)
    gy = device_backend.asarray(_random(rng, shape, np.float64))
    running = [device_backend.asarray(rng.standard_normal(c)), device_backend.asarray(rng.uniform(0.5, 2, c))]
    weight = device_backend.asarray(rng.uniform(0.5, 1.5, c)) if with_weight else None
    bias = device_backend.asarray(rng.standard_normal(c))
    op = BatchNorm2dFunction(training, 0.1, 1e-5)
    op.needs_input_grad = (True, False, False, with_weight, True)
    y = op.forward(x, *running, weight, bias)
    x_hat, inv_std = op.saved.x_hat, op.saved.inv_std
    per_channel, axes = (1, c) + (1,) * (len(shape) - 2), (0,) + tuple(range(2, len(shape)))
    expected_y = x_hat * (1 if weight is None else weight.reshape(per_channel)) + bias.reshape(per_channel)
    np.testing.assert_allclose(device_backend.to_numpy(y), device_backend.to_numpy(expected_y), rtol=1e-12, atol=1e-12)
    gx, _, _, gw, gb = op.backward(gy)
    expected = batch_norm_backward_reference(gy, x_hat, inv_std, weight, training)
    np.testing.assert_allclose(device_backend.to_numpy(gx), device_backend.to_numpy(expected), rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(device_backend.to_numpy(gb), device_backend.to_numpy(gy.sum(axis=axes)), rtol=1e-12)
    if with_weight:
        np.testing.assert_allclose(device_backend.to_numpy(gw), device_backend.to_numpy((gy * x_hat).sum(axis=axes)),
                                   rtol=1e-9, atol=1e-12)


def test_batch_norm_reference_catches_a_wrong_fast_form():
    """The comparison above can fail: a backward that drops the x̂·gγ/m term differs from the reference."""
    rng = np.random.default_rng(0)
    x, gy = rng.standard_normal((4, 3, 2, 2)), rng.standard_normal((4, 3, 2, 2))
    op = BatchNorm2dFunction(True, 0.1, 1e-5)
    op.needs_input_grad = (True, False, False, False, False)
    op.forward(x, None, None, None, None)
    x_hat, inv_std = op.saved.x_hat, op.saved.inv_std
    m = x.size // 3
    wrong = inv_std.reshape(1, 3, 1, 1) * (gy - gy.sum(axis=(0, 2, 3), keepdims=True) / m)
    right = batch_norm_backward_reference(gy, x_hat, inv_std, None, True)
    assert np.allclose(op.backward(gy)[0], right)
    assert not np.allclose(wrong, right, rtol=1e-3)


@pytest.mark.parametrize("training", [True, False])
def test_batch_norm_keeps_float32(training):
    rng = np.random.default_rng(1)
    x = Tensor(_random(rng, (4, 3, 5, 5), np.float32), requires_grad=True)
    w, b = (Tensor(np.ones(3, np.float32), requires_grad=True), Tensor(np.zeros(3, np.float32), requires_grad=True))
    y = minise.functional.batch_norm(x, np.zeros(3, np.float32), np.ones(3, np.float32), w, b, training=training)
    y.backward(_random(rng, y.shape, np.float32))
    assert y.dtype == x.grad.dtype == w.grad.dtype == b.grad.dtype == np.float32


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_channel_dot_is_the_sum_of_the_product(device_backend, dtype):
    rng = np.random.default_rng(2)
    a, b = (device_backend.asarray(_random(rng, (3, 4, 5, 6), dtype)) for _ in range(2))
    got = channel_dot(a, b)
    assert got.shape == (3, 4) and got.dtype == dtype
    tolerance = 1e-5 if dtype == np.float32 else 1e-12
    np.testing.assert_allclose(device_backend.to_numpy(got), device_backend.to_numpy((a * b).sum(axis=(2, 3))),
                               rtol=tolerance, atol=tolerance)


def test_channel_dot_of_non_contiguous_inputs():
    rng = np.random.default_rng(3)
    a = rng.standard_normal((3, 4, 6, 10))[:, :, :, ::2]             # (3, 4, 6, 5), strided
    b = rng.standard_normal((3, 4, 5, 6)).transpose(0, 1, 3, 2)        # (3, 4, 6, 5), transposed
    np.testing.assert_allclose(channel_dot(a, b), (a * b).sum(axis=(2, 3)), rtol=1e-12)


def test_scale_channels_gradient_of_s_is_the_channel_sum(device_backend):
    rng = np.random.default_rng(4)
    x, gy = (device_backend.asarray(rng.standard_normal((2, 3, 4, 4))) for _ in range(2))
    s = device_backend.asarray(rng.standard_normal((2, 3)))
    op = ScaleChannelsFunction()
    op.needs_input_grad = (True, True)
    op.forward(x, s)
    gx, gs = op.backward(gy)
    np.testing.assert_allclose(device_backend.to_numpy(gs), device_backend.to_numpy((gy * x).sum(axis=(2, 3))),
                               rtol=1e-12)


def test_relu_backward_from_its_output_is_the_mask_of_its_input(device_backend):
    rng = np.random.default_rng(5)
    x = device_backend.asarray(rng.standard_normal((3, 4, 5)))
    gy = device_backend.asarray(rng.standard_normal((3, 4, 5)))
    op = ReLUFunction()
    op.forward(x)
    (gx,) = op.backward(gy)
    np.testing.assert_array_equal(device_backend.to_numpy(gx), device_backend.to_numpy(gy * (x > 0)))


@pytest.mark.parametrize("shape", SHAPES)
def test_channel_sums_are_sums_over_every_axis_but_the_channels(device_backend, shape):
    rng = np.random.default_rng(6)
    a, b = (device_backend.asarray(rng.standard_normal(shape)) for _ in range(2))
    axes = (0,) + tuple(range(2, len(shape)))
    np.testing.assert_allclose(device_backend.to_numpy(channel_sum(a)), device_backend.to_numpy(a.sum(axis=axes)),
                               rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(device_backend.to_numpy(channel_sum_of_products(a, b)),
                               device_backend.to_numpy((a * b).sum(axis=axes)), rtol=1e-12, atol=1e-12)


def _float32_ops():
    """(name, function of float32 Tensors) for every op of these files; each must stay float32."""
    x4 = (2, 3, 6, 6)
    return [
        ("max_pool2d", x4, lambda x: F.max_pool2d(x, 3, 2, 1)),
        ("avg_pool2d", x4, lambda x: F.avg_pool2d(x, 3, 2, 1)),
        ("avg_pool2d exclude pad", x4, lambda x: F.avg_pool2d(x, 3, 2, 1, count_include_pad=False)),
        ("adaptive_avg_pool2d 1", x4, lambda x: F.adaptive_avg_pool2d(x, 1)),
        ("adaptive_avg_pool2d 4", x4, lambda x: F.adaptive_avg_pool2d(x, 4)),
        ("adaptive_max_pool2d 4", x4, lambda x: F.adaptive_max_pool2d(x, 4)),
        ("scale_channels", x4, lambda x: F.scale_channels(x, x.mean(axis=(2, 3)))),
        ("batch_norm", x4, lambda x: F.batch_norm(x, None, None, training=True)),
        ("relu", x4, F.relu), ("sigmoid", x4, F.sigmoid), ("tanh", x4, F.tanh),
        ("softmax", (4, 5), lambda x: F.softmax(x, 1)), ("log_softmax", (4, 5), lambda x: F.log_softmax(x, 1)),
        ("linear", (4, 5), lambda x: F.linear(x, x[:3], x[0, :3])),
        ("cross_entropy", (4, 5), lambda x: F.cross_entropy(x, np.array([0, 1, 4, 2]), label_smoothing=0.1)),
        ("nll_loss", (4, 5), lambda x: F.nll_loss(x, np.array([0, 1, 4, 2]))),
        ("arithmetic", (4, 5), lambda x: ((x * 2.5 + 1) / 3 - x ** 2) @ x.T),
        ("exp log", (4, 5), lambda x: (x * x + 1).log().exp()),
        ("reductions", (4, 5), lambda x: x.sum(axis=0) + x.mean(axis=0) + x.max(axis=0)),
        ("shape", x4, lambda x: x.reshape(2, -1).transpose(1, 0)[1:5].flatten()),
    ]


@pytest.mark.parametrize("name, shape, op", _float32_ops(), ids=[name for name, _, _ in _float32_ops()])
def test_float32_stays_float32(name, shape, op):
    """No op upcasts: float32 in gives float32 out, and float32 gradients."""
    rng = np.random.default_rng(7)
    x = Tensor(rng.standard_normal(shape).astype(np.float32), requires_grad=True)
    y = op(x)
    assert y.dtype == np.float32, f"{name} returned {y.dtype}"
    y.backward(rng.standard_normal(y.shape).astype(np.float32))
    assert x.grad.dtype == np.float32, f"{name} gave a {x.grad.dtype} gradient"


def test_leaf_gradients_are_never_shared_arrays():
    """Leaves take the engine's gradient array without a copy only when nothing else can see it."""
    a, b = (Tensor(np.ones(3, np.float32), requires_grad=True) for _ in range(2))
    (a + b).backward(np.full(3, 2, np.float32))            # Add hands the same array to both inputs
    assert a.grad is not b.grad
    a.grad[...] = 0
    assert b.grad.tolist() == [2, 2, 2]

    seed = np.arange(3, dtype=np.float32)
    c = Tensor(np.ones(3, np.float32), requires_grad=True)
    (c + 0).backward(seed)                                  # the gradient passed to backward()
    c.grad[...] = 7
    assert seed.tolist() == [0, 1, 2]

    d = Tensor(np.ones(3, np.float32), requires_grad=True)
    hidden = d * 1
    hidden.retain_grad()
    (hidden + d).backward(seed)                             # Add's gy is also hidden's retained grad
    d.grad[...] = 0
    assert hidden.grad.tolist() == [0, 1, 2]


def test_leaf_gradients_are_writeable_and_accumulate():
    x = Tensor(np.ones((2, 3), np.float32), requires_grad=True)
    (x * 2).sum().backward()                                 # Sum's backward is a read-only broadcast view
    assert x.grad.flags.writeable and x.grad.tolist() == [[2, 2, 2]] * 2
    first = x.grad
    (x * 3).sum().backward()
    assert x.grad.tolist() == [[5, 5, 5]] * 2 and first.tolist() == [[2, 2, 2]] * 2


# max pooling: the two-step window max and the scatter by flat index against the tap loops
POOL_CASES = [((2, 3, 9, 8), dict(kernel_size=3, stride=2, padding=1)),                      # overlapping windows
              ((2, 2, 7, 6), dict(kernel_size=3, stride=2, padding=1, ceil_mode=True)),     # hanging off
              ((1, 2, 8, 9), dict(kernel_size=(2, 3), stride=(1, 2), padding=(1, 1))),       # up to 6 windows a pixel
              ((2, 2, 9, 7), dict(kernel_size=2, stride=3)),                                 # gaps between windows
              ((1, 3, 5, 5), dict(kernel_size=5, stride=1, padding=2))]


@pytest.mark.parametrize("shape, kw", POOL_CASES)
@pytest.mark.parametrize("values", ["ties", "random", "nan", "-inf"])
def test_max_pool_fast_paths_equal_their_references_to_the_bit(shape, kw, values):
    rng = np.random.default_rng(7)
    x = rng.integers(0, 3, size=shape).astype(np.float64) if values == "ties" else rng.standard_normal(shape)
    if values in ("nan", "-inf"):
        x[0, 0, 1:4, 2:4] = np.nan if values == "nan" else -np.inf
        x[-1, -1, -1, -1] = np.nan if values == "nan" else -np.inf
    op = MaxPool2dFunction(**kw)
    out = op.out_size(x.shape)
    x_pad = op.pad(x, op.padded_size(x.shape, out), -np.inf)
    best, winner = np.empty(shape[:2] + out), np.empty(shape[:2] + out, np.uint8)
    best_ref, winner_ref = np.empty_like(best), np.empty_like(winner)
    op.window_max(x_pad, best, winner)
    op.window_max_reference(x_pad, best_ref, winner_ref)
    np.testing.assert_array_equal(best, best_ref)
    np.testing.assert_array_equal(winner, winner_ref)
    gy = rng.standard_normal(best.shape)
    padded = x_pad.shape[2:]
    np.testing.assert_array_equal(op.scatter_to_winners(gy, winner, padded),
                                  op.route_to_winners_reference(gy, winner, padded))


def test_the_order_of_the_scatter_matters_and_is_the_tap_loops():
    """All nine 3×3 windows of a 5×5 image share their maximum, the centre; their gradients
    1, 1e16, −1e16 add up to 0 in the order of the windows and to 1 in the order of the taps.
    The scatter gives the tap loop's 1; a scatter in window order would give 0."""
    op = MaxPool2dFunction(3, 1)
    x = np.zeros((1, 1, 5, 5))
    x[0, 0, 2, 2] = 1.0
    out = op.out_size(x.shape)
    best, winner = np.empty((1, 1) + out), np.empty((1, 1) + out, np.uint8)
    op.window_max(x, best, winner)
    gy = np.zeros((1, 1) + out)
    gy.ravel()[:3] = [1.0, 1e16, -1e16]
    (i, j), (p, q) = np.divmod(np.arange(9), 3), np.divmod(winner.ravel(), 3)
    pixel = (i + p) * 5 + (j + q)                                   # where each window's gradient goes
    assert set(pixel) == {12}
    window_order = np.zeros(x.size)
    np.add.at(window_order, pixel, gy.ravel())
    assert window_order[12] == 0.0
    assert op.scatter_to_winners(gy, winner, (5, 5))[0, 0, 2, 2] == 1.0
    assert op.route_to_winners_reference(gy, winner, (5, 5))[0, 0, 2, 2] == 1.0
