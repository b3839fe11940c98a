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
# $$y_{ncij} = \max_{0 \le p, q < k} x_{n,\,c,\,is + p,\,js + q}$$
#
# Within its window the max is locally just the winner itself: ∂y/∂(winner) = 1, ∂y/∂(others) = 0.
# So backward hands each $g_{y,ncij}$ to the element that won window (i, j). When s < k windows
# overlap; an element that wins two windows receives the *sum* of their gradients.
#
# ### The tie rule
#
# If a window holds two equal maxima, max is not differentiable there: any split of gy between
# them is a valid subgradient. A library must pick one rule and apply it in forward (the
# argmax) and backward alike. minise follows PyTorch's CPU kernel: the **first** maximum in
# row-major order (smallest row, then smallest column) takes all of gy. `np.argmax` over a
# window flattened row by row returns exactly that first maximum, so the NumPy version below
# follows the same rule without saying so.

# %%
def maxpool_forward(x, k, s):
    N, C, H, W = x.shape
    Ho, Wo = (H - k) // s + 1, (W - k) // s + 1
    windows = np.empty((N, C, Ho, Wo, k * k))
    for p in range(k):
        for q in range(k):                                             # tap (p, q) of every window
            windows[..., p * k + q] = x[:, :, p:p + s * (Ho - 1) + 1:s, q:q + s * (Wo - 1) + 1:s]
    winner = windows.argmax(axis=-1)                                   # (N, C, Ho, Wo): first maximum
    return windows.max(axis=-1), (x.shape, winner, k, s)


def maxpool_backward(gy, cache, spread=False):
    shape, winner, k, s = cache
    Ho, Wo = winner.shape[2:]
    gx = np.zeros(shape)
    for p in range(k):
        for q in range(k):                                             # each tap takes gy where it won
            won = np.ones(winner.shape) if spread else (winner == p * k + q)   # spread: a planted bug
            gx[:, :, p:p + s * (Ho - 1) + 1:s, q:q + s * (Wo - 1) + 1:s] += gy * won   # +=: windows overlap
    return gx


x = rng.permutation(16).reshape(1, 1, 4, 4).astype(np.float64)        # distinct values: no ties
tx = Tensor(x, requires_grad=True)
y = F.max_pool2d(tx, kernel_size=2, stride=1)                         # overlapping 2×2 windows
y.backward(np.ones(y.shape))
print("x\n", x[0, 0], "\ny = max over 2×2 windows, stride 1\n", y.data[0, 0])
print("gx with gy = 1: how many windows each element won\n", tx.grad[0, 0])
ours, cache = maxpool_forward(x, 2, 1)
assert np.array_equal(ours, y.data) and np.array_equal(maxpool_backward(np.ones(y.shape), cache), tx.grad)
assert tx.grad.sum() == y.size                                         # every window gave its 1 to one element

ties = Tensor(np.array([[[[1.0, 3.0], [3.0, 0.0]]]]), requires_grad=True)
F.max_pool2d(ties, 2).backward(np.array([[[[5.0]]]]))
print("window [[1, 3], [3, 0]] -> gradient\n", ties.grad[0, 0])
assert np.array_equal(ties.grad[0, 0], [[0, 5], [0, 0]])              # the first 3, row by row, takes it all

many_ties = rng.integers(0, 3, (2, 3, 6, 6)).astype(np.float64)        # values 0, 1, 2: ties everywhere
gy = rng.standard_normal((2, 3, 2, 2))                                 # 3×3 windows, stride 2: 2×2 outputs
t_ties = Tensor(many_ties, requires_grad=True)
F.max_pool2d(t_ties, 3, stride=2).backward(gy)
assert np.array_equal(maxpool_backward(gy, maxpool_forward(many_ties, 3, 2)[1]), t_ties.grad)
print("on inputs full of ties, the NumPy backward and minise's route every gradient to the same element")

# %% [markdown]
# The derivation, checked by finite differences on tie-free inputs (nudge one of two tied values by
# +ε and it wins, by −ε and it loses: finite differences would see a kink), with a planted bug that
# hands gy to every element of the window instead of the winner only; and minise's own op:

# %%
free = rng.permutation(2 * 2 * 7 * 7).reshape(2, 2, 7, 7) / 10.0      # distinct values, 0.1 apart ≫ ε
forward = lambda a: maxpool_forward(a, 3, 2)
print(minise.check_backward(forward, maxpool_backward, [free], seed=0))
report = minise.check_backward(forward, lambda g, c: maxpool_backward(g, c, spread=True), [free], seed=0,
                               raise_exception=False)
assert not report
print("planted bug (gy to the whole window) caught:", report["0"].describe())
print(minise.gradcheck(lambda a: F.max_pool2d(a, 3, stride=2), [Tensor(free, requires_grad=True)], seed=0))

# %% [markdown]
# ## Average pooling, and global pooling (the squeeze)
#
# Average pooling divides each window's sum by its size, so every element of a window gets
# gy / (k·k): a gradient spread evenly. Global average pooling is the extreme case, one window as
# large as the feature map:
#
# $$z_{nc} = \frac{1}{HW} \sum_{h,w} x_{nchw} \quad\Longrightarrow\quad g_{x,nchw} = \frac{g_{z,nc}}{HW}$$
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
t_avg = Tensor(rng.standard_normal((1, 2, 6, 6)), requires_grad=True)
g_avg = rng.standard_normal((1, 2, 2, 2))
F.avg_pool2d(t_avg, 3).backward(g_avg)                                # 3×3 windows, stride 3: no overlap
assert np.allclose(t_avg.grad, np.kron(g_avg, np.ones((3, 3))) / 9)   # each window's gy, spread evenly: gy / (k·k)
print(minise.gradcheck(lambda a: F.avg_pool2d(a, 3, stride=2, padding=1), [Tensor(rng.standard_normal((1, 2, 5, 5)),
                                                                                requires_grad=True)], seed=0))

# %% [markdown]
# ## Batch normalisation
#
# For each channel, over the m values of the batch (m = N·H·W for images), training mode:
#
# $$\mu = \frac{1}{m}\sum_i x_i, \qquad \sigma_B^2 = \frac{1}{m}\sum_i (x_i - \mu)^2, \qquad
#   \sigma = \sqrt{\sigma_B^2 + \varepsilon}, \qquad \hat x_i = \frac{x_i - \mu}{\sigma}, \qquad
#   y_i = \gamma \hat x_i + \beta$$
#
# The easy gradients: gβ = Σ gy, gγ = Σ gy·x̂. For gx write g = gy·γ (the gradient at x̂). Every
# x̂ᵢ depends on every xⱼ, by three paths: directly, through μ, through σ:
#
# $$\frac{\partial \mu}{\partial x_j} = \frac{1}{m}, \qquad
#   \frac{\partial \sigma}{\partial x_j} = \frac{1}{2\sigma}\,\frac{2}{m}(x_j - \mu) = \frac{\hat x_j}{m}
#   \quad (\text{the } \textstyle\sum (x - \mu) \text{ term is } 0)$$
#
# $$\frac{\partial \hat x_i}{\partial x_j} = \frac{[i = j] - 1/m}{\sigma} - \frac{x_i - \mu}{\sigma^2}
#   \frac{\hat x_j}{m} = \frac{1}{\sigma}\Big([i = j] - \frac{1}{m} - \frac{\hat x_i \hat x_j}{m}\Big)$$
#
# Sum over i with weights gᵢ and collect the terms:
#
# $$g_{x_j} = \sum_i g_i \frac{\partial \hat x_i}{\partial x_j} = \frac{1}{m\sigma}\Big(m\, g_j - \sum_i g_i
#   - \hat x_j \sum_i g_i \hat x_i\Big)$$
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
assert np.allclose(right, wrong)
report = minise.check_backward(batchnorm_forward, backward_without_sigma_path, inputs, seed=0, raise_exception=False)
print(report)
assert not report

# %% [markdown]
# ### Images: (N, C, H, W), and m = N·H·W
#
# A convolutional layer's batch-norm normalises each channel over the batch *and* the positions:
# the statistics of channel c are taken over all $m = N \cdot H \cdot W$ values $x_{n,c,h,w}$, and
# γ, β have one entry per channel. Nothing in the derivation cared how the m values of a channel
# were arranged, so the same formulas hold with the sums taken over (n, h, w). In code: move the
# channel axis last and flatten the rest, (N, C, H, W) → (N·H·W, C), and the functions above apply
# unchanged; then move it back.

# %%
def batchnorm2d_forward(x, gamma, beta, eps=1e-5):
    N, C, H, W = x.shape
    rows = x.transpose(0, 2, 3, 1).reshape(-1, C)                       # (N·H·W, C): m rows per channel
    y, cache = batchnorm_forward(rows, gamma, beta, eps)
    return y.reshape(N, H, W, C).transpose(0, 3, 1, 2), (cache, x.shape)


def batchnorm2d_backward(gy, cache):
    cache2d, (N, C, H, W) = cache
    gx, ggamma, gbeta = batchnorm_backward(gy.transpose(0, 2, 3, 1).reshape(-1, C), cache2d)
    return gx.reshape(N, H, W, C).transpose(0, 3, 1, 2), ggamma, gbeta


shape = (2, 3, 3, 3) if FAST else (4, 3, 5, 5)
images = {"x": rng.standard_normal(shape) * 2 + 1, "gamma": rng.uniform(0.5, 2, 3), "beta": rng.standard_normal(3)}
print(minise.check_backward(batchnorm2d_forward, batchnorm2d_backward, images, seed=0))
y4, cache4 = batchnorm2d_forward(*images.values())
m4 = shape[0] * shape[2] * shape[3]
assert cache4[0][0].shape == (m4, 3)                                   # m = N·H·W values per channel
assert np.allclose(y4.mean(axis=(0, 2, 3)), images["beta"]) and np.allclose(y4.std(axis=(0, 2, 3)),
                                                                            images["gamma"], rtol=1e-3)
t4 = {k: Tensor(v, requires_grad=True) for k, v in images.items()}
out = F.batch_norm(t4["x"], None, None, t4["gamma"], t4["beta"], training=True)
gy4 = rng.standard_normal(shape)
out.backward(gy4)
assert np.allclose(out.data, y4)
assert all(np.allclose(a, t.grad) for a, t in zip(batchnorm2d_backward(gy4, cache4), t4.values()))
print(f"(N, C, H, W) = {shape}: m = {m4} values per channel; forward and the three gradients == F.batch_norm's")

# %% [markdown]
# ### Eval mode: running statistics
#
# At test time a prediction must not depend on the other images of the batch, so batch-norm uses
# *running* statistics instead, collected during training: after each training batch,
#
# $$\hat\mu \leftarrow (1 - \alpha)\,\hat\mu + \alpha\,\mu_B, \qquad
#   \hat\sigma^2 \leftarrow (1 - \alpha)\,\hat\sigma^2 + \alpha\,\frac{m}{m - 1}\,\sigma_B^2$$
#
# with `momentum` α = 0.1 as in PyTorch, and the unbiased batch variance. In eval mode $\hat\mu$ and
# $\hat\sigma^2$ are constants, so the layer is affine in x, $y = \gamma (x - \hat\mu) /
# \sqrt{\hat\sigma^2 + \varepsilon} + \beta$, and its backward has a single path:
#
# $$g_x = g_y\, \frac{\gamma}{\sqrt{\hat\sigma^2 + \varepsilon}}$$
#
# (no μ path, no σ path: the statistics no longer depend on x).

# %%
running_mean, running_var = np.zeros(3), np.ones(3)                   # the initial values, as in PyTorch
F.batch_norm(Tensor(images["x"]), running_mean, running_var, Tensor(images["gamma"]), Tensor(images["beta"]),
             training=True, momentum=0.1)
batch_mean, batch_var = images["x"].mean(axis=(0, 2, 3)), images["x"].var(axis=(0, 2, 3))
assert np.allclose(running_mean, 0.9 * 0 + 0.1 * batch_mean)
assert np.allclose(running_var, 0.9 * 1 + 0.1 * batch_var * m4 / (m4 - 1))
print("running mean", running_mean, " running var", running_var, "(one training batch: the formula above)")

per_channel = (1, 3, 1, 1)
scale = images["gamma"] / np.sqrt(running_var + 1e-5)
t_eval = Tensor(rng.standard_normal(shape), requires_grad=True)
y_eval = F.batch_norm(t_eval, running_mean, running_var, Tensor(images["gamma"]), Tensor(images["beta"]),
                      training=False)
expected = (t_eval.data - running_mean.reshape(per_channel)) * scale.reshape(per_channel) + images["beta"].reshape(
    per_channel)
gy_eval = rng.standard_normal(shape)
y_eval.backward(gy_eval)
assert np.allclose(y_eval.data, expected) and np.allclose(t_eval.grad, gy_eval * scale.reshape(per_channel))
print(minise.gradcheck(lambda t: F.batch_norm(t, running_mean, running_var, Tensor(images["gamma"]),
                                              Tensor(images["beta"]), training=False),
                       [Tensor(t_eval.data, requires_grad=True)], seed=0))
assert np.allclose(running_mean, 0.1 * batch_mean)                    # eval mode left the statistics alone
print("eval mode: y and gx = gy·γ/√(σ̂² + ε) as derived")

# %% [markdown]
# Exercises: `tutorials/exercises/maxpool_backward.py`, `tutorials/exercises/batchnorm_backward.py`.
