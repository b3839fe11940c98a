# %% [markdown]
# # 1. Autograd: how `backward()` finds every gradient
#
# Training a network means nudging millions of numbers against the gradient of one number, the
# loss. Writing those derivatives by hand for a whole network is hopeless; writing them for one
# small op at a time is easy. *Reverse-mode automatic differentiation* glues the small pieces
# together. In this lesson you build a small engine yourself, check it against minise, and then
# derive the three ops an SE block's excitation is made of: the linear layer, ReLU and sigmoid.
#
# Run it: `python tutorials/01_autograd.py`, or as a notebook (see tutorials/README.md).

# %%
import os
import re

import numpy as np
from lesson_figures import show_dot  # tutorials/lesson_figures.py: inline in Jupyter, a PNG file otherwise

import minise
import minise.functional as F  # the same module as minise.nn.functional (PyTorch's spelling)
import minise.viz

FAST = os.environ.get("MINISE_FAST") == "1"        # the test suite's quick mode (unused here: it is fast)
np.set_printoptions(precision=4, suppress=True)
rng = np.random.default_rng(0)

# %% [markdown]
# ## The chain rule, one op at a time
#
# Take $L = \sum (a b + a)^2$. Name the pieces: $c = a b$, $d = c + a$, $L = \sum d^2$. Each op
# knows its own local derivative, and nothing more:
#
# $$\frac{\partial L}{\partial d} = 2d \qquad \frac{\partial d}{\partial c} = \frac{\partial d}{\partial a} = 1
#   \qquad \frac{\partial c}{\partial a} = b, \quad \frac{\partial c}{\partial b} = a$$
#
# Going *backwards* from L, each op receives the gradient of its output (call it $g_y$) and hands
# each input $g_y \times$ (local derivative). Where a value is used twice ($a$ feeds $c$ and $d$)
# the contributions **add up**:
#
# $$g_d = 2d, \quad g_c = g_d, \quad g_a = g_d + g_c\, b, \quad g_b = g_c\, a$$
#
# That is all of backpropagation. What is left is bookkeeping: remember, while computing forward,
# which op made which value from which inputs; then visit the ops backwards, in an order that lets
# every gradient arrive in full before it is passed on.
#
# ## Build it yourself: an engine in under 40 lines
#
# A `Tensor` here holds an array, its `.grad`, the tensors it was made from (`parents`) and a
# `rule` that maps the gradient of this tensor to one gradient per parent. Each op is a small
# function that computes forward and attaches its rule. `backward()` orders the tensors, seeds
# $\partial L / \partial L = 1$, and runs the rules, **adding** gradients where a tensor was used
# twice. (No broadcasting here: both operands of `+` and `*` have the same shape. minise handles
# broadcasting, further below.)

# %%
class Tensor:
    """An array that remembers how it was made."""

    def __init__(self, data, parents=(), rule=None):
        self.data = np.asarray(data, dtype=np.float64)
        self.grad = None
        self.parents = parents           # the tensors this one was computed from
        self.rule = rule                 # gradient of this tensor -> one gradient per parent

    def __add__(self, other):
        return Tensor(self.data + other.data, (self, other), lambda g: (g, g))

    def __mul__(self, other):
        return Tensor(self.data * other.data, (self, other), lambda g: (g * other.data, g * self.data))

    def relu(self):
        return Tensor(np.maximum(self.data, 0), (self,), lambda g: (g * (self.data > 0),))

    def sum(self):
        return Tensor(self.data.sum(), (self,), lambda g: (g * np.ones_like(self.data),))

    def backward(self, order=None):
        order = topological_order(self) if order is None else order
        for t in order:
            t.grad = None
        self.grad = np.ones_like(self.data)                     # ∂L/∂L = 1
        for t in order:                                         # every tensor before its parents
            if t.rule is None:                                  # a leaf: nothing to pass on
                continue
            for parent, g in zip(t.parents, t.rule(t.grad)):
                parent.grad = g if parent.grad is None else parent.grad + g    # used twice: add


# %% [markdown]
# ### Your turn: the order
#
# `t.rule(t.grad)` may run only once *all* of `t`'s gradient has arrived, that is, after every
# tensor that used `t` has run its rule. So `topological_order(root)` must list every tensor of the
# graph exactly once, each one before its parents. Try it before reading on: a depth-first search
# that appends a tensor *after* all its parents have been appended lists every parent before its
# children; reversed, that is the order we need.

# %%
def topological_order(root):
    """Every tensor that led to ``root``, each listed before the tensors it was made from."""
    order, seen = [], set()

    def visit(t):
        if id(t) not in seen:
            seen.add(id(t))
            for parent in t.parents:
                visit(parent)
            order.append(t)                  # after everything it was made from
    visit(root)
    return order[::-1]                       # root first, leaves last


def is_topological(order):
    """Each tensor comes before all of its parents."""
    position = {id(t): k for k, t in enumerate(order)}
    return all(position[id(t)] < position[id(p)] for t in order for p in t.parents)


# %% [markdown]
# Now the graph from above, in your engine and in minise (`minise.Tensor`, same arithmetic):

# %%
a_data, b_data = np.array([1.0, -2.0, 3.0]), np.array([0.5, 4.0, -2.0])

a, b = Tensor(a_data), Tensor(b_data)
d = a * b + a
L = (d * d).sum()
assert is_topological(topological_order(L))
L.backward()

ma, mb = minise.Tensor(a_data, requires_grad=True), minise.Tensor(b_data, requires_grad=True)
md = ma * mb + ma
(md * md).sum().backward()

by_hand = 2 * d.data * (1 + b_data), 2 * d.data * a_data             # g_a = g_d + g_c·b, g_b = g_c·a
print("your engine   a.grad", a.grad, " b.grad", b.grad)
print("minise        a.grad", ma.grad, " b.grad", mb.grad)
print("by hand       a.grad", by_hand[0], " b.grad", by_hand[1])
assert np.allclose(a.grad, ma.grad) and np.allclose(b.grad, mb.grad)
assert np.allclose(a.grad, by_hand[0]) and np.allclose(b.grad, by_hand[1])

# %% [markdown]
# minise recorded the same graph while computing forward: four ops (two products, a sum of two
# tensors, the final sum) and the two leaves. `minise.viz.to_dot` writes it as Graphviz text, with
# arrows in the direction the forward pass went; backward walks them the other way.

# %%
mL = (md * md).sum()
dot = minise.viz.to_dot(mL, {"a": ma, "b": mb})
nodes = re.findall(r"^\s+n\d+ \[label=", dot, re.M)
assert len(nodes) == 4 + 2 + 1, dot                       # four ops, two leaves, the output
show_dot(dot, "01_graph")

# %% [markdown]
# ### Why the order matters: a breadth-first walk gets it wrong
#
# Visiting tensors level by level from L (breadth first) looks natural, and it is wrong as soon as
# a tensor is reached by two paths of different lengths. Below, u feeds p directly and also
# through h and w: breadth-first order runs u's rule while h's share of u's gradient has not
# arrived yet, and a and b get too little.

# %%
def breadth_first_order(root):
    order, seen, queue = [], set(), [root]
    while queue:
        t = queue.pop(0)
        if id(t) not in seen:
            seen.add(id(t))
            order.append(t)
            queue.extend(t.parents)
    return order


def deep_graph(engine, a_data, b_data, **kwargs):
    a, b = engine(a_data, **kwargs), engine(b_data, **kwargs)
    u = a * b
    h = u * u                       # u, used again one level deeper
    w = h * a
    loss = (w * u).sum()            # u used directly as well
    return loss, a, b


L2, a2, b2 = deep_graph(Tensor, a_data, b_data)
L2.backward()
right = a2.grad.copy()
L2.backward(order=breadth_first_order(L2))
wrong = a2.grad.copy()
mL2, ma2, _ = deep_graph(minise.Tensor, a_data, b_data, requires_grad=True)
mL2.backward()
print("a.grad, topological order:  ", right)
print("a.grad, breadth-first order:", wrong)
print("a.grad, minise:             ", ma2.grad)
assert np.allclose(right, ma2.grad) and not np.allclose(wrong, ma2.grad)
assert is_topological(topological_order(L2)) and not is_topological(breadth_first_order(L2))

# %% [markdown]
# minise's engine (`minise.autograd.run_backward`) does what yours does, for ops that are objects
# (`minise.Function`, below) instead of lambdas: it orders the ops that made the graph with the same
# depth-first idea (without recursion, so a graph thousands of ops deep does not overflow Python's
# stack), then runs each op's `backward` once, summing the gradients that meet at a tensor.
#
# ## Broadcasting, and why gradients are summed back
#
# NumPy lets you add a (3, 4) array and a (1, 4) bias: the bias is silently *copied* to every row.
# A copied value influences every place it was copied to, so its gradient is the **sum** of the
# gradients of the copies:
#
# $$y_{ij} = x_{ij} + b_j \quad\Longrightarrow\quad g_{b_j} = \sum_i g_{y_{ij}}$$
#
# minise's `F.sum_to(g, shape)` does this for any broadcast: it sums over the axes that were added
# in front and over the axes that were stretched from size 1.

# %%
x = minise.Tensor(np.arange(12.0).reshape(3, 4), requires_grad=True)
bias = minise.Tensor(np.zeros((1, 4)), requires_grad=True)
upstream = rng.standard_normal((3, 4))
(x + bias).backward(upstream)
print("bias.grad", bias.grad, "shape", bias.grad.shape)
assert np.allclose(bias.grad, upstream.sum(axis=0, keepdims=True))
summed = F.sum_to(np.ones((2, 3, 4)), (3, 1))
print("sum_to((2, 3, 4) -> (3, 1)):", summed.ravel())
assert summed.shape == (3, 1) and np.all(summed == 8)

# %% [markdown]
# Each of the 2·4 = 8 copies of every element of the (3, 1) shape contributes 1, hence 8.
#
# ## Non-scalar outputs: the upstream gradient
#
# `backward()` without arguments needs a scalar. For a tensor y of any shape you pass `grad=v`,
# and minise computes $\partial(\sum v \cdot y)/\partial x$: a vector-Jacobian product. That is the
# only thing a backward pass ever computes, and it is what `minise.gradcheck` tests (lesson 2:
# it perturbs each input element, measures how $\sum v\cdot y$ moves, and compares).
#
# ## Your first ops in minise: linear, ReLU, sigmoid
#
# An op is a `minise.Function` with a `forward` and a `backward` that work on **arrays**; the
# forward saves what the backward needs with `self.save_for_backward(name=array)`. These three
# are, with the channel scaling of lesson 5, everything the SE block's excitation computes.
#
# ### Linear: $y = x W^\top + b$
#
# Shapes: x (N, I), W (O, I), b (O,), y (N, O). Element-wise $y_{no} = \sum_i x_{ni} W_{oi} + b_o$,
# and with the upstream gradient $g_y$ (N, O), differentiate $\sum_{n,o} g_{y,no}\, y_{no}$:
#
# * $\partial y_{no} / \partial x_{ni} = W_{oi}$, summed over every output o that uses $x_{ni}$:
#   $g_{x,ni} = \sum_o g_{y,no} W_{oi}$, i.e. $g_x = g_y W$ (N, I).
# * $\partial y_{no} / \partial W_{oi} = x_{ni}$, and every sample n uses the same W:
#   $g_{W,oi} = \sum_n g_{y,no} x_{ni}$, i.e. $g_W = g_y^\top x$ (O, I).
# * b is broadcast over the N samples: $g_b = \sum_n g_{y,n\cdot}$ (O,).
#
# Check the shapes: each gradient has its input's shape, which is a quick test of any derivation.

# %%
class LinearFunction(minise.Function):
    """y = x Wᵀ + b.   Backward: gx = gy W,  gW = gyᵀ x,  gb = Σ_n gy."""

    def forward(self, x, w, b):
        self.save_for_backward(x=x, w=w)
        return x @ w.T + b                                   # (N, O)

    def backward(self, gy):
        x, w = self.saved
        return gy @ w, gy.T @ x, gy.sum(axis=0)              # (N, I), (O, I), (O,)


class LinearFunctionBiasMean(LinearFunction):
    def backward(self, gy):                                  # planted bug: the bias gradient averaged
        gx, gw, _ = super().backward(gy)
        return gx, gw, gy.mean(axis=0)


def leaves(*shapes):
    return [minise.Tensor(rng.standard_normal(s), requires_grad=True) for s in shapes]


xl, wl, bl = leaves((5, 3), (4, 3), (4,))
assert np.allclose(LinearFunction()(xl, wl, bl).data, F.linear(xl, wl, bl).data)    # as minise's F.linear
print(minise.gradcheck(lambda *t: LinearFunction()(*t), {"x": xl, "w": wl, "b": bl}, seed=0))
report = minise.gradcheck(lambda *t: LinearFunctionBiasMean()(*t), {"x": xl, "w": wl, "b": bl}, seed=0,
                          raise_exception=False)
print(report)
assert not report and report["x"].passed and report["w"].passed and not report["b"].passed

# %% [markdown]
# ### ReLU: $y = \max(x, 0)$
#
# The slope is 1 where $x > 0$ and 0 where $x < 0$ (at exactly 0 any value in [0, 1] is a valid
# subgradient; minise and PyTorch use 0). So the gradient passes through where the input was
# positive and is blocked elsewhere: $g_x = g_y \cdot [x > 0]$. The backward needs only the mask.

# %%
class ReLUFunction(minise.Function):
    """y = max(x, 0).   Backward: gx = gy · [x > 0]."""

    def forward(self, x):
        self.save_for_backward(mask=x > 0)
        return np.where(x > 0, x, 0.0)

    def backward(self, gy):
        return (gy * self.saved.mask,)


class ReLUFunctionNoMask(ReLUFunction):
    def backward(self, gy):                                  # planted bug: gradient passed through everywhere
        return (gy,)


xr = minise.Tensor(rng.uniform(0.1, 1, (4, 5)) * rng.choice([-1, 1], (4, 5)), requires_grad=True)   # |x| ≥ 0.1: no kinks
assert np.array_equal(ReLUFunction()(xr).data, F.relu(xr).data)
print(minise.gradcheck(lambda t: ReLUFunction()(t), [xr], seed=0))
assert not minise.gradcheck(lambda t: ReLUFunctionNoMask()(t), [xr], seed=0, raise_exception=False)

# %% [markdown]
# ### Sigmoid: $\sigma(x) = 1 / (1 + e^{-x})$
#
# Differentiate with the chain rule on $(1 + e^{-x})^{-1}$:
#
# $$\sigma'(x) = \frac{e^{-x}}{(1 + e^{-x})^2} = \frac{1}{1 + e^{-x}} \cdot \frac{e^{-x}}{1 + e^{-x}}
#   = \sigma(x)\,\big(1 - \sigma(x)\big)$$
#
# since $e^{-x}/(1 + e^{-x}) = 1 - \sigma(x)$. The derivative is written with the *output* alone,
# so the backward saves y, not x: $g_x = g_y \cdot y (1 - y)$. (The forward below is written for
# any x without overflow: for $x < 0$ it uses the equal form $e^{x}/(1 + e^{x})$.)

# %%
class SigmoidFunction(minise.Function):
    """y = 1 / (1 + e^(−x)).   Backward: gx = gy · y (1 − y)."""

    def forward(self, x):
        e = np.exp(-np.abs(x))                               # ≤ 1: never overflows
        y = np.where(x >= 0, 1 / (1 + e), e / (1 + e))
        self.save_for_backward(y=y)
        return y

    def backward(self, gy):
        y = self.saved.y
        return (gy * y * (1 - y),)


class SigmoidFunctionForgotOneMinus(SigmoidFunction):
    def backward(self, gy):                                  # planted bug: σ' = σ
        return (gy * self.saved.y,)


xs = leaves((3, 4))[0]
assert np.allclose(SigmoidFunction()(xs).data, F.sigmoid(xs).data)
assert np.allclose(SigmoidFunction()(minise.Tensor(np.array([-800.0, 800.0]))).data, [0, 1])     # no overflow
print(minise.gradcheck(lambda t: SigmoidFunction()(t), [xs], seed=0))
assert not minise.gradcheck(lambda t: SigmoidFunctionForgotOneMinus()(t), [xs], seed=0, raise_exception=False)

# %% [markdown]
# ### The three together, as the excitation uses them
#
# Your three ops compose like minise's: $\sigma(\mathrm{ReLU}(z W_1^\top + b_1) W_2^\top + b_2)$.
# The engine chains their backwards; gradcheck checks the chain, and it agrees with minise's own ops.

# %%
def my_linear(x, w, b):                 # one op instance per call: it holds what one backward needs
    return LinearFunction()(x, w, b)


def my_relu(x):
    return ReLUFunction()(x)


def my_sigmoid(x):
    return SigmoidFunction()(x)


def excitation(linear, relu, sigmoid, z, w1, b1, w2, b2):
    return sigmoid(linear(relu(linear(z, w1, b1)), w2, b2))


z, w1, b1, w2, b2 = leaves((2, 8), (2, 8), (2,), (8, 2), (8,))
ours = excitation(my_linear, my_relu, my_sigmoid, z, w1, b1, w2, b2)
assert np.allclose(ours.data, excitation(F.linear, F.relu, F.sigmoid, z, w1, b1, w2, b2).data)
print(minise.gradcheck(lambda *t: excitation(my_linear, my_relu, my_sigmoid, *t),
                       {"z": z, "w1": w1, "b1": b1, "w2": w2, "b2": b2}, seed=0))

# %% [markdown]
# How does gradcheck know? And how can a check be fooled into passing a wrong backward? Lesson 2.
# Lesson 5 derives the whole SE block's backward, squeeze to scale, from these pieces.
#
# Exercises: `tutorials/exercises/relu_backward.py` and `tutorials/exercises/linear_backward.py`.
