# %% [markdown]
# # 5. Squeeze-and-Excitation
#
# A convolution mixes channels with the same weights for every image. Hu et al. (SENet, arXiv
# 1709.01507) let each image re-weight its own channels: summarise every channel by one number
# (*squeeze*), feed those numbers through a tiny two-layer network that outputs one gate in
# (0, 1) per channel (*excitation*), and multiply each channel by its gate (*scale*):
#
# $$z_{nc} = \frac{1}{HW}\sum_{h,w} x_{nchw} \qquad \text{squeeze: global average pooling, } (N, C)$$
#
# $$s = \sigma\big(\mathrm{ReLU}(z W_1^\top + b_1)\, W_2^\top + b_2\big) \qquad
#   \text{excitation: } C \to C/r \to C,\ (N, C)$$
#
# $$y_{nchw} = x_{nchw}\, s_{nc} \qquad \text{scale, channel by channel: } (N, C, H, W)$$
#
# The excitation is a bottleneck of two fully connected layers, FC → ReLU → FC → sigmoid, with a
# reduction ratio r: the paper uses r = 16 for its models, minise's default too
# (`nn.SEBlock(C, reduction=16)`; this lesson uses r = 4 so the tiny example keeps more than one
# hidden unit). The sigmoid lets several channels be emphasised at once, where a softmax would make
# them compete.
#
# The block costs 2C²/r weights and almost no arithmetic. What it buys, in the paper's own numbers
# (Hu et al., arXiv 1709.01507 v4, top-1 error on the ImageNet validation set, single centre crop):
#
# * Table 2: the authors' re-implementation of ResNet-50 has 24.80% top-1 error (the table also
#   lists 24.7% for ResNet-50 as first published); adding SE blocks gives 23.29%, for about 2.5
#   million parameters on top of about 25 million (about 10% more) and little extra computation.
# * The ablation studies (Sec. 6, Tables 10–15) train with another schedule, and so have their own
#   ResNet-50 baseline: 23.30% top-1. There SE-ResNet-50 with r = 16 reaches 22.28%, a row that
#   every one of those tables repeats. Compare a number only with the baseline of its own table.
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
N, C, H, W, r = 4, 8, 5, 5, 4
x = rng.standard_normal((N, C, H, W)) + rng.standard_normal((N, C, 1, 1))     # channels with means of their own
w1, b1 = rng.standard_normal((C // r, C)) * 0.5, rng.standard_normal(C // r) * 0.3
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
# $y_{nchw} = x_{nchw}\, s_{nc}$. Each x element is used once; each gate $s_{nc}$ multiplies all
# H·W positions of its channel, so its gradient collects H·W terms:
#
# $$g_{x,nchw} = g_{y,nchw}\, s_{nc} \qquad g_{s,nc} = \sum_{h,w} g_{y,nchw}\, x_{nchw}$$
#
# This is `F.scale_channels` (the `ScaleChannelsFunction` op in minise/functional/scale.py); check it:

# %%
tx, ts = Tensor(x, requires_grad=True), Tensor(s, requires_grad=True)
gy = rng.standard_normal(y.shape)
F.scale_channels(tx, ts).backward(gy)
assert np.allclose(tx.grad, gy * s[:, :, None, None]) and np.allclose(ts.grad, (gy * x).sum(axis=(2, 3)))
print(minise.gradcheck(F.scale_channels, {"x": Tensor(x, requires_grad=True), "s": Tensor(s, requires_grad=True)},
                       seed=0, max_elements=40))

# %% [markdown]
# ## The whole block's backward, derived
#
# Name every intermediate of the forward pass, then walk it backwards, one step per line, each
# step an op whose backward lesson 1 derived:
#
# | forward | backward |
# |---|---|
# | $z = \frac{1}{HW}\sum_{h,w} x$ | $g_x \mathrel{+}= g_z / HW$, copied to every position (a mean spreads evenly) |
# | $a_1 = z W_1^\top + b_1$ | $g_z = g_{a_1} W_1,\ g_{W_1} = g_{a_1}^\top z,\ g_{b_1} = \sum_n g_{a_1}$ (linear) |
# | $h = \mathrm{ReLU}(a_1)$ | $g_{a_1} = g_h \cdot [a_1 > 0]$ |
# | $a_2 = h W_2^\top + b_2$ | $g_h = g_{a_2} W_2,\ g_{W_2} = g_{a_2}^\top h,\ g_{b_2} = \sum_n g_{a_2}$ (linear) |
# | $s = \sigma(a_2)$ | $g_{a_2} = g_s \cdot s(1 - s)$ |
# | $y = x \cdot s$ | $g_x = g_y \cdot s,\ g_s = \sum_{h,w} g_y \cdot x$ (the scale, above) |
#
# Read the right column from the bottom up: that is the backward pass. x appears twice in the
# forward (in the squeeze and in the scale), so its gradient is the sum of the two paths.

# %%
def se_forward(x, w1, b1, w2, b2):
    z = x.mean(axis=(2, 3))                               # (N, C)       squeeze
    a1 = z @ w1.T + b1                                    # (N, C/r)
    h = np.maximum(a1, 0)
    a2 = h @ w2.T + b2                                    # (N, C)
    s = 1 / (1 + np.exp(-a2))                             # (N, C)       gates
    y = x * s[:, :, None, None]                           # (N, C, H, W) scale
    return y, (x, z, a1, h, s, w1, w2)


def se_backward(gy, cache, squeeze_path=True):
    x, z, a1, h, s, w1, w2 = cache
    gx = gy * s[:, :, None, None]                         # scale, direct path
    gs = (gy * x).sum(axis=(2, 3))                        # (N, C)
    ga2 = gs * s * (1 - s)                                # sigmoid
    gh, gw2, gb2 = ga2 @ w2, ga2.T @ h, ga2.sum(axis=0)   # fc2
    ga1 = gh * (a1 > 0)                                   # ReLU
    gz, gw1, gb1 = ga1 @ w1, ga1.T @ z, ga1.sum(axis=0)   # fc1
    if squeeze_path:
        gx = gx + gz[:, :, None, None] / (x.shape[2] * x.shape[3])   # squeeze: the second path into x
    return gx, gw1, gb1, gw2, gb2


def se_backward_without_squeeze(gy, cache):               # planted bug: the path through the gates forgotten
    return se_backward(gy, cache, squeeze_path=False)


arrays = {"x": x, "w1": w1, "b1": b1, "w2": w2, "b2": b2}
_, cache = se_forward(*arrays.values())
active = cache[2] > 0
print(f"{active.sum()} of {active.size} hidden units active")
assert active.any() and not active.all()                  # the ReLU's mask is exercised both ways
print(minise.check_backward(se_forward, se_backward, arrays, seed=0))
report = minise.check_backward(se_forward, se_backward_without_squeeze, arrays, seed=0, raise_exception=False)
print(report)
assert not report and not report["x"].passed and report["w1"].passed

# %% [markdown]
# And minise's `nn.SEBlock`, differentiated by the engine op by op, gives the same five gradients:

# %%
gy = rng.standard_normal(x.shape)
tx = Tensor(x, requires_grad=True)
block.zero_grad()
block(tx).backward(gy)
derived = se_backward(gy, cache)
engine = (tx.grad, block.fc1.weight.grad, block.fc1.bias.grad, block.fc2.weight.grad, block.fc2.bias.grad)
for name, ours, theirs in zip(arrays, derived, engine):
    print(f"{name:>3}: derived vs nn.SEBlock, max difference {np.abs(ours - theirs).max():.1e}")
    assert np.allclose(ours, theirs)

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
assert share[False, 4] > 0.02 and share[False, 56] < 0.01     # several percent at 4×4, under 1% at 56×56

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
