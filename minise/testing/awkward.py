"""Awkward-shape gradient checks of the built-in ops: where a checker could raise a false alarm.

Size-1 axes, broadcasting, non-contiguous views made inside the graph (a transposed or strided
slice feeding the next op), strides larger than the kernel, padding, dilation, groups, ceil_mode,
inputs of one pixel. Inputs come from :func:`minise.testing.strategies.make_array`: tie-free for
max and max-pooling, away from zero for ReLU, positive for log, so no element sits on a kink.
Every case is right, so a gradient checker must pass all of them without a warning.

    for name, fn, inputs in cases():
        assert minise.gradcheck(fn, inputs, seed=0)
"""
from .. import functional as F
from ..tensor import Tensor
from .strategies import make_array


def leaf(shape, seed, **options):
    return Tensor(make_array(shape, seed, **options), requires_grad=True)


def _conv_cases():
    # (x shape, C_out, kernel, stride, padding, dilation, groups)
    configs = [((1, 1, 1, 1), 1, 1, 1, 0, 1, 1), ((2, 3, 5, 5), 2, 3, 1, 0, 1, 1),
               ((1, 2, 7, 6), 3, 2, 3, 0, 1, 1), ((2, 2, 4, 5), 2, 3, 1, 1, 1, 1),
               ((1, 2, 7, 7), 2, 3, 2, 2, 2, 1), ((1, 4, 5, 4), 6, 3, 1, 1, 1, 2),
               ((1, 4, 3, 3), 4, 1, 2, 0, 1, 4), ((2, 1, 1, 6), 2, (1, 3), (1, 2), (0, 1), 1, 1),
               ((1, 3, 6, 1), 1, (2, 1), 4, 0, 1, 1), ((1, 2, 5, 5), 2, 2, 3, 1, 2, 2)]
    out = []
    for k, (shape, c_out, kernel, stride, padding, dilation, groups) in enumerate(configs):
        kh, kw = kernel if isinstance(kernel, tuple) else (kernel, kernel)
        w_shape = (c_out, shape[1] // groups, kh, kw)

        def fn(x, w, b, s=stride, p=padding, d=dilation, g=groups):
            return F.conv2d(x, w, b, stride=s, padding=p, dilation=d, groups=g)
        out.append((f"conv2d#{k} {shape} k={kernel} s={stride} p={padding} d={dilation} g={groups}", fn,
                    {"x": leaf(shape, k), "w": leaf(w_shape, 100 + k), "b": leaf((c_out,), 200 + k)}))
    return out


def _pool_cases():
    # (x shape, kernel, stride, padding, ceil_mode)
    configs = [((1, 1, 1, 1), 1, 1, 0, False), ((2, 2, 4, 4), 2, None, 0, False), ((1, 2, 5, 5), 2, 3, 0, False),
               ((1, 1, 5, 6), 3, 2, 1, True), ((1, 2, 7, 5), (3, 2), (2, 1), (1, 0), False),
               ((2, 1, 5, 5), 2, 2, 0, True), ((1, 1, 3, 8), (1, 3), (1, 4), 0, True)]
    out = []
    for k, (shape, kernel, stride, padding, ceil) in enumerate(configs):
        for name in ("max_pool2d", "avg_pool2d"):
            pool = getattr(F, name)
            out.append((f"{name}#{k} {shape} k={kernel} s={stride} p={padding} ceil={ceil}",
                        lambda x, pool=pool, a=(kernel, stride, padding), ceil=ceil: pool(x, *a, ceil_mode=ceil),
                        {"x": leaf(shape, 300 + k, tie_free=True)}))
    for k, (shape, size) in enumerate([((1, 2, 5, 7), (2, 3)), ((2, 1, 3, 3), 1), ((1, 1, 4, 4), (4, 1))]):
        for name in ("adaptive_avg_pool2d", "adaptive_max_pool2d"):
            pool = getattr(F, name)
            out.append((f"{name}#{k} {shape} -> {size}", lambda x, pool=pool, s=size: pool(x, s),
                        {"x": leaf(shape, 400 + k, tie_free=True)}))
    return out


def _norm_cases():
    out = []
    for k, shape in enumerate([(2, 3), (3, 1), (2, 2, 1, 1), (2, 3, 2, 3), (1, 2, 3, 1)]):
        c = shape[1]

        def fn(x, gamma, beta):
            return F.batch_norm(x, None, None, gamma, beta, training=True)
        out.append((f"batch_norm#{k} {shape}", fn,
                    {"x": leaf(shape, 500 + k), "gamma": leaf((c,), 510 + k), "beta": leaf((c,), 520 + k)}))
    return out


def _vector_cases():
    out = []
    for k, (n, i, o) in enumerate([(1, 1, 1), (3, 4, 2), (2, 1, 5), (4, 3, 1)]):
        out.append((f"linear#{k} ({n}, {i}) -> {o}", F.linear,
                    {"x": leaf((n, i), 600 + k), "w": leaf((o, i), 610 + k), "b": leaf((o,), 620 + k)}))
    for k, shape in enumerate([(1, 3), (3, 5), (2, 1, 4)]):        # softmax over one element is constant
        x = {"x": leaf(shape, 630 + k)}
        out += [(f"softmax#{k} {shape}", lambda t: F.softmax(t, -1), x),
                (f"log_softmax#{k} {shape}", lambda t: F.log_softmax(t, -1), x),
                (f"sigmoid#{k} {shape}", F.sigmoid, x), (f"tanh#{k} {shape}", F.tanh, x),
                (f"relu#{k} {shape}", F.relu, {"x": leaf(shape, 640 + k, away_from_zero=0.1)})]
    for k, (n, c) in enumerate([(1, 2), (1, 3), (4, 5)]):
        target = Tensor(make_array((n,), 650 + k, 0, c - 1e-9).astype("int64"))
        out.append((f"cross_entropy#{k} ({n}, {c})", lambda t, y=target: F.cross_entropy(t, y),
                    {"x": leaf((n, c), 660 + k)}))
    return out


def _graph_cases():
    """Broadcasting, non-contiguous views and reductions, composed."""
    pairs = [((3, 1), (1, 4)), ((2, 3, 1), (3, 4)), ((1,), (2, 3)), ((2, 1, 3), (1, 1, 1))]
    out = []
    for k, (a, b) in enumerate(pairs):
        ins = {"a": leaf(a, 700 + k), "b": leaf(b, 710 + k, low=0.5, high=2.0)}
        out += [(f"add#{k} {a}+{b}", F.add, ins), (f"mul#{k} {a}*{b}", F.mul, ins),
                (f"div#{k} {a}/{b}", F.div, ins)]
    x = {"x": leaf((4, 6), 720)}
    out += [
        ("transposed view -> relu·x", lambda t: F.mul(F.transpose(t, 1, 0), F.transpose(t, 1, 0)), x),
        ("strided slice -> matmul", lambda t: F.matmul(F.getitem(t, (slice(None), slice(None, None, 2))),
                                                        F.transpose(F.getitem(t, (slice(1, None, 2), slice(0, 3))),
                                                                    1, 0)), x),
        ("sum over axis 0 keepdim", lambda t: F.sum(t, 0, True), x),
        ("mean over axis 1", lambda t: F.mean(t, 1), x),
        ("mean of everything", F.mean, x),
        ("max over axis 1", lambda t: F.max(t, 1), {"x": leaf((4, 6), 721, tie_free=True)}),
        ("flatten after reshape", lambda t: F.flatten(F.reshape(t, 2, 3, 4), 1), x),
        ("exp and log", lambda t: F.log(F.exp(t)), x),
        ("pow", F.pow, {"a": leaf((3, 2), 722, low=0.5, high=2.0), "b": leaf((3, 2), 723)}),
        ("scale_channels", F.scale_channels, {"x": leaf((2, 3, 2, 1), 724), "s": leaf((2, 3), 725)}),
        ("tiny input 1e-4 scale", lambda t: F.tanh(F.mul(t, 1e-4)), x),
    ]
    return out


def cases():
    """(name, fn, dict of float64 input Tensors) for every awkward case."""
    return _conv_cases() + _pool_cases() + _norm_cases() + _vector_cases() + _graph_cases()
