"""What each exercise is: how to draw a fresh random case, and the right answer (minise's own ops).

An exercise is a layer written as a pair of NumPy functions, the way courses write them::

    forward(*args, **hyper)  -> (out, cache)
    backward(gout, cache)    -> the gradient of every differentiable argument, in order

The grader draws new shapes and values on every run (no fixed answers to copy) and computes the
right answer with minise, in the grader's process, never in the solution's, and only after the
solution has answered. ``sharpen`` moves a few values next to a kink (ReLU's 0, a near-tie in a
pooling window) where the derivative is still defined but no finite difference of any usual step
size gets it right: those cases are for comparing with minise, never for finite differences.
"""
import numpy as np

from ..functional.activation import relu
from ..functional.conv import conv2d
from ..functional.linear import linear
from ..functional.loss import cross_entropy
from ..functional.norm import batch_norm
from ..functional.pooling import max_pool2d
from ..functional.scale import scale_channels
from ..tensor import Tensor


class Case:
    """One drawn problem: positional arrays (names, which are differentiable) and hyper-parameters."""

    def __init__(self, names, arrays, differentiable, kwargs=None):
        self.names, self.arrays, self.kwargs = list(names), list(arrays), dict(kwargs or {})
        self.differentiable = list(differentiable)

    @property
    def grad_names(self):
        return [n for n, d in zip(self.names, self.differentiable) if d]

    def astype(self, dtype):
        arrays = [a.astype(dtype) if d else a for a, d in zip(self.arrays, self.differentiable)]
        return Case(self.names, arrays, self.differentiable, self.kwargs)

    def describe(self):
        shapes = ", ".join(f"{n} {a.shape}" for n, a in zip(self.names, self.arrays))
        hyper = "".join(f", {k}={v}" for k, v in self.kwargs.items())
        return shapes + hyper


class Exercise:
    """``draw(rng, large, hard=False)`` -> Case (``hard``: the trickiest hyper-parameters, e.g. overlapping
    convolution windows with padding);  ``op(*tensors, **kwargs)`` -> minise Tensor (the reference);
    ``sharpen(case, rng)`` -> the case with values next to kinks (or the case itself)."""

    def __init__(self, name, title, draw, op, sharpen=None):
        self.name, self.title, self.draw, self.op = name, title, draw, op
        self.sharpen = sharpen or (lambda case, rng: case)

    def _run(self, case, gout=None):
        tensors = [Tensor(a.astype(np.float64), requires_grad=gout is not None) if d else a
                   for a, d in zip(case.arrays, case.differentiable)]
        out = self.op(*tensors, **case.kwargs)
        if gout is None:
            return out.numpy(), None
        out.backward(np.asarray(gout, dtype=np.float64))
        return out.numpy(), [t.grad for t, d in zip(tensors, case.differentiable) if d]

    def output(self, case):
        """minise's forward output, in float64."""
        return self._run(case)[0]

    def reference(self, case, gout):
        """(out, [gradient of each differentiable argument]) by minise in float64 for upstream gradient gout."""
        return self._run(case, gout)


def _dims(rng, count, low, high):
    return tuple(int(v) for v in rng.integers(low, high + 1, size=count))


def _away_from_zero(rng, shape, low=0.05, high=2.0):
    """Values with |v| ≥ low: no element within a finite-difference step of ReLU's kink."""
    return rng.choice([-1.0, 1.0], size=shape) * rng.uniform(low, high, size=shape)


def _tie_free(rng, shape):
    """Distinct values, at least 4/size apart: no ties inside a pooling window."""
    size = int(np.prod(shape))
    return (rng.permutation(size) * (4.0 / size) - 2.0 + rng.uniform(0, 0.5 / size, size)).reshape(shape)


def draw_relu(rng, large, hard=False):
    shape = (32, 16, 16, 16) if large else _dims(rng, int(rng.integers(1, 5)), 2, 5)
    x = _away_from_zero(rng, shape)
    x.flat[0], x.flat[-1] = abs(x.flat[0]), -abs(x.flat[-1])          # both sides of the kink, always
    return Case(["x"], [x], [True])


def sharpen_relu(case, rng):
    """A tenth of x (at least one element) moved to within 1e-9 of the kink, on both sides."""
    x = case.arrays[0].copy()
    picked = rng.random(x.shape) < 0.1
    picked.flat[int(rng.integers(x.size))] = True
    tiny = rng.choice([-1.0, 1.0], size=x.shape) * rng.uniform(1e-12, 1e-9, size=x.shape)
    x[picked] = tiny[picked].astype(x.dtype)
    return Case(case.names, [x], case.differentiable, case.kwargs)


def sharpen_maxpool(case, rng):
    """In about a quarter of the windows, a runner-up moved to a few ulps below the window's maximum."""
    x = case.arrays[0].copy()
    k, s = case.kwargs["kernel_size"], case.kwargs["stride"]
    _, _, h, w = x.shape
    ho, wo = (h - k) // s + 1, (w - k) // s + 1
    flat = x.reshape(-1, h, w)                                          # (N·C, H, W), a view of x
    picks = max(1, flat.shape[0] * ho * wo // 4)
    for step, index in enumerate(rng.choice(flat.shape[0] * ho * wo, size=picks, replace=False)):
        m, rest = divmod(int(index), ho * wo)
        i, j = divmod(rest, wo)
        window = flat[m, i * s:i * s + k, j * s:j * s + k]              # (k, k), a view
        order = np.argsort(window, axis=None)
        top, other = np.unravel_index(order[-1], window.shape), np.unravel_index(order[-2], window.shape)
        below = window[top]
        for _ in range(1 + step % 3):                                   # 1 to 3 ulps below, each value distinct
            below = np.nextafter(below, -np.inf, dtype=x.dtype)
        if np.count_nonzero(flat[m] == below) == 0:
            window[other] = below
    return Case(case.names, [x], case.differentiable, case.kwargs)


def draw_linear(rng, large, hard=False):
    n, d_in, d_out = (256, 1024, 256) if large else _dims(rng, 3, 2, 6)
    arrays = [rng.standard_normal((n, d_in)), rng.standard_normal((d_out, d_in)) / np.sqrt(d_in),
              rng.standard_normal(d_out)]
    return Case(["x", "w", "b"], arrays, [True, True, True])


def draw_cross_entropy(rng, large, hard=False):
    n, classes = (4096, 200) if large else _dims(rng, 2, 2, 7)
    x = rng.standard_normal((n, classes)) * rng.uniform(0.5, 3.0)
    y = rng.integers(0, classes, size=n).astype(np.int64)
    return Case(["x", "y"], [x, y], [True, False])


def draw_batchnorm(rng, large, hard=False):
    n, d = (4096, 64) if large else (int(rng.integers(3, 7)), int(rng.integers(2, 6)))
    x = rng.standard_normal((n, d)) * rng.uniform(0.5, 3.0, size=d) + rng.uniform(-2, 2, size=d)
    gamma, beta = rng.uniform(0.5, 2.0, size=d), rng.standard_normal(d)
    return Case(["x", "gamma", "beta"], [x, gamma, beta], [True, True, True], {"eps": 1e-5})


def draw_scale_channels(rng, large, hard=False):
    n, c, h, w = (16, 64, 16, 16) if large else _dims(rng, 4, 1, 4)
    x = rng.standard_normal((n, c, h, w))
    s = rng.uniform(0.05, 0.95, size=(n, c))                           # a sigmoid's output
    return Case(["x", "s"], [x, s], [True, True])


def draw_conv(rng, large, hard=False):
    if large:
        (n, c, h, w), (f, k), stride, padding = (2, 64, 16, 16), (32, 3), 1, 1
    else:
        n, c, f = _dims(rng, 3, 1, 3)
        k, stride, padding = int(rng.integers(1, 4)), int(rng.integers(1, 3)), int(rng.integers(0, 2))
        if hard:                                    # overlapping windows and padding, always
            k, padding = 3, 1
        h, w = _dims(rng, 2, k, k + 4)
    x = rng.standard_normal((n, c, h, w))
    weight = rng.standard_normal((f, c, k, k)) / np.sqrt(c * k * k)
    return Case(["x", "w", "b"], [x, weight, rng.standard_normal(f)], [True, True, True],
                {"stride": stride, "padding": padding})


def draw_maxpool(rng, large, hard=False):
    if large:
        shape, kernel, stride = (8, 16, 32, 32), 2, 2
    else:
        kernel = int(rng.integers(2, 4))
        stride = int(rng.integers(1, kernel))       # overlapping windows; the large case has stride = kernel
        shape = _dims(rng, 2, 1, 3) + _dims(rng, 2, kernel, kernel + 4)
    return Case(["x"], [_tie_free(rng, shape)], [True], {"kernel_size": kernel, "stride": stride})


EXERCISES = {e.name: e for e in [
    Exercise("relu_backward", "ReLU", draw_relu, relu, sharpen_relu),
    Exercise("linear_backward", "fully connected layer y = x wᵀ + b", draw_linear, linear),
    Exercise("softmax_cross_entropy_backward", "softmax + cross-entropy (mean over the batch)",
             draw_cross_entropy, lambda x, y: cross_entropy(x, y)),
    Exercise("batchnorm_backward", "batch normalisation, training mode, x (N, D)", draw_batchnorm,
             lambda x, gamma, beta, eps: batch_norm(x, None, None, gamma, beta, training=True, eps=eps)),
    Exercise("scale_channels_backward", "the SE block's channel scaling y = x · s", draw_scale_channels,
             scale_channels),
    Exercise("conv2d_backward", "2-D convolution (stride, zero padding)", draw_conv,
             lambda x, w, b, stride, padding: conv2d(x, w, b, stride=stride, padding=padding)),
    Exercise("maxpool_backward", "2-D max pooling", draw_maxpool,
             lambda x, kernel_size, stride: max_pool2d(x, kernel_size, stride), sharpen_maxpool),
]}
