"""What an exercise is to the grader: fresh random cases, and the right answer computed by minise.

An exercise is a layer written as a pair of NumPy functions, the way courses write them::

    forward(*args, **hyper)  -> (out, cache)
    backward(gout, cache)    -> the gradient of every differentiable argument, in order

Each grading run draws new values for a fixed list of cases, one per kind of hyper-parameters the
layer has (padding 0 and > 0, stride 1 and 2, a non-square kernel, overlapping windows and not,
...), so that no kind is left to the luck of the seed; the right answer is computed with minise, in
the grader's process, and only after the solution has answered. Layers with a kink (ReLU at 0, ties
in a max-pooling window) also have cases exactly at the kink, graded against the convention the
exercise states.
"""
import numpy as np

from ..tensor import Tensor


class Case:
    """One drawn problem: positional arrays (names, which are differentiable) and hyper-parameters.
    ``float32``: whether the float32 check uses it; not where the forward itself needs float64 (offsets of
    1000), nor where the usual backward formula cancels beyond float32's digits (batch statistics of two
    values: batch norm's gx is then eps/(σ² + eps) of the terms that make it)."""

    def __init__(self, names, arrays, differentiable, kwargs=None, note="", float32=True):
        self.names, self.arrays, self.kwargs = list(names), list(arrays), dict(kwargs or {})
        self.differentiable, self.note, self.float32 = list(differentiable), note, float32

    @property
    def grad_names(self):
        return [n for n, d in zip(self.names, self.differentiable) if d]

    def astype(self, dtype):
        arrays = [a.astype(dtype) if d else a for a, d in zip(self.arrays, self.differentiable)]
        return Case(self.names, arrays, self.differentiable, self.kwargs, self.note, self.float32)

    def replace(self, index, array, note=""):
        arrays = list(self.arrays)
        arrays[index] = array
        return Case(self.names, arrays, self.differentiable, self.kwargs, note or self.note, self.float32)

    def describe(self):
        shapes = ", ".join(f"{n} {a.shape}" for n, a in zip(self.names, self.arrays))
        hyper = "".join(f", {k}={v}" for k, v in self.kwargs.items())
        return shapes + hyper + (f"; {self.note}" if self.note else "")


class Exercise:
    """``cases(rng)`` -> [Case], every kind of hyper-parameters, fresh values away from kinks;
    ``large(rng)`` -> Case, the timed one; ``kinks(rng)`` -> [Case] exactly at kinks (None: no kink);
    ``op(*tensors, **kwargs)`` -> minise Tensor, the reference; ``convention``: what the exercise
    says the gradient is at a kink."""

    def __init__(self, name, title, op, cases, large, kinks=None, convention="", checks=None):
        self.name, self.title, self.op, self.cases, self.large, self.kinks = name, title, op, cases, large, kinks
        self.convention, self.checks = convention, checks

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


def dims(rng, count, low, high):
    return tuple(int(v) for v in rng.integers(low, high + 1, size=count))


def away_from_zero(rng, shape, low=0.05, high=2.0):
    """Values with |v| ≥ low: no element within a finite-difference step of a kink at 0."""
    return rng.choice([-1.0, 1.0], size=shape) * rng.uniform(low, high, size=shape)


def tie_free(rng, shape):
    """Distinct values, at least 4/size apart: no ties inside a pooling window."""
    size = int(np.prod(shape))
    return (rng.permutation(size) * (4.0 / size) - 2.0 + rng.uniform(0, 0.5 / size, size)).reshape(shape)


def shared_winner(x, k, s):
    """x (N, C, H, W) with each plane's largest value swapped to (s, s), a place in four k×k windows of
    stride s < k (H, W ≥ k + s): an element that wins several windows, whose gradient is the sum of what
    they send (a backward that assigns instead of adding keeps one share). Values stay distinct."""
    x = x.copy()
    flat = x.reshape(-1, x.shape[2] * x.shape[3])                      # (N·C, H·W), a view of x
    rows, top, target = np.arange(flat.shape[0]), flat.argmax(axis=1), s * x.shape[3] + s
    flat[rows, top], flat[rows, target] = flat[rows, target], flat[rows, top]
    return x


def at_zero(rng, x):
    """x with about a third of its elements exactly 0 and a few more a hair away from it (±1e-12,
    ±1e-300, the smallest subnormal): a derived gradient is exact there, a measured one is not."""
    x = x.copy()
    picks = rng.random(x.shape)
    hairs = np.array([0.0, 1e-12, -1e-12, 1e-300, -1e-300, 5e-324, -5e-324], dtype=np.float64)
    x[picks < 0.3] = 0.0
    near = (picks >= 0.3) & (picks < 0.45)
    x[near] = rng.choice(hairs, size=x.shape)[near].astype(x.dtype)
    x.flat[0] = 0.0
    return x


def with_ties(rng, x, k, s, exact=True):
    """x (N, C, H, W) with, in about a third of the k×k windows of stride s, the maximum copied to
    another place of the window (an exact tie), or moved a few ulps below it (``exact=False``)."""
    x = x.copy()
    flat = x.reshape(-1, *x.shape[2:])                                  # (N·C, H, W), a view of x
    _, h, w = flat.shape
    ho, wo = (h - k) // s + 1, (w - k) // s + 1
    picks = max(1, flat.shape[0] * ho * wo // 3)
    for step, index in enumerate(rng.choice(flat.shape[0] * ho * wo, size=picks, replace=False)):
        m, rest = divmod(int(index), ho * wo)
        i, j = divmod(rest, wo)
        window = flat[m, i * s:i * s + k, j * s:j * s + k]              # (k, k), a view
        order = np.argsort(window, axis=None)
        top, other = np.unravel_index(order[-1], window.shape), np.unravel_index(order[-2], window.shape)
        value = window[top]
        if not exact:
            for _ in range(1 + step % 3):                               # 1 to 3 ulps below
                value = np.nextafter(value, -np.inf, dtype=x.dtype)
        window[other] = value
    return x
