# %% [markdown]
# # 4. Pooling and batch normalisation
#
# Two layers every ResNet uses, with two instructive backward passes: max-pooling routes each
# gradient to one winner (and must decide what a tie means), batch-norm couples every sample of a
# batch to every other (its backward has three paths and one closed form).

# %%
import os

import numpy as np

import minise
import minise.functional as F
from minise import Tensor

FAST = os.environ.get("MINISE_FAST") == "1"
rng = np.random.default_rng(0)

# %% [markdown]
# ## Max pooling
#
#     y[n, c, i, j] = max over the k×k window at (i·s, j·s) of x[n, c]
#
# Within its window the max is locally just the winner itself: ∂y/∂(winner) = 1, ∂y/∂(others) = 0.
# So backward hands each gy[n, c, i, j] to the element that won window (i, j). When s < k windows
# overlap; an element that wins two windows receives the *sum* of their gradients.

# %%
x = rng.permutation(16).reshape(1, 1, 4, 4).astype(np.float64)   # distinct values: no ties
tx = Tensor(x, requires_grad=True)
y = F.max_pool2d(tx, kernel_size=2, stride=1)                         # overlapping 2×2 windows
y.backward(np.ones(y.shape))
print("x\n", x[0, 0], "\ny = max over 2×2 windows, stride 1\n", y.data[0, 0])
print("gx with gy = 1: how many windows each element won\n", tx.grad[0, 0])

# %% [markdown]
# ### The tie rule
#
# If a window holds two equal maxima, max is not differentiable there: any split of gy between
# them is a valid subgradient. A library must pick one rule and apply it in forward (the
# argmax) and backward alike. minise follows PyTorch's CPU kernel: the **first** maximum in
# row-major order (smallest row, then smallest column) takes all of gy.

# %%
ties = Tensor(np.array([[[[1.0, 3.0], [3.0, 0.0]]]]), requires_grad=True)
F.max_pool2d(ties, 2).backward(np.array([[[[5.0]]]]))
print("window [[1, 3], [3, 0]] -> gradient\n", ties.grad[0, 0])

# %% [markdown]
# Ties are why gradient checks of max-pooling draw tie-free inputs: nudge one of two tied values
# by +ε and it wins, by −ε and it loses, so finite differences see a kink.
#
# ## Average pooling, and global pooling (the squeeze)
#
# Average pooling divides each window's sum by its size, so every element of a window gets
# gy / (k·k): a gradient spread evenly. Global average pooling is the extreme case, one window as
# large as the feature map:
#
#     z[n, c] = (1 / HW) Σ_{h,w} x[n, c, h, w]       ⇒      gx[n, c, h, w] = gz[n, c] / HW
#
# This is the *squeeze* of a Squeeze-and-Excitation block (lesson 5). Note the 1/HW: on a 56×56
# feature map every element receives 1/3136 of the channel's gradient.

# %%
xa = Tensor(rng.standard_normal((2, 3, 4, 4)), requires_grad=True)
z = F.adaptive_avg_pool2d(xa, 1)                                       # (2, 3, 1, 1)
gz = rng.standard_normal(z.shape)
z.backward(gz)
assert np.allclose(xa.grad, np.broadcast_to(gz / 16, xa.shape))
print("global average pool: z", z.shape, " gx = gz / (H·W) everywhere: ok")
print(minise.gradcheck(lambda a: F.avg_pool2d(a, 3, stride=2, padding=1), [Tensor(rng.standard_normal((1, 2, 5, 5)),
                                                                                requires_grad=True)], seed=0))

# %% [markdown]
# ## Batch normalisation
#
# For each channel, over the m values of the batch (m = N·H·W for images), training mode:
#
#     μ = (1/m) Σ x          σ² = (1/m) Σ (x − μ)²         σ = √(σ² + ε)
#     x̂ = (x − μ) / σ        y = γ·x̂ + β
#
# The easy gradients: gβ = Σ gy, gγ = Σ gy·x̂. For gx write g = gy·γ (the gradient at x̂). Every
# x̂ᵢ depends on every xⱼ, by three paths: directly, through μ, through σ:
#
#     ∂μ/∂xⱼ = 1/m
#     ∂σ/∂xⱼ = (1/2σ)·∂σ²/∂xⱼ = (1/2σ)·(2/m)(xⱼ − μ) = x̂ⱼ / m          (the Σ(x − μ) term is 0)
#     ∂x̂ᵢ/∂xⱼ = ([i = j] − 1/m)/σ − (xᵢ − μ)/σ² · x̂ⱼ/m = (1/σ)·([i = j] − 1/m − x̂ᵢx̂ⱼ/m)
#
# Sum over i with weights gᵢ and collect the terms:
#
#     gxⱼ = Σᵢ gᵢ ∂x̂ᵢ/∂xⱼ = (1 / (m·σ)) · (m·gⱼ − Σᵢ gᵢ − x̂ⱼ · Σᵢ gᵢx̂ᵢ)
#
# Read it: the gradient is g, minus its mean (the μ path), minus its projection on x̂ (the σ
# path). The output of batch-norm cannot change under a shift of its input (μ moves with it), so
# its gradient is orthogonal to the all-ones direction: Σⱼ gxⱼ = 0 exactly. Under a scaling
# x → (1 + t)x it is invariant only when ε = 0: σ = √(σ_B² + ε) (σ_B² the batch variance) does not
# grow with x, so x̂ still moves a little. Using x − μ = σ·x̂, Σ x̂ = 0 and Σ x̂² = m·σ_B²/σ²:
#
# $$\sum_j g_{x_j}(x_j - \mu) = \Big(\sum_i g_i \hat x_i\Big)\,\frac{\varepsilon}{\sigma_B^2 + \varepsilon}$$
#
# zero for ε = 0, small (not zero) for the usual ε = 1e-5. Both facts are checked below. And the classic bug, forgetting the σ path, is
# invisible with an all-ones gy, because Σ x̂ = 0 kills the term anyway.

# %%
def batchnorm_forward(x, gamma, beta, eps=1e-5):
    mu, var = x.mean(axis=0), x.var(axis=0)
    inv_std = 1 / np.sqrt(var + eps)
    x_hat = (x - mu) * inv_std
    return gamma * x_hat + beta, (x_hat, inv_std, gamma)


def batchnorm_backward(gy, cache):
    x_hat, inv_std, gamma = cache
    m = len(x_hat)
    g = gy * gamma
    gx = inv_std / m * (m * g - g.sum(axis=0) - x_hat * (g * x_hat).sum(axis=0))
    return gx, (gy * x_hat).sum(axis=0), gy.sum(axis=0)


m, d = (6, 3) if FAST else (32, 8)
inputs = {"x": rng.standard_normal((m, d)) * 3 + 1, "gamma": rng.uniform(0.5, 2, d), "beta": rng.standard_normal(d)}
print(minise.check_backward(batchnorm_forward, batchnorm_backward, inputs, seed=0))

gy, along = rng.standard_normal((m, d)), {}
for eps in (1e-5, 0.0):                  # the shift and the scaling directions, with and without ε
    _, (x_hat, inv_std, gamma) = batchnorm_forward(inputs["x"], inputs["gamma"], inputs["beta"], eps)
    gx = batchnorm_backward(gy, (x_hat, inv_std, gamma))[0]
    centred = inputs["x"] - inputs["x"].mean(axis=0)
    var = inputs["x"].var(axis=0)
    along_scaling = along[eps] = (gx * centred).sum(axis=0)
    predicted = (gy * gamma * x_hat).sum(axis=0) * eps / (var + eps)
    print(f"eps = {eps:g}: Σ gx = {np.abs(gx.sum(axis=0)).max():.1e},  gx·(x − μ) = {np.abs(along_scaling).max():.1e}")
    assert np.allclose(gx.sum(axis=0), 0, atol=1e-10) and np.allclose(along_scaling, predicted, atol=1e-10)
assert np.abs(along[0.0]).max() < 1e-10 and np.abs(along[1e-5]).max() > 1e-8     # zero only for ε = 0

tensors = {k: Tensor(v, requires_grad=True) for k, v in inputs.items()}
y = F.batch_norm(tensors["x"], None, None, tensors["gamma"], tensors["beta"], training=True)
gy = rng.standard_normal(y.shape)
y.backward(gy)
ours = batchnorm_backward(gy, batchnorm_forward(*inputs.values())[1])
assert all(np.allclose(a, t.grad) for a, t in zip(ours, tensors.values()))
print("closed form == minise.functional.batch_norm's backward")

# %% [markdown]
# ### The planted bug, and why gradcheck's upstream gradient is random

# %%
def backward_without_sigma_path(gy, cache):
    x_hat, inv_std, gamma = cache
    g = gy * gamma
    return inv_std * (g - g.mean(axis=0)), (gy * x_hat).sum(axis=0), gy.sum(axis=0)


cache = batchnorm_forward(*inputs.values())[1]
ones = np.ones((m, d))
right, wrong = batchnorm_backward(ones, cache)[0], backward_without_sigma_path(ones, cache)[0]
print("all-ones gy: right and wrong gx agree?", np.allclose(right, wrong))
report = minise.check_backward(batchnorm_forward, backward_without_sigma_path, inputs, seed=0, raise_exception=False)
print(report)
assert not report

# %% [markdown]
# In **eval** mode μ and σ² are the running statistics, constants, so the layer is affine and
# gx = gy·γ/σ. The running statistics move towards each batch's μ and σ² (the unbiased
# m/(m − 1)·σ²) in training, with `momentum` 0.1 as in PyTorch.
#
# Exercises: `tutorials/exercises/maxpool_backward.py`, `tutorials/exercises/batchnorm_backward.py`.
