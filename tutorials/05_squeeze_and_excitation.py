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
# The block costs 2C²/r weights and almost no arithmetic. In the paper's own re-implementation
# (Hu et al., arXiv 1709.01507, Table 2, single 224×224 crop on ImageNet) it takes ResNet-50 from
# 24.80% to 22.28% top-1 error, for about 10% more parameters and well under 1% more FLOPs; and
# SENets were the basis of the winning ILSVRC 2017 classification entry (2.251% top-5 error).

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
#     gx = gy · s  +  gz[n, c] / (H·W)
#
# The second term shrinks like 1/HW. On a 56×56 map (SE-ResNet's first stage) it is 3136 times
# smaller than its channel's gz: a backward that drops the squeeze path entirely changes gx by a
# tiny fraction. Let's measure it, with a planted bug: the squeeze computed outside the graph.

# %%
def se(x, w1, b1, w2, b2, squeeze_in_graph=True):
    z = x.mean(axis=(2, 3)) if squeeze_in_graph else Tensor(x.data.mean(axis=(2, 3)))   # planted bug
    s = F.sigmoid(F.linear(F.relu(F.linear(z, w1, b1)), w2, b2))
    return F.scale_channels(x, s)


params = [Tensor(a, requires_grad=True) for a in (w1, b1, w2, b2)]
for size in (4, 56):
    xs, upstream = rng.standard_normal((2, 1, C, size, size))
    grads = []
    for in_graph in (True, False):
        t = Tensor(xs, requires_grad=True)
        se(t, *params, squeeze_in_graph=in_graph).backward(upstream)
        grads.append(t.grad)
    change = np.abs(grads[0] - grads[1]).max() / np.abs(grads[0]).max()
    print(f"H = W = {size:2d}: dropping the squeeze path changes gx by at most {change:.1e} of its size")

# %% [markdown]
# At 4×4 the squeeze path matters (a change of order 1e-1); at 56×56 it is of order 1e-3, inside a
# loose tolerance such as rtol = 1e-2. So a gradient check of an SE block at realistic sizes can
# pass a broken squeeze. minise's tests check the SE block at small spatial sizes, where the
# path is loud, and `gradcheck` catches the planted bug there:

# %%
small = Tensor(rng.standard_normal((2, C, 3, 3)), requires_grad=True)
print(minise.gradcheck(lambda t: se(t, *params), [small], seed=1))
bad = minise.gradcheck(lambda t: se(t, *params, squeeze_in_graph=False), [small], seed=1, raise_exception=False)
print(bad)
assert not bad

size = 56                                   # cheap: gradcheck samples 20 elements
big = Tensor(rng.standard_normal((1, C, size, size)), requires_grad=True)
loose = minise.gradcheck(lambda t: se(t, *params, squeeze_in_graph=False), [big], seed=1, rtol=1e-2, atol=1e-3,
                         max_elements=20, raise_exception=False)
print(f"the same bug at {size}×{size} with a loose tolerance:", "passes (!)" if loose else "caught")

# %% [markdown]
# Exercise: `tutorials/exercises/scale_channels_backward.py`. Next lesson: where the block goes in
# a residual network, and what it costs.
