"""What each exercise is: how to draw a fresh random case, and the right answer (minise's own ops).

An exercise is a layer written as a pair of NumPy functions, the way courses write them::

    forward(*args, **hyper)  -> (out, cache)
    backward(gout, cache)    -> the gradient of every differentiable argument, in order

The grader draws new shapes and values on every run (no fixed answers to copy) and computes the
right answer with minise, in the grader's process, never in the solution's.
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
    """``draw(rng, large)`` -> Case;  ``op(*tensors, **kwargs)`` -> minise Tensor (the reference)."""

    def __init__(self, name, title, draw, op):
        self.name, self.title, self.draw, self.op = name, title, draw, op

    def reference(self, case, rng):
        """(out, [gradient of each differentiable argument], gout) computed by minise in float64,
        for a random upstream gradient gout drawn from ``rng``."""
        tensors = [Tensor(a.astype(np.float64), requires_grad=True) if d else a
                   for a, d in zip(case.arrays, case.differentiable)]
        out = self.op(*tensors, **case.kwargs)
        gout = rng.standard_normal(out.shape)
        out.backward(np.asarray(gout))
        return out.numpy(), [t.grad for t, d in zip(tensors, case.differentiable) if d], gout


def _dims(rng, count, low, high):
    return tuple(int(v) for v in rng.integers(low, high + 1, size=count))


def _away_from_zero(rng, shape, low=0.05, high=2.0):
    """Values with |v| ≥ low: no element within a finite-difference step of ReLU's kink."""
    return rng.choice([-1.0, 1.0], size=shape) * rng.uniform(low, high, size=shape)


def _tie_free(rng, shape):
    """Distinct values, at least 4/size apart: no ties inside a pooling window."""
    size = int(np.prod(shape))
    return (rng.permutation(size) * (4.0 / size) - 2.0 + rng.uniform(0, 0.5 / size, size)).reshape(shape)


def draw_relu(rng, large):
    shape = (32, 16, 16, 16) if large else _dims(rng, int(rng.integers(1, 5)), 2, 5)
    x = _away_from_zero(rng, shape)
    x.flat[0], x.flat[-1] = abs(x.flat[0]), -abs(x.flat[-1])          # both sides of the kink, always
    return Case(["x"], [x], [True])


def draw_linear(rng, large):
    n, d_in, d_out = (256, 256, 128) if large else _dims(rng, 3, 2, 6)
    arrays = [rng.standard_normal((n, d_in)), rng.standard_normal((d_out, d_in)) / np.sqrt(d_in),
              rng.standard_normal(d_out)]
    return Case(["x", "w", "b"], arrays, [True, True, True])


def draw_cross_entropy(rng, large):
    n, classes = (2048, 100) if large else _dims(rng, 2, 2, 7)
    x = rng.standard_normal((n, classes)) * rng.uniform(0.5, 3.0)
    y = rng.integers(0, classes, size=n).astype(np.int64)
    return Case(["x", "y"], [x, y], [True, False])


def draw_batchnorm(rng, large):
    n, d = (512, 256) if large else (int(rng.integers(3, 7)), int(rng.integers(2, 6)))
    x = rng.standard_normal((n, d)) * rng.uniform(0.5, 3.0, size=d) + rng.uniform(-2, 2, size=d)
    gamma, beta = rng.uniform(0.5, 2.0, size=d), rng.standard_normal(d)
    return Case(["x", "gamma", "beta"], [x, gamma, beta], [True, True, True], {"eps": 1e-5})


def draw_scale_channels(rng, large):
    n, c, h, w = (16, 64, 16, 16) if large else _dims(rng, 4, 1, 4)
    x = rng.standard_normal((n, c, h, w))
    s = rng.uniform(0.05, 0.95, size=(n, c))                           # a sigmoid's output
    return Case(["x", "s"], [x, s], [True, True])


def draw_conv(rng, large):
    if large:
        (n, c, h, w), (f, k), stride, padding = (8, 8, 16, 16), (16, 3), 1, 1
    else:
        n, c, f = _dims(rng, 3, 1, 3)
        k, stride, padding = int(rng.integers(1, 4)), int(rng.integers(1, 3)), int(rng.integers(0, 2))
        h, w = _dims(rng, 2, k, k + 4)
    x = rng.standard_normal((n, c, h, w))
    weight = rng.standard_normal((f, c, k, k)) / np.sqrt(c * k * k)
    return Case(["x", "w", "b"], [x, weight, rng.standard_normal(f)], [True, True, True],
                {"stride": stride, "padding": padding})


def draw_maxpool(rng, large):
    if large:
        shape, kernel, stride = (8, 16, 32, 32), 2, 2
    else:
        kernel = int(rng.integers(2, 4))
        stride = int(rng.integers(1, kernel))       # overlapping windows; the large case has stride = kernel
        shape = _dims(rng, 2, 1, 3) + _dims(rng, 2, kernel, kernel + 4)
    return Case(["x"], [_tie_free(rng, shape)], [True], {"kernel_size": kernel, "stride": stride})


EXERCISES = {e.name: e for e in [
    Exercise("relu_backward", "ReLU", draw_relu, relu),
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
             lambda x, kernel_size, stride: max_pool2d(x, kernel_size, stride)),
]}
