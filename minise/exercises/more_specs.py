"""The exercises after the first seven: sigmoid, batch norm on images, average pooling, grouped and
dilated convolution, the whole SE block. Same shape as :mod:`.specs`: every kind of case each run."""
import numpy as np

from ..functional.activation import relu, sigmoid, tanh
from ..functional.arithmetic import add
from ..functional.conv import conv2d
from ..functional.matmul import matmul
from ..functional.norm import batch_norm
from ..functional.pooling import avg_pool2d
from ..functional.reduction import mean
from ..functional.scale import scale_channels
from ..functional.shape import getitem
from .cases import Case, Exercise, dims


def sigmoid_cases(rng):
    shape = dims(rng, 3, 2, 5)
    huge = rng.choice([-1.0, 1.0], size=shape) * rng.uniform(600, 900, size=shape)
    return [Case(["x"], [rng.standard_normal(shape) * 3], [True]),
            Case(["x"], [np.where(rng.random(shape) < 0.5, huge, rng.standard_normal(shape))], [True],
                 note="logits beyond ±709, where e^(−x) overflows")]


def batchnorm2d_case(rng, n, c, h, w, offset=2.0):
    x = rng.standard_normal((n, c, h, w)) * rng.uniform(0.5, 3.0, size=(1, c, 1, 1)) \
        + rng.uniform(-offset, offset, size=(1, c, 1, 1))
    return Case(["x", "gamma", "beta"], [x, rng.uniform(0.5, 2.0, size=c), rng.standard_normal(c)],
                [True, True, True], {"eps": 1e-5}, float32=offset < 100 and n * h * w > 2)


def batchnorm2d_cases(rng):
    n, c, h, w = dims(rng, 4, 2, 4)
    return [batchnorm2d_case(rng, n, c, h, w), batchnorm2d_case(rng, 1, c, h, w),
            batchnorm2d_case(rng, n, c, 1, 1), batchnorm2d_case(rng, n, c, h, w, offset=1e3)]


def avgpool_case(rng, k, stride, padding, include, planes=False):
    """``planes``: N and C above 1."""
    shape = dims(rng, 2, 2 if planes else 1, 3) + dims(rng, 2, max(1, k - 2 * padding), k + 3)
    return Case(["x"], [rng.standard_normal(shape)], [True],
                {"kernel_size": k, "stride": stride, "padding": padding, "count_include_pad": include})


def avgpool_cases(rng):
    """count_include_pad both ways, with and without padding; overlapping windows and not."""
    return [avgpool_case(rng, 2, 2, 0, True, planes=True), avgpool_case(rng, 3, 2, 1, False),
            avgpool_case(rng, 3, 1, 1, True), avgpool_case(rng, 2, 1, 1, False), avgpool_case(rng, 3, 3, 0, False)]


def grouped_case(rng, kernel, stride, padding, dilation, groups, c_per_group=None, f_per_group=None, n=None):
    cg = c_per_group or int(rng.integers(1, 3))
    fg = f_per_group or int(rng.integers(1, 3))
    (kh, kw), n = kernel, n or int(rng.integers(1, 3))
    low = [max(1, dilation * (k - 1) + 1 - 2 * padding) for k in kernel]
    h, w = (int(rng.integers(lo, lo + 4)) for lo in low)
    x = rng.standard_normal((n, cg * groups, h, w))
    weight = rng.standard_normal((fg * groups, cg, kh, kw)) / np.sqrt(cg * kh * kw)
    return Case(["x", "w", "b"], [x, weight, rng.standard_normal(fg * groups)], [True, True, True],
                {"stride": stride, "padding": padding, "dilation": dilation, "groups": groups})


def grouped_cases(rng):
    """Groups 1, 2, 3 and depthwise; dilation 1, 2, 3; stride 1 and 2; padding 0 to 2; kH ≠ kW; a
    batch of 2 with 2 and 3 channels per group in and out (a sum over the batch, a mixed-up axis)."""
    return [grouped_case(rng, (3, 2), 1, 0, 2, 1), grouped_case(rng, (2, 3), 2, 1, 1, 2, 2, 3, n=2),
            grouped_case(rng, (3, 3), 2, 2, 2, 3, c_per_group=1, f_per_group=1),
            grouped_case(rng, (1, 2), 1, 1, 3, 2), grouped_case(rng, (2, 2), 2, 0, 1, 1)]


def se_case(rng, n, c, r, h, w):
    """The first hidden unit is active for every sample (x reaches the output through the squeeze, whatever
    the draw) and, where there are two or more, the second is inactive for every sample (ReLU's zero
    slope matters); every pre-activation at least 0.1 from ReLU's kink."""
    x, w1 = rng.standard_normal((n, c, h, w)), rng.standard_normal((c, r))
    pre = x.mean(axis=(2, 3)) @ w1                                   # (N, R) before b1
    b1 = rng.standard_normal(r) * 0.5
    b1[0] = 0.1 + rng.uniform(0, 0.5) - pre[:, 0].min()
    if r > 1:
        b1[1] = -0.1 - rng.uniform(0, 0.5) - pre[:, 1].max()
    shifts = 0.25 * np.array(sorted(range(-n - 1, n + 2), key=abs))  # each sample rules out one at most
    for j in range(2, r):                                            # the others: moved off the kink
        b1[j] += next(shift for shift in shifts if np.abs(pre[:, j] + b1[j] + shift).min() >= 0.1)
    return Case(["x", "w1", "b1", "w2", "b2"], [x, w1, b1, rng.standard_normal((r, c)), rng.standard_normal(c) * 0.5],
                [True] * 5)


def se_cases(rng):
    n, h, w = dims(rng, 3, 2, 4)
    return [se_case(rng, n, 4, 2, h, w), se_case(rng, 1, 6, 3, 1, 1), se_case(rng, n, 3, 1, h + 1, w)]


def se_block(x, w1, b1, w2, b2):
    h = relu(add(matmul(mean(x, axis=(2, 3)), w1), b1))             # (N, R)
    return scale_channels(x, sigmoid(add(matmul(h, w2), b2)))       # (N, C, H, W)


def program(rng, leaves, steps, reach=4):
    """A random graph's program: rows (op, a, b), each pair (add or mul of two recent leaves or tanh
    outputs, often the same node twice, sometimes an older one), then tanh of it. Operands stay within
    ±1, so every value stays within ±2, however long the program."""
    rows, bounded = [], list(range(leaves))                          # the leaves and the tanh outputs
    for _ in range(steps):
        count = leaves + len(rows)
        a = bounded[-1 - int(rng.integers(min(reach, len(bounded))))]
        b = a if rng.random() < 0.4 else bounded[int(rng.integers(len(bounded)))] if rng.random() < 0.2 else \
            bounded[-1 - int(rng.integers(min(reach, len(bounded))))]
        rows += [(int(rng.integers(0, 2)), a, b), (2, count, count)]
        bounded.append(count + 1)
    return np.array(rows, dtype=np.int64).reshape(-1, 3)


def uneven_diamond(rows, leaves, short, long):
    """``rows`` extended so that the new root reaches the old one, r, along two paths of different
    lengths: root = (short tanhs of r) · (long tanhs of r). A breadth-first walk from the root reaches r
    by the short path and sends r's gradient on before the long path's share has arrived; a backward
    that assigns instead of adding keeps one of r's two shares."""
    r = leaves + len(rows) - 1
    rows = [tuple(row) for row in rows]
    ends = []
    for length in (short, long):
        node = r
        for _ in range(length):
            rows.append((2, node, node))
            node = leaves + len(rows) - 1
        ends.append(node)
    rows.append((1, ends[0], ends[1]))
    return np.array(rows, dtype=np.int64).reshape(-1, 3)


def engine_case(rng, leaves, steps, note=""):
    """A random graph, ending in a diamond whose two sides differ in length (1 or 2 against 3 or 4)."""
    x = rng.uniform(-1, 1, size=leaves)
    short = int(rng.integers(1, 3))
    rows = uneven_diamond(program(rng, leaves, steps), leaves, short, short + int(rng.integers(2, 4)))
    return Case(["x", "program"], [x, rows], [True, False], note=note)


def engine_cases(rng):
    return [engine_case(rng, 3, 4, "paths of different lengths: a breadth-first order is wrong"),
            engine_case(rng, 5, 12, "nodes shared, leaves used twice"), engine_case(rng, 8, 16)]


def engine(x, program):
    nodes = [getitem(x, i) for i in range(x.shape[0])]
    for op, a, b in program:
        nodes.append(nodes[a] + nodes[b] if op == 0 else nodes[a] * nodes[b] if op == 1 else tanh(nodes[a]))
    return nodes[-1]


MORE = [
    Exercise("sigmoid_backward", "logistic sigmoid (from tanh, without overflow)", sigmoid, sigmoid_cases,
             lambda rng: Case(["x"], [rng.standard_normal((64, 64, 64)) * 4], [True])),
    Exercise("batchnorm2d_backward", "batch normalisation of images, x (N, C, H, W), training mode",
             lambda x, gamma, beta, eps: batch_norm(x, None, None, gamma, beta, training=True, eps=eps),
             batchnorm2d_cases, lambda rng: batchnorm2d_case(rng, 64, 32, 16, 16)),
    Exercise("avgpool_backward", "2-D average pooling (padding; count_include_pad both ways)",
             lambda x, kernel_size, stride, padding, count_include_pad:
             avg_pool2d(x, kernel_size, stride, padding, count_include_pad=count_include_pad), avgpool_cases,
             lambda rng: avgpool_case(rng, 3, 2, 1, False).replace(0, rng.standard_normal((16, 32, 32, 32)))),
    Exercise("conv2d_grouped_backward", "2-D convolution with dilation and groups",
             lambda x, w, b, **hyper: conv2d(x, w, b, **hyper), grouped_cases,
             lambda rng: grouped_case(rng, (3, 3), 1, 2, 2, 4, c_per_group=16, f_per_group=8).replace(
                 0, rng.standard_normal((2, 64, 16, 16)))),
    Exercise("se_block_backward", "the whole Squeeze-and-Excitation block", se_block, se_cases,
             lambda rng: se_case(rng, 16, 64, 16, 16, 16)),
    Exercise("engine_backward", "a tiny autograd engine's backward: reverse topological order, shared nodes",
             engine, engine_cases, lambda rng: engine_case(rng, 16, 1500)),
]
