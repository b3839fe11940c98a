# %% [markdown]
# # 5. Squeeze-and-Excitation
#
# A convolution mixes channels with the same weights for every image. Hu et al. (SENet, arXiv
# 1709.01507) let each image re-weight its own channels: summarise every channel by one number
# (*squeeze*), feed those numbers through a tiny two-layer network that outputs one gate in
# (0, 1) per channel (*excitation*), and multiply each channel by its gate (*scale*):
#
#     z = (1/HW) Σ_{h,w} x[:, :, h, w]            (N, C)     squeeze: global average pooling
#     s = σ(W₂ · ReLU(W₁ · z + b₁) + b₂)          (N, C)     excitation: C → C/r → C
#     y = x · s  (channel by channel)             (N, C, H, W)
#
# The excitation is a bottleneck of two fully connected layers, FC → ReLU → FC → sigmoid, with a
# reduction ratio r: the paper settles on r = 16, minise's default (`nn.SEBlock(C, reduction=16)`;
# this lesson uses r = 4 so the tiny example keeps more than one hidden unit). The sigmoid lets
# several channels be emphasised at once, where a softmax would make them compete.
#
# The block costs 2C²/r weights and almost no arithmetic. What it buys, in the paper's own numbers
# (Hu et al., arXiv 1709.01507 v4, ImageNet validation set, single 224×224 crop):
#
# * Table 2, rows ResNet-50 and SE-ResNet-50: the authors' re-implementation of ResNet-50 has
#   24.80% top-1 / 7.48% top-5 error; adding SE blocks gives 23.29% / 6.62%, for about 10% more
#   parameters and 3.87 against 3.86 GFLOPs.
# * The ablation tables (Sec. 6) train in another setting, with their own ResNet-50 baseline of
#   23.30% top-1; there SE-ResNet-50 with r = 16 reaches 22.28% (Table 10, the reduction-ratio
#   ablation, row r = 16). Compare a number only with the baseline of its own table.
# * SENets were the basis of the winning ILSVRC 2017 classification entry (2.251% top-5 error).

# %%
import os

import numpy as np

import minise
import minise.functional as F
from minise import Tensor, nn

FAST = os.environ.get("MINISE_FAST") == "1"       # nothing to shrink: this lesson is quick
rng = np.random.default_rng(0)

# %% [markdown]
# ## The block with arrays, and with `minise.nn.SEBlock`

# %%
N, C, H, W, r = 2, 8, 5, 5, 4
x = rng.standard_normal((N, C, H, W))
w1, b1 = rng.standard_normal((C // r, C)) * 0.5, rng.standard_normal(C // r)
w2, b2 = rng.standard_normal((C, C // r)) * 0.5, rng.standard_normal(C)

z = x.mean(axis=(2, 3))                                         # (N, C)      squeeze
s = 1 / (1 + np.exp(-(np.maximum(z @ w1.T + b1, 0) @ w2.T + b2)))   # (N, C)  excitation
y = x * s[:, :, None, None]                                     # (N, C, H, W) scale

block = nn.SEBlock(C, reduction=r).double()
for layer, (w, b) in ((block.fc1, (w1, b1)), (block.fc2, (w2, b2))):
    layer.weight.data[...], layer.bias.data[...] = w, b
print(block)
print("arrays vs nn.SEBlock:", np.abs(block(Tensor(x)).data - y).max())
assert np.allclose(block(Tensor(x)).data, y)

# %% [markdown]
# ## The backward of the scale step
#
# y[n,c,h,w] = x[n,c,h,w] · s[n,c]. Each x element is used once; each gate s[n,c] multiplies all
# H·W positions of its channel, so its gradient collects H·W terms:
#
#     gx[n,c,h,w] = gy[n,c,h,w] · s[n,c]
#     gs[n,c]     = Σ_{h,w} gy[n,c,h,w] · x[n,c,h,w]
#
# This is `F.scale_channels` (the `ScaleChannels` op in minise/functional/scale.py); check it:

# %%
tx, ts = Tensor(x, requires_grad=True), Tensor(s, requires_grad=True)
gy = rng.standard_normal(y.shape)
F.scale_channels(tx, ts).backward(gy)
assert np.allclose(tx.grad, gy * s[:, :, None, None]) and np.allclose(ts.grad, (gy * x).sum(axis=(2, 3)))
print(minise.gradcheck(F.scale_channels, {"x": Tensor(x, requires_grad=True), "s": Tensor(s, requires_grad=True)},
                       seed=0, max_elements=40))

# %% [markdown]
# ## Two paths into x, and the 1/HW
#
# x reaches the output twice: directly through the scale (gy · s), and through the gates: s
# depends on z, and z on every x of its channel. Following gs back up the excitation gives gz,
# and the squeeze (a mean) hands each of the H·W positions the same share:
#
# $$g_x[n,c,h,w] = g_y[n,c,h,w]\,s[n,c] + \frac{g_z[n,c]}{HW}$$
#
# Does the second term shrink like 1/HW? Not by itself: gz comes from gs = Σ_{h,w} gy·x, a sum of
# H·W products. How fast that sum grows decides the answer:
#
# * gy and x unrelated (random, as in a gradient check): the H·W products have random signs, so
#   gs grows like √(HW) and the squeeze term shrinks like √(HW)/HW = 1/√(HW): 14 times from 4×4 to
#   56×56 (√196), not 196 times.
# * gy aligned with x (for the loss ½Σy², gy = y ∝ x): the products add up, gs grows like HW,
#   and the squeeze term does not shrink at all.
#
# Measure it: the squeeze path's share of gx (root mean square of the difference between gx with
# and without the path, over the gx without it), with a planted bug that computes the squeeze
# outside the graph. (b₁ is made positive here so both hidden units are active: with a ReLU off,
# no gradient reaches the squeeze at all.)

# %%
def se(x, w1, b1, w2, b2, squeeze_in_graph=True):
    z = x.mean(axis=(2, 3)) if squeeze_in_graph else Tensor(x.data.mean(axis=(2, 3)))   # planted bug
    s = F.sigmoid(F.linear(F.relu(F.linear(z, w1, b1)), w2, b2))
    return F.scale_channels(x, s)


params = [Tensor(a, requires_grad=True) for a in (w1, np.abs(b1) + 0.5, w2, b2)]
sizes, share = (4, 8, 16, 32, 56), {}
for aligned in (False, True):
    for size in sizes:
        xs, upstream = rng.standard_normal((2, 16, C, size, size))
        upstream = xs if aligned else upstream
        grads = []
        for in_graph in (True, False):
            t = Tensor(xs, requires_grad=True)
            se(t, *params, squeeze_in_graph=in_graph).backward(upstream)
            grads.append(t.grad)
        share[aligned, size] = np.sqrt(((grads[0] - grads[1]) ** 2).mean() / (grads[1] ** 2).mean())
    print(("gy = x        " if aligned else "gy random    ") + "  ".join(f"{size}×{size}: {share[aligned, size]:.4f}"
                                                                     for size in sizes))
shrink_random, shrink_aligned = share[False, 4] / share[False, 56], share[True, 4] / share[True, 56]
print(f"from 4×4 to 56×56 the squeeze path's share shrinks {shrink_random:.1f}× (random gy), "
      f"{shrink_aligned:.1f}× (gy = x); 1/√HW predicts {np.sqrt(56 * 56 / 16):.0f}×, 1/HW {56 * 56 // 16}×")
assert 7 < shrink_random < 28 and 0.5 < shrink_aligned < 2

# %% [markdown]
# With random gradients, as every gradient check uses, the squeeze path is several percent of gx
# at 4×4 but under 1% at 56×56, inside the tolerance atol = rtol = 1e-2 that float32 checks
# commonly need (lesson 2: float32 finite differences are off by about 0.7%). So a gradient
# check of an SE block at realistic sizes can pass a broken squeeze. minise's tests check the SE
# block at small spatial sizes, where the path is loud, and `gradcheck` catches the planted bug
# there:

# %%
small = Tensor(rng.standard_normal((2, C, 3, 3)), requires_grad=True)
print(minise.gradcheck(lambda t: se(t, *params), [small], seed=1))
bad = minise.gradcheck(lambda t: se(t, *params, squeeze_in_graph=False), [small], seed=1, raise_exception=False)
print(bad)
assert not bad

size = 56                                   # cheap: gradcheck samples 20 elements (max_elements, lesson 3)
big = Tensor(rng.standard_normal((1, C, size, size)), requires_grad=True)
loose = {}
for tol in (1e-2, 1e-4):
    loose[tol] = minise.gradcheck(lambda t: se(t, *params, squeeze_in_graph=False), [big], seed=1, rtol=tol, atol=tol,
                                  max_elements=20, raise_exception=False)
    print(f"the same bug at {size}×{size}, atol = rtol = {tol:g}:", "passes (!)" if loose[tol] else "caught")
assert loose[1e-2] and not loose[1e-4], "at 56×56 only a tight check sees the dropped squeeze path"

# %% [markdown]
# Exercise: `tutorials/exercises/scale_channels_backward.py`. Next lesson: where the block goes in
# a residual network, and what it costs.
