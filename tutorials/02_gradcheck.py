# %% [markdown]
# # 2. Gradient checking: proving a backward right (and how checks get fooled)
#
# A backward pass is a derivation done by hand, and hand derivations go wrong: a dropped factor,
# a missing transpose, a sum over the wrong axis. A wrong gradient does not crash anything; the
# network just trains badly. So every backward in minise is checked against a second, independent
# computation of the same numbers: **finite differences**, which need no calculus at all.

# %%
import os
import warnings

import numpy as np

import minise
import minise.functional as F
from minise import Tensor

FAST = os.environ.get("MINISE_FAST") == "1"
rng = np.random.default_rng(0)

# %% [markdown]
# ## One-sided and central differences
#
# The derivative is a limit: f'(x) = lim (f(x + ε) − f(x)) / ε. With a small finite ε, Taylor's
# theorem says how wrong each formula is:
#
# $$\text{one-sided:}\quad \frac{f(x + \varepsilon) - f(x)}{\varepsilon} = f'(x) + \frac{\varepsilon}{2} f''(x)
#   + \dots \qquad \text{error } O(\varepsilon)$$
#
# $$\text{central:}\quad \frac{f(x + \varepsilon) - f(x - \varepsilon)}{2\varepsilon} = f'(x)
#   + \frac{\varepsilon^2}{6} f'''(x) + \dots \qquad \text{error } O(\varepsilon^2)$$
#
# In the central difference the even terms cancel. But ε cannot shrink forever: f is computed
# with rounding error δ (about 1e-16 relative in float64, 1e-7 in float32), and dividing by ε
# magnifies it to δ/ε. The best ε balances the two errors. Watch it happen for f = sin at x = 1:

# %%
x0, exact = 1.0, np.cos(1.0)
errors = {}
print(f"{'eps':>8} {'one-sided f64':>14} {'central f64':>12} {'central f32':>12}")
for eps in [1e-1, 1e-2, 1e-3, 1e-4, 1e-6, 1e-8]:
    one = (np.sin(x0 + eps) - np.sin(x0)) / eps
    central = (np.sin(x0 + eps) - np.sin(x0 - eps)) / (2 * eps)
    e32 = np.float32(eps)
    c32 = (np.sin(np.float32(x0) + e32) - np.sin(np.float32(x0) - e32)) / (2 * e32)
    errors[eps] = abs(one - exact), abs(central - exact), abs(c32 - exact)
    print(f"{eps:>8.0e} {errors[eps][0]:>14.2e} {errors[eps][1]:>12.2e} {errors[eps][2]:>12.2e}")

one_sided, central64, central32 = errors[1e-6]
assert central64 < 1e-9 < one_sided                       # about 10 correct digits, and O(ε²) beats O(ε)
assert errors[1e-2][1] / errors[1e-3][1] > 50              # ε ten times smaller: central error ~100 times smaller
assert 1e-3 < central32 / exact < 3e-2                     # float32: an error of about 0.7%
assert errors[1e-8][1] > errors[1e-6][1]                   # too small an ε: rounding wins again

# %% [markdown]
# Central differences in float64 with ε ≈ 1e-6 give about 10 correct digits. In float32 the same
# ε leaves an error of about 4e-3, 0.7% of the true slope cos 1 ≈ 0.54: the rounding error of
# sin in float32 (about 6e-8) divided by 2ε. That is not noise to shrug off: a gradient check must
# tell a right backward from a slightly wrong one, and a wrong term that is small next to the
# others moves a gradient by well under 1% (lesson 5 drops a whole path of the SE block's backward
# and, at 56×56, changes gx by under 1%). In float32 such a bug hides in the rounding. That is why `minise.gradcheck` always
# works on **float64 copies** (and warns when you hand it float32 tensors), uses central
# differences, and ε = 1e-6.
#
# ## What gradcheck computes
#
# For an op y = f(x) with any output shape, backward computes a vector-Jacobian product: for an
# upstream gradient v, gx = ∂(Σ v·y)/∂x. So gradcheck picks v, defines the scalar L(x) = Σ v·f(x),
# and compares gx[i] with (L(x + ε·eᵢ) − L(x − ε·eᵢ)) / 2ε, element by element.
#
# ## Why v must be random: a wrong softmax backward that passes with v = 1
#
# softmax: yᵢ = e^{xᵢ} / Σⱼ e^{xⱼ}, with ∂yᵢ/∂xⱼ = yᵢ([i = j] − yⱼ), so
#
# $$g_{x_j} = \sum_i v_i\, y_i\,([i = j] - y_j) = y_j \Big(v_j - \sum_i v_i y_i\Big)$$
#
# Drop the leading yⱼ, writing gxⱼ = vⱼ − Σᵢ vᵢyᵢ, and see what an all-ones v gives: the right
# formula gives yⱼ(1 − 1) = 0, the wrong one 1 − 1 = 0. Both zero! Σᵢ yᵢ = 1 makes L = Σ y
# constant, so *any* backward that returns zeros passes. A random v breaks the symmetry.

# %%
class Softmax(minise.Function):
    """y = softmax(x) along the last axis.   Backward: gx = y · (gy − Σ gy·y)."""

    def forward(self, x):
        e = np.exp(x - x.max(axis=-1, keepdims=True))          # minus the max: no overflow, same y
        y = e / e.sum(axis=-1, keepdims=True)
        self.save_for_backward(y=y)
        return y

    def backward(self, gy):
        y = self.saved.y
        return (y * (gy - (gy * y).sum(axis=-1, keepdims=True)),)


class WrongSoftmax(Softmax):
    def backward(self, gy):
        y = self.saved.y
        return (gy - (gy * y).sum(axis=-1, keepdims=True),)            # forgot the factor y


def numerical_vjp(f, x, v, eps=1e-6):
    """(Σ v·f(x + ε eᵢ) − Σ v·f(x − ε eᵢ)) / 2ε for every i: the slow, sure way."""
    g = np.zeros_like(x)
    for i in range(x.size):
        up, down = x.copy(), x.copy()
        up.flat[i] += eps
        down.flat[i] -= eps
        g.flat[i] = ((f(up) * v).sum() - (f(down) * v).sum()) / (2 * eps)
    return g


logits = rng.standard_normal((2, 5))
softmax_array = lambda a: Softmax()(Tensor(a)).data
assert np.allclose(softmax_array(logits), F.softmax(Tensor(logits), dim=-1).data)     # the same op as minise's
wrong_errors = {}
for name, v in [("all-ones v", np.ones((2, 5))), ("random v", rng.standard_normal((2, 5)))]:
    for op in (Softmax, WrongSoftmax):
        t = Tensor(logits.copy(), requires_grad=True)
        op()(t).backward(v)
        error = np.abs(t.grad - numerical_vjp(softmax_array, logits, v)).max()
        print(f"{op.__name__:>12} backward, {name}: max error {error:.2e}")
        assert op is WrongSoftmax or error < 1e-8                 # the right one agrees with either v
    wrong_errors[name] = error
assert wrong_errors["all-ones v"] < 1e-8 and wrong_errors["random v"] > 0.1

# %% [markdown]
# With v = 1 the wrong backward agrees to 1e-10; with a random v it is off by order 1. gradcheck
# always draws v at random (from its `seed`), and so does every test in minise.
#
# ## Kinks and ties
#
# Finite differences assume f is smooth within ±ε. ReLU has a kink at 0: if an input x sits
# within ε of 0, x ± ε straddles the kink and the central difference measures the average slope
# over [x − ε, x + ε], (x + ε) / 2ε, a number between 0 and 1 that no backward returns: ½ exactly
# at the kink, 0.6 for x = 0.2ε. The two one-sided slopes (0 and 1) disagree there, and
# gradcheck notices that and warns. The same
# trap hides in max-pooling: two equal values in a window (a *tie*) make max non-differentiable.
# Tests therefore draw inputs away from kinks and without ties (`minise.testing.strategies`).

# %%
at_kink = Tensor(np.array([-1.0, 2e-7, 0.5]), requires_grad=True)
with warnings.catch_warnings(record=True) as caught:
    warnings.simplefilter("always")
    report = minise.gradcheck(lambda u: F.relu(u), [at_kink], seed=0, raise_exception=False)
print(report)
print("warning:", caught[0].message if caught else None)
assert not report and report["0"].worst_index == (1,) and caught
assert np.isclose(report["0"].numerical / report["0"].analytic, (2e-7 + 1e-6) / 2e-6)       # 0.6

# %% [markdown]
# Element 1 sits 2e-7 from the kink, so x ± ε straddles it: the numerical value is 0.6 of the
# analytic one (the slope is 1 on 0.6 of the interval, 0 on the rest). The report blames
# the element, and the warning explains why: the input, not the backward, is the problem.
#
# ## Reading a report, and catching a planted bug
#
# Here is a hand-written layer as a course would write it: `forward(x, w) -> (out, cache)` and
# `backward(gout, cache)`. `minise.check_backward` checks such array pairs directly. We plant a
# bug: the weight gradient forgets that every row of the batch uses w, and keeps only the first
# row's contribution (gw must be a sum over the batch).

# %%
def forward(x, w):
    return x @ w, (x, w)


def backward_right(gout, cache):
    x, w = cache
    return gout @ w.T, x.T @ gout


def backward_planted(gout, cache):
    x, w = cache
    return gout @ w.T, x[:1].T @ gout[:1]          # only sample 0 contributes: wrong


n = 3 if FAST else 8
inputs = {"x": rng.standard_normal((n, 4)), "w": rng.standard_normal((4, 2))}
good = minise.check_backward(forward, backward_right, inputs, seed=1)
print(good)
assert good and good["x"].max_abs_error < 1e-8
bad = minise.check_backward(forward, backward_planted, inputs, seed=1, raise_exception=False)
print(bad)
assert not bad and bad["x"].passed and not bad["w"].passed

# %% [markdown]
# Read the table row by row: input `x` passed (max abs error ~1e-10); input `w` did not, and the
# worst element, with both values, is printed. `report["w"].worst_index` gives it to code. With
# `raise_exception=True` (the default) the same text arrives as a `minise.GradcheckError`, which
# is what makes a test fail. The exercises in `tutorials/exercises/` are graded with exactly this
# machinery: `minise grade tutorials/exercises/relu_backward.py`. The grader also compares with
# minise's own ops on inputs *next to* kinks, where a derived gradient is exact and a finite
# difference is not: one way it tells a derived backward from a measured one.
