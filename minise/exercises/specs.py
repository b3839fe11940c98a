"""The seven first exercises: their cases and their right answers (minise's own ops).

Each ``*_cases`` lists every kind of hyper-parameters the layer has, drawn afresh each run; each
``*_large`` is the timed case, sized so that measuring the gradient with finite differences costs
far more than the forwards a derived backward needs (see :mod:`minise.exercises.checks`).
"""
import numpy as np

from ..functional.activation import relu
from ..functional.conv import conv2d
from ..functional.linear import linear
from ..functional.loss import cross_entropy
from ..functional.norm import batch_norm
from ..functional.pooling import max_pool2d
from ..functional.scale import scale_channels
from .cases import Case, Exercise, at_zero, away_from_zero, dims, shared_winner, tie_free, with_ties
from .checker_exercise import CHECKER
from .more_specs import MORE


def relu_cases(rng):
    x1, x2, x4 = (away_from_zero(rng, dims(rng, d, 2, 5)) for d in (1, 2, 4))
    for x in (x1, x2, x4):
        x.flat[0], x.flat[-1] = abs(x.flat[0]), -abs(x.flat[-1])      # both sides of the kink, always
    return [Case(["x"], [x], [True]) for x in (x1, x2, x4)]


def relu_kinks(rng):
    return [c.replace(0, at_zero(rng, c.arrays[0]), "x exactly 0 in places, and ±1e-12, ±1e-300, ±5e-324")
            for c in relu_cases(rng)[1:]]


def linear_case(rng, n, d_in, d_out):
    arrays = [rng.standard_normal((n, d_in)), rng.standard_normal((d_out, d_in)) / np.sqrt(d_in),
              rng.standard_normal(d_out)]
    return Case(["x", "w", "b"], arrays, [True, True, True])


def linear_cases(rng):
    n, d_in, d_out = dims(rng, 3, 2, 6)
    return [linear_case(rng, n, d_in, d_out), linear_case(rng, 1, d_in, d_out), linear_case(rng, n, d_in, 1)]


def cross_entropy_case(rng, n, classes, shift=0.0, note=""):
    x = rng.standard_normal((n, classes)) * rng.uniform(0.5, 3.0) + shift
    y = rng.integers(0, classes, size=n).astype(np.int64)
    return Case(["x", "y"], [x, y], [True, False], note=note)


def cross_entropy_cases(rng):
    n, classes = dims(rng, 2, 2, 7)
    shifts = rng.choice([-1.0, 1.0], size=(n, 1)) * rng.uniform(750, 1000, size=(n, 1))
    return [cross_entropy_case(rng, n, classes), cross_entropy_case(rng, 1, 2),
            cross_entropy_case(rng, n, classes, shifts, "logits near ±1000: exp overflows without the max-shift")]


def batchnorm_case(rng, n, d, offset=2.0):
    x = rng.standard_normal((n, d)) * rng.uniform(0.5, 3.0, size=d) + rng.uniform(-offset, offset, size=d)
    return Case(["x", "gamma", "beta"], [x, rng.uniform(0.5, 2.0, size=d), rng.standard_normal(d)],
                [True, True, True], {"eps": 1e-5}, float32=offset < 100 and n > 2)


def batchnorm_cases(rng):
    n, d = int(rng.integers(3, 7)), int(rng.integers(2, 6))
    return [batchnorm_case(rng, n, d), batchnorm_case(rng, 2, d), batchnorm_case(rng, n, d, offset=1e3)]


def scale_case(rng, n, c, h, w):
    return Case(["x", "s"], [rng.standard_normal((n, c, h, w)), rng.uniform(0.05, 0.95, size=(n, c))], [True, True])


def scale_cases(rng):
    n, c, h, w = dims(rng, 4, 2, 4)
    return [scale_case(rng, n, c, h, w), scale_case(rng, n, c, 1, 1), scale_case(rng, 1, 1, h, w)]


def conv_case(rng, kernel, stride, padding, extra=4, sizes=None):
    """``sizes``: (N, C, F), by default each 1 to 3."""
    n, c, f = sizes or dims(rng, 3, 1, 3)
    (kh, kw) = kernel
    h, w = (int(rng.integers(max(1, k - 2 * padding), max(1, k - 2 * padding) + extra + 1)) for k in kernel)
    x = rng.standard_normal((n, c, h, w))
    weight = rng.standard_normal((f, c, kh, kw)) / np.sqrt(c * kh * kw)
    return Case(["x", "w", "b"], [x, weight, rng.standard_normal(f)], [True, True, True],
                {"stride": stride, "padding": padding})


def conv_cases(rng):
    """kH ≠ kW; stride 1 and 2; padding 0, 1 and 2; overlapping windows and not; a last row left over;
    N, C and F all different and above 1 in the first case (a sum over the batch, a mixed-up axis)."""
    sizes = tuple(int(v) for v in rng.permutation([2, 3, 4]))
    cases = [conv_case(rng, (3, 2), 1, 0, sizes=sizes), conv_case(rng, (2, 3), 2, 1), conv_case(rng, (2, 2), 2, 0),
             conv_case(rng, (3, 3), 1, 2), conv_case(rng, (1, 3), 2, 1)]
    x = cases[2].arrays[0]
    if x.shape[2] % 2 == 0:                          # an odd height: the last row is in no window
        cases[2] = cases[2].replace(0, np.concatenate([x, x[:, :, :1]], axis=2))
    return cases


def conv_large(rng):
    x = rng.standard_normal((2, 64, 16, 16))
    weight = rng.standard_normal((32, 64, 3, 3)) / np.sqrt(64 * 9)
    return Case(["x", "w", "b"], [x, weight, rng.standard_normal(32)], [True, True, True], {"stride": 1, "padding": 1})


def pool_case(rng, kernel, stride, leftover=False, planes=False):
    """Overlapping windows (stride < kernel) are at least two a side, and each plane's maximum wins
    four of them; ``leftover``: a last row and column in no window; ``planes``: N and C above 1."""
    if stride < kernel:
        size = dims(rng, 2, kernel + stride, kernel + 4)
    elif leftover:
        size = tuple(kernel * int(m) + 1 for m in rng.integers(1, 3, size=2))
    else:
        size = dims(rng, 2, kernel, kernel + 4)
    x = tie_free(rng, dims(rng, 2, 2 if planes else 1, 3) + size)
    if stride < kernel:
        x = shared_winner(x, kernel, stride)
    return Case(["x"], [x], [True], {"kernel_size": kernel, "stride": stride})


def pool_cases(rng):
    """Overlapping windows (stride < kernel), with an element that wins several, and not; a last row
    and column left over."""
    return [pool_case(rng, 2, 1, planes=True), pool_case(rng, 3, 2), pool_case(rng, 2, 2, leftover=True),
            pool_case(rng, 3, 3)]


def pool_kinks(rng):
    cases = pool_cases(rng)[:2]
    return [c.replace(0, with_ties(rng, c.arrays[0], c.kwargs["kernel_size"], c.kwargs["stride"], exact),
                      "exact ties in some windows" if exact else "runners-up a few ulps below the maximum")
            for c in cases for exact in (True, False)]


EXERCISES = {e.name: e for e in [
    Exercise("relu_backward", "ReLU", relu, relu_cases,
             lambda rng: Case(["x"], [away_from_zero(rng, (32, 16, 16, 16))], [True]), relu_kinks,
             "at x = 0 exactly the exercise's convention is relu'(0) = 0, as in PyTorch: gx = gout · [x > 0]"),
    Exercise("linear_backward", "fully connected layer y = x wᵀ + b", linear, linear_cases,
             lambda rng: linear_case(rng, 256, 1024, 256)),
    Exercise("softmax_cross_entropy_backward", "softmax + cross-entropy (mean over the batch)",
             lambda x, y: cross_entropy(x, y), cross_entropy_cases, lambda rng: cross_entropy_case(rng, 256, 4096)),
    Exercise("batchnorm_backward", "batch normalisation, training mode, x (N, D)",
             lambda x, gamma, beta, eps: batch_norm(x, None, None, gamma, beta, training=True, eps=eps),
             batchnorm_cases, lambda rng: batchnorm_case(rng, 4096, 64)),
    Exercise("scale_channels_backward", "the SE block's channel scaling y = x · s", scale_channels, scale_cases,
             lambda rng: scale_case(rng, 16, 64, 16, 16)),
    Exercise("conv2d_backward", "2-D convolution (stride, zero padding)",
             lambda x, w, b, stride, padding: conv2d(x, w, b, stride=stride, padding=padding), conv_cases, conv_large),
    Exercise("maxpool_backward", "2-D max pooling", lambda x, kernel_size, stride: max_pool2d(x, kernel_size, stride),
             pool_cases,
             lambda rng: Case(["x"], [tie_free(rng, (8, 16, 32, 32))], [True], {"kernel_size": 2, "stride": 2}),
             pool_kinks, "with a tie, the first maximum of the window in row-major order (smallest row, then "
             "smallest column) gets all of gout, as in PyTorch; the other tied elements get nothing from it"),
] + MORE + [CHECKER]}
