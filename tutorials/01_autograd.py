# %% [markdown]
# # 1. Autograd: how `backward()` finds every gradient
#
# Training a network means nudging millions of numbers against the gradient of one number, the
# loss. Writing those derivatives by hand for a whole network is hopeless; writing them for one
# small op at a time is easy. *Reverse-mode automatic differentiation* glues the small pieces
# together. This lesson builds the idea from scratch and shows how minise does it.
#
# Run it: `python tutorials/01_autograd.py`, or open it as a notebook with jupytext.

# %%
import os

import numpy as np

import minise
import minise.functional as F
from minise import Tensor

FAST = os.environ.get("MINISE_FAST") == "1"        # the test suite's quick mode (unused here: it is fast)
np.set_printoptions(precision=4, suppress=True)

# %% [markdown]
# ## The chain rule, one op at a time
#
# Take L = Σ (a·b + a)². Name the pieces: c = a·b, d = c + a, L = Σ d². Each op knows its own
# local derivative, and nothing more:
#
#     ∂L/∂d = 2d        ∂d/∂c = 1, ∂d/∂a = 1        ∂c/∂a = b, ∂c/∂b = a
#
# Going *backwards* from L, each op receives the gradient of its output (call it gy) and hands
# each input gy × (local derivative). Where a value is used twice (a feeds c and d) the
# contributions **add up**:
#
#     gd = 2d,   gc = gd,   ga = gd + gc·b,   gb = gc·a
#
# That is all of backpropagation. A `Tensor` remembers the op that made it (its `creator`), so the
# graph is recorded while you compute forward.

# %%
a = Tensor(np.array([1.0, -2.0, 3.0]), requires_grad=True)
b = Tensor(np.array([0.5, 4.0, -1.0]), requires_grad=True)
c = a * b
d = c + a
L = (d * d).sum()
print("creator of L:", L.creator, "| of d:", d.creator, "| a is a leaf:", a.is_leaf)
L.backward()

d_value = a.data * b.data + a.data                   # the hand-derived gradients, with plain arrays
print("a.grad", a.grad, " by hand", 2 * d_value * (1 + b.data))
print("b.grad", b.grad, " by hand", 2 * d_value * a.data)
assert np.allclose(a.grad, 2 * d_value * (1 + b.data)) and np.allclose(b.grad, 2 * d_value * a.data)

# %% [markdown]
# ## Why topological order
#
# An op may run its backward only when *all* the gradient of its output has arrived: `a` above
# gets gradient from two places. So the engine first sorts the ops so that every op comes before
# the ops that made its inputs (a reverse topological order), then walks that list once, summing
# the gradients that meet at a tensor.
#
# Every recorded op keeps one *edge* per input: `(op that made the input, output index)`, the leaf
# Tensor itself, or None for an input that needs no gradient. A depth-first search that lists an
# op after everything below it, read backwards, is the order. Here it is for our little graph
# (minise's engine, `minise.autograd`, does the same without recursion):

# %%
def topological_order(op):
    """The ops that led to ``op``, each listed before the ops that made its inputs."""
    order, seen = [], set()

    def visit(fn):
        if fn not in seen:
            seen.add(fn)
            for edge in fn.edges:
                if isinstance(edge, tuple):       # (creator, output index): an op below this one
                    visit(edge[0])
            order.append(fn)                      # after everything it depends on
    visit(op)
    return order[::-1]


L2 = ((a * b + a) ** 2).sum()
order = [type(op).__name__ for op in topological_order(L2.creator)]
print(" -> ".join(order))
assert order.index("Add") < order.index("Mul")

# %% [markdown]
# `Sum` runs first, then the square (`PowConstant`), then `Add`, and only then `Mul`, because
# `Add` sends gradient into the product. In a residual network the same thing happens at every shortcut: the input of a
# block receives gradient from the branch *and* from the identity path.
#
# ## Broadcasting, and why gradients are summed back
#
# NumPy lets you add a (3, 4) array and a (4,) bias: the bias is silently *copied* to every row.
# A copied value influences every place it was copied to, so its gradient is the **sum** of the
# gradients of the copies. With gy of shape (3, 4), the bias gradient is gy summed over the rows:
#
#     y[i, j] = x[i, j] + b[j]     ⇒     gb[j] = Σᵢ gy[i, j]
#
# minise's `sum_to(g, shape)` does this for any broadcast: it sums over the axes that were added in
# front and over the axes that were stretched from size 1.

# %%
sum_to = F.sum_to

x = Tensor(np.arange(12.0).reshape(3, 4), requires_grad=True)
bias = Tensor(np.zeros((1, 4)), requires_grad=True)
upstream = np.random.default_rng(0).standard_normal((3, 4))
(x + bias).backward(upstream)
print("bias.grad", bias.grad, "shape", bias.grad.shape)
assert np.allclose(bias.grad, upstream.sum(axis=0, keepdims=True))
print("sum_to((2, 3, 4) -> (3, 1)):", sum_to(np.ones((2, 3, 4)), (3, 1)).ravel())

# %% [markdown]
# Each of the 2·4 = 8 copies of every element of the (3, 1) shape contributes 1, hence 8.
#
# ## Non-scalar outputs: the upstream gradient
#
# `backward()` without arguments needs a scalar. For a tensor y of any shape you pass `grad=v`,
# and minise computes ∂(Σ v·y)/∂x: a vector-Jacobian product. That is the only thing a
# backward pass ever computes, and it is what `minise.gradcheck` tests (lesson 2).
#
# ## Writing your own op: `Cube`
#
# An op is a `minise.Function` with a `forward` and a `backward` that work on **arrays**:
#
#     forward   y = a³
#     backward  ga = gy · 3a²       (the chain rule: upstream gradient × local derivative)
#
# Save what backward needs in `self.saved`; minise frees it after backward.

# %%
class Cube(minise.Function):
    """y = a³.   Backward: ga = gy · 3a²."""

    def forward(self, a):
        self.saved = a
        return a ** 3

    def backward(self, gy):
        a = self.saved
        return (gy * 3 * a ** 2,)


t = Tensor(np.array([-1.5, 0.5, 2.0]), requires_grad=True)
y = Cube()(t)
y.backward(np.ones(3))
print("Cube:", y.data, "grad", t.grad, "expected", 3 * t.data ** 2)

# %% [markdown]
# How do we know a backward is right, for ops far hairier than a³? We ask finite differences.
# `minise.gradcheck` perturbs each input element, measures how the output moves, and compares with
# the backward. Lesson 2 is about how that works and how it can be fooled.

# %%
t64 = Tensor(np.random.default_rng(1).standard_normal((2, 3)), requires_grad=True)
print(minise.gradcheck(lambda u: Cube()(u), [t64], seed=0))


class WrongCube(Cube):
    def backward(self, gy):                 # forgot the factor 3: a classic
        return (gy * self.saved ** 2,)


report = minise.gradcheck(lambda u: WrongCube()(u), [t64], seed=0, raise_exception=False)
print(report)
assert not report, "gradcheck must catch the missing factor 3"
