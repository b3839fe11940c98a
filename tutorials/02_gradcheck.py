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
step32 = float(np.float32(x0) + np.float32(1e-6)) - float(np.float32(x0) - np.float32(1e-6))
print(f"float32: the step x0 ± 1e-6 is really {step32:.4e}, not 2e-6")
assert abs(step32 - 2e-6) > 1e-8                          # the step itself is rounded

# %% [markdown]
# Central differences in float64 with ε ≈ 1e-6 give about 10 correct digits. In float32 the same
# ε leaves an error of about 4e-3, 0.7% of the true slope cos 1 ≈ 0.54. The cause is rounding, twice
# over: float32 cannot hold 1 ± 1e-6 (near 1 its numbers lie 6e-8 to 1.2e-7 apart, so the step
# actually taken is not 2ε), nor the two values of sin (6e-8 apart near 0.84). Each rounding is a
# few 1e-8, and dividing by 2ε = 2e-6 magnifies them to a few 1e-3. That is not noise to shrug off:
# a gradient check must tell a right backward from a slightly wrong one, and a wrong term that is
# small next to the others moves a gradient by well under 1% (lesson 5 drops a whole path of the SE
# block's backward and, at 56×56, changes gx by under 1%). In float32 such a bug hides in the
# rounding. That is why `minise.gradcheck` always works on **float64 copies** (and warns when you
# hand it float32 tensors), uses central differences, and ε = 1e-6.
#
# ## What gradcheck computes
#
# For an op y = f(x) with any output shape, backward computes a vector-Jacobian product: for an
# upstream gradient v, gx = ∂(Σ v·y)/∂x. So a gradient check picks v, defines the scalar
# L(x) = Σ v·f(x), and compares gx[i] with (L(x + ε·eᵢ) − L(x − ε·eᵢ)) / 2ε, element by element.
# Which v it picks, and how it calls backward, decide what it can catch.
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
class SoftmaxFunction(minise.Function):
    """y = softmax(x) along the last axis.   Backward: gx = y · (gy − Σ gy·y)."""

    def forward(self, x):
        e = np.exp(x - x.max(axis=-1, keepdims=True))          # minus the max: no overflow, same y
        y = e / e.sum(axis=-1, keepdims=True)
        self.save_for_backward(y=y)
        return y

    def backward(self, gy):
        y = self.saved.y
        return (y * (gy - (gy * y).sum(axis=-1, keepdims=True)),)


class SoftmaxFunctionForgotY(SoftmaxFunction):
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
softmax_array = lambda a: SoftmaxFunction()(Tensor(a)).data
assert np.allclose(softmax_array(logits), F.softmax(Tensor(logits), dim=-1).data)     # the same op as minise's
wrong_errors = {}
for name, v in [("all-ones v", np.ones((2, 5))), ("random v", rng.standard_normal((2, 5)))]:
    for op in (SoftmaxFunction, SoftmaxFunctionForgotY):
        t = Tensor(logits.copy(), requires_grad=True)
        op()(t).backward(v)
        error = np.abs(t.grad - numerical_vjp(softmax_array, logits, v)).max()
        print(f"{op.__name__:>22} backward, {name}: max error {error:.2e}")
        assert op is SoftmaxFunctionForgotY or error < 1e-8                 # the right one agrees with either v
    wrong_errors[name] = error
assert wrong_errors["all-ones v"] < 1e-8 and wrong_errors["random v"] > 0.1

# %% [markdown]
# With v = 1 the wrong backward agrees to 1e-10; with a random v it is off by order 1.
#
# ## What `minise.gradcheck` does, step by step
#
# 1. It copies the inputs to float64 (yours are left alone) and keeps a second, *pristine* copy of
#    each, to compare against later.
# 2. It draws **two** upstream gradients v₁ and v₂ from its `seed`: every element gets a random
#    sign and a size between 0.5 and 1.5. Random, so that no symmetry hides an error (the softmax
#    above); never close to 0, so that every output element really counts in L = Σ v·y (an element
#    weighed by 0.001 would shrink any error on its path below the tolerance).
# 3. It records the graph once and calls backward over it **three times**, with v₁, v₂ and v₁
#    again, each time on a **fresh copy** of the upstream gradient.
# 4. After every call it compares the copy of v that backward received, and every input, with
#    their pristine twins; and it asks that the third answer equal the first.
# 5. It takes central differences of L₁ = Σ v₁·f and L₂ = Σ v₂·f for every checked element and
#    compares them with both analytic answers, element by element, within atol (scaled to the size
#    of that input's gradient) + rtol·|numerical| + an allowance for the estimated round-off.
#
# Steps 2–4 exist because a backward can be wrong in ways that one comparison against one v does
# not see. Four planted bugs, each a one-line change to a right op, each a habit that turns up in
# real code, and each caught by a different part:
#
# **(a) Writing into the upstream gradient.** `gy *= mask` saves an array. But in a network the
# same gy array can reach several ops (an addition hands its gy unchanged to both operands), so
# the other branch then receives the damaged gradient. Worse, a checker that handed backward its
# own v and then weighed the finite differences with that same, now changed, v would compare the
# bug with itself. gradcheck hands over a copy and looks at it afterwards.

# %%
class ReLUFunction(minise.Function):
    """y = max(x, 0).   Backward: gx = gy · [x > 0]."""

    def forward(self, x):
        self.save_for_backward(mask=x > 0)
        return np.where(x > 0, x, 0.0)

    def backward(self, gy):
        return (gy * self.saved.mask,)


class ReLUFunctionInPlace(ReLUFunction):
    def backward(self, gy):                                    # planted bug: gy changed in place
        gy *= self.saved.mask
        return (gy,)


xr = np.array([-0.8, 0.5, -0.3, 0.9, -0.6, 0.4])               # well away from the kink at 0
t = Tensor(xr, requires_grad=True)
(ReLUFunctionInPlace()(t) + t * 3).backward(np.ones(6))        # the addition hands one gy to both terms
print("relu(x) + 3x with the in-place ReLU: x.grad", t.grad, " right:", (xr > 0) + 3.0)
assert not np.allclose(t.grad, (xr > 0) + 3.0)                 # the 3x branch lost its gradient where x < 0

v = rng.uniform(0.5, 1.5, 6)
t = Tensor(xr, requires_grad=True)
ReLUFunctionInPlace()(t).backward(v)                           # v itself is handed over, and changed
naive = np.abs(t.grad - numerical_vjp(lambda a: np.maximum(a, 0), xr, v)).max()
print(f"a checker that reuses the v it gave backward: max error {naive:.1e}, fooled")
assert naive < 1e-8
report = minise.gradcheck(lambda u: ReLUFunctionInPlace()(u), [Tensor(xr, requires_grad=True)], seed=0,
                          raise_exception=False)
print(report)
assert not report and "wrote into its upstream gradient" in report.problems[0]

# %% [markdown]
# **(b) Writing into an input.** Backward computes 2x by doubling the saved x in place. Its answer
# is right; but the saved x is the caller's own array, so the tensor now holds 2x and every later
# use of it (the optimizer step, the next layer's backward) goes on with the damage.

# %%
class SquareFunction(minise.Function):
    """y = x².   Backward: gx = 2x · gy."""

    def forward(self, x):
        self.save_for_backward(x=x)
        return x * x

    def backward(self, gy):
        return (2 * self.saved.x * gy,)


class SquareFunctionInPlace(SquareFunction):
    def backward(self, gy):                                    # planted bug: x doubled in place
        x = self.saved.x
        x *= 2
        return (x * gy,)


t = Tensor(xr.copy(), requires_grad=True)
SquareFunctionInPlace()(t).backward(np.ones(6))
print("after backward the input holds", t.data, "= 2x:", np.allclose(t.data, 2 * xr))
assert np.allclose(t.grad, 2 * xr) and np.allclose(t.data, 2 * xr)   # right gradient, damaged input
report = minise.gradcheck(lambda u: SquareFunctionInPlace()(u), [Tensor(xr, requires_grad=True)], seed=0,
                          raise_exception=False)
print(report["0"].describe())
assert not report and "changed this input in place" in report["0"].problems[0]

# %% [markdown]
# **(c) Damaging what forward saved.** Sigmoid's backward computes y(1 − y) into the saved y. The
# first answer is right, but the saved y is the output tensor's own array: the output's values are
# now wrong, and a second backward over the graph (`retain_graph=True`) answers differently. The
# third call, v₁ again, must reproduce the first answer exactly, so the change is named for what it
# is.

# %%
class SigmoidFunction(minise.Function):
    """y = 1 / (1 + e^(−x)).   Backward: gx = gy · y (1 − y)."""

    def forward(self, x):
        y = 1 / (1 + np.exp(-x))
        self.save_for_backward(y=y)
        return y

    def backward(self, gy):
        y = self.saved.y
        return (gy * y * (1 - y),)


class SigmoidFunctionInPlace(SigmoidFunction):
    def backward(self, gy):                                    # planted bug: y(1 − y) written into y
        y = self.saved.y
        y *= 1 - y
        return (gy * y,)


t = Tensor(xr, requires_grad=True)
out = SigmoidFunctionInPlace()(t)
before = out.data.copy()
out.backward(np.ones(6))
print(f"the output changed by up to {np.abs(out.data - before).max():.2f} during backward")
assert np.allclose(t.grad, before * (1 - before)) and not np.allclose(out.data, before)
report = minise.gradcheck(lambda u: SigmoidFunctionInPlace()(u), [Tensor(xr, requires_grad=True)], seed=0,
                          raise_exception=False)
print(report["0"].describe())
assert not report and "answered differently when called again" in report["0"].problems[0]

# %% [markdown]
# **(d) Keeping an answer.** Backward stores its first result and returns it from then on, to
# "save work". The first call is right, so any check with a single upstream gradient passes it;
# the second call, with v₂, gets v₁'s answer, and finite differences weighed by v₂ disagree.

# %%
class SigmoidFunctionKeepsAnswer(SigmoidFunction):
    answer = None

    def backward(self, gy):                                    # planted bug: the first answer, forever
        if self.answer is None:
            self.answer = super().backward(gy)
        return self.answer


report = minise.gradcheck(lambda u: SigmoidFunctionKeepsAnswer()(u), [Tensor(xr, requires_grad=True)], seed=0,
                          raise_exception=False)
print(report["0"].describe())
assert not report and report["0"].probe == 1                   # caught on v₂ ("upstream gradient #2")
assert minise.gradcheck(lambda u: SigmoidFunction()(u), [Tensor(xr, requires_grad=True)], seed=0)   # the right one

# %% [markdown]
# The same machinery serves `minise.check_backward`, for a forward/backward pair on plain arrays
# (below): backward is called three times on the same cache, with fresh copies of v₁, v₂, v₁; the
# inputs are watched the same way, and damage done to the cache shows as a later answer that
# differs. minise's own tests check its ops with these two functions.
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
