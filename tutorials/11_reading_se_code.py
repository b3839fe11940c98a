# %% [markdown]
# # 11. Reading SE code critically: six mistakes, measured
#
# The SE block is three lines of math, and write-ups of it online get those lines wrong in the
# same few ways. None of the mistakes below crashes on the input its author tried; each one
# changes what the network computes or what a reader believes it costs. For each: the mistake as
# code, its symptom **measured** with minise, the fix, and a check that the fix holds.
#
# | | mistake | symptom |
# |---|---|---|
# | (a) | softmax before a cross-entropy that already applies log-softmax | tiny gradients, a loss that cannot fall below a floor |
# | (b) | average-pooling window hard-coded for one input size | pools a sub-window, or breaks, at another size |
# | (c) | the gate's sigmoid written as a ReLU | unbounded gates, dead channels |
# | (d) | SE described as a same-width 1×1 convolution | $C^2$ weights instead of $2C^2/r$, and nothing pooled |
# | (e) | hidden width $\lfloor C/r \rfloor = 0$ when $C < r$ | a constant gate of 0.5 |
# | (f) | FC biases left out of (or counted in) $\frac{2}{r}\sum_s N_s C_s^2$ | a parameter count off by $\sum_s N_s (C_s/r + C_s)$ |

# %%
import os

import numpy as np
from lesson_figures import new_figure, show  # tutorials/lesson_figures.py: inline in Jupyter, a PNG file otherwise

import minise
import minise.functional as F
from minise import Tensor, models, nn, optim
from minise.data import DataLoader, Digits

FAST = os.environ.get("MINISE_FAST") == "1"
rng = np.random.default_rng(0)

# %% [markdown]
# ## (a) Softmax, then a cross-entropy that applies log-softmax again
#
# `F.cross_entropy(logits, y)` (like PyTorch's) computes $-\log \operatorname{softmax}(z)_y$ from
# the raw scores $z$. A model that ends in a softmax and feeds its probabilities $q$ to it computes
# $-\log \operatorname{softmax}(q)_y$ instead. Two things follow, both derivable:
#
# * **A floor under the loss.** $q \in [0, 1]^K$, so the best case is $q$ one-hot on the right
#   class: $-\log \frac{e}{e + K - 1} = \log(1 + (K-1)/e)$, which is $1.46$ for $K = 10$. The loss
#   can never fall below it, however well the model classifies.
# * **Shrunk gradients.** The gradient reaching $z$ passes the softmax's Jacobian
#   $J = \operatorname{diag}(q) - q q^\top$, whose entries are at most $\frac14$ in size and, for
#   an untrained model with $q \approx \frac1K$, about $\frac1K$: the model learns roughly $K$
#   times slower.

# %%
K = 10
floor = np.log(1 + (K - 1) / np.e)
z = Tensor(rng.normal(scale=0.1, size=(64, K)).astype(np.float32), requires_grad=True)
y = Tensor(rng.integers(0, K, size=64))
F.cross_entropy(z, y).backward()
g_right = np.linalg.norm(z.grad)
z.grad = None
F.cross_entropy(F.softmax(z, dim=1), y).backward()
g_wrong = np.linalg.norm(z.grad)
print(f"loss floor with the extra softmax: log(1 + 9/e) = {floor:.4f}")
print(f"‖∂L/∂z‖ on an untrained batch: {g_right:.4f} right, {g_wrong:.4f} with the extra softmax "
      f"({g_right / g_wrong:.1f}× smaller)")
one_hot = np.eye(K, dtype=np.float64)[:1]
assert np.isclose(F.cross_entropy(Tensor(one_hot), Tensor(np.array([0]))).item(), floor)
assert g_wrong < g_right / 5

# %% [markdown]
# The training curves: the same small network, the same batches, once with the mistake.

# %%
digits = Digits(train=True)
EPOCHS = 3 if FAST else 15


def train(extra_softmax):
    minise.manual_seed(0)
    net = nn.Sequential(nn.Flatten(), nn.Linear(64, 32), nn.ReLU(), nn.Linear(32, K))
    opt = optim.SGD(net.parameters(), lr=0.1, momentum=0.9)
    losses = []
    for epoch in range(EPOCHS):
        total, count = 0.0, 0
        for xb, yb in DataLoader(digits, batch_size=64, shuffle=True, seed=epoch):
            out = net(Tensor(xb))
            loss = F.cross_entropy(F.softmax(out, dim=1) if extra_softmax else out, Tensor(yb))
            opt.zero_grad()
            loss.backward()
            opt.step()
            total, count = total + loss.item() * len(yb), count + len(yb)
        losses.append(total / count)
    return losses


right, wrong = train(False), train(True)
print("epoch loss, right:       ", " ".join(f"{v:.3f}" for v in right))
print("epoch loss, extra softmax:", " ".join(f"{v:.3f}" for v in wrong))
assert min(wrong) >= floor - 1e-6                       # the floor holds, as derived
assert right[-1] < wrong[-1]

figure = new_figure(figsize=(5, 3))
if figure is not None:
    ax = figure.subplots()
    ax.plot(range(1, EPOCHS + 1), right, "o-", label="logits → cross_entropy")
    ax.plot(range(1, EPOCHS + 1), wrong, "s-", label="softmax → cross_entropy")
    ax.axhline(floor, color="gray", ls="--", label=f"floor log(1 + 9/e) = {floor:.2f}")
    ax.set(xlabel="epoch", ylabel="training loss", title="(a) a softmax too many")
    ax.legend(fontsize=8)
    figure.tight_layout()
    show(figure, "11_softmax_twice")

# %% [markdown]
# **Fix**: the model returns logits (every minise model does); the loss applies log-softmax.
# **Check**: the right run's loss goes below the floor, which the mistaken run never can.

# %%
assert right[-1] < floor or FAST
print(f"right run's last loss {right[-1]:.3f} {'<' if right[-1] < floor else '≥'} floor {floor:.3f}")

# %% [markdown]
# ## (b) An average-pooling window hard-coded per channel count
#
# In SE-ResNet-50 at 224×224 the last stage's maps are 7×7, so some write-ups squeeze with
# `AvgPool2d(7)` (or pick the window from the channel count: 256 → 56, 512 → 28, ...). That is
# global pooling only at that one input size. At 8×8 the 7×7 window pools the top-left corner and
# silently ignores the last row and column; at 14×14 it returns a 2×2 map that no longer fits
# the first FC layer.

# %%
class HardCodedSqueezeSE(nn.SEBlock):
    def global_pool(self, x):
        z = F.avg_pool2d(x, 7)                              # (N, C, H // 7, W // 7): 1×1 only if H, W < 14
        return z.reshape(x.shape[0], -1)                    # (N, C · (H // 7) · (W // 7))


se = HardCodedSqueezeSE(16, reduction=4)
x = Tensor(rng.normal(size=(2, 16, 8, 8)), requires_grad=True)
z = se.global_pool(x)
z.sum().backward()
ignored = (x.grad == 0).all(axis=(0, 1))                    # (H, W): pixels that do not reach z
print(f"8×8 input: {int(ignored.sum())} of 64 pixels never reach the squeeze (row 8 and column 8)")
assert ignored[7, :].all() and ignored[:, 7].all() and not ignored[:7, :7].any()
try:
    se(Tensor(rng.normal(size=(2, 16, 14, 14))))
    raise AssertionError("a 14×14 input should not fit")
except nn.InputShapeError as error:
    print(f"14×14 input: {type(error).__name__}: {str(error)[:110]}...")

# %% [markdown]
# **Fix**: global pooling, $z_c = \frac{1}{HW}\sum_{h,w} x_{c,h,w}$ at whatever size arrives (what
# `nn.SEBlock` does, `x.mean(axis=(2, 3))`). **Check**: the gradient of $\sum_c z_c$ is
# $\frac{1}{HW}$ at every pixel, for every size.

# %%
for size in (1, 7, 8, 14):
    x = Tensor(rng.normal(size=(2, 16, size, size)), requires_grad=True)
    nn.SEBlock(16, reduction=4).global_pool(x).sum().backward()
    assert np.allclose(x.grad, 1 / size ** 2)
print("global pooling: gradient 1/(H·W) at every pixel for sizes 1, 7, 8 and 14")

# %% [markdown]
# ## (c) The excitation's sigmoid written as a ReLU
#
# The gate $s = \sigma(\cdot)$ lies in $(0, 1)$: it can only damp a channel, never switch it off
# completely and never amplify it. Written as a ReLU (a slip when copying "FC, ReLU, FC, ..."),
# the gate is unbounded above and exactly 0 for about half the channels at initialisation: those
# channels are removed from the block's output, and the gradient that reaches them through the
# scale, $\partial L/\partial x = g\,s$, is zero too.

# %%
minise.manual_seed(1)
relu_gated = nn.SEBlock(64, reduction=4)
relu_gated.gate = nn.ReLU()                                 # the mistake
x = Tensor((rng.normal(size=(32, 64, 4, 4)) + 1.0).astype(np.float32))
s_relu = relu_gated.excite(relu_gated.global_pool(x)).numpy()
minise.manual_seed(1)
sigmoid_gated = nn.SEBlock(64, reduction=4)                 # the same weights, the right gate
s_sigmoid = sigmoid_gated.excite(sigmoid_gated.global_pool(x)).numpy()
print(f"ReLU gate:    {100 * (s_relu == 0).mean():.0f}% of gates exactly 0 (dead), largest gate {s_relu.max():.2f}")
print(f"sigmoid gate: {100 * (s_sigmoid == 0).mean():.0f}% exactly 0, range [{s_sigmoid.min():.3f}, {s_sigmoid.max():.3f}]")
assert (s_relu == 0).mean() > 0.2
assert ((s_sigmoid > 0) & (s_sigmoid < 1)).all()
louder = Tensor(5 * x.numpy())                              # the same images, 5 times brighter
big_relu = relu_gated.excite(relu_gated.global_pool(louder)).numpy().max()
big_sigmoid = sigmoid_gated.excite(sigmoid_gated.global_pool(louder)).numpy().max()
print(f"inputs × 5: largest ReLU gate {big_relu:.2f} (it amplifies), largest sigmoid gate {big_sigmoid:.3f}")
assert big_relu > 1 and big_sigmoid < 1

# %% [markdown]
# **Fix**: `sigmoid`, the paper's choice (its Table 12 compares the excitation's non-linearity
# with alternatives; minise also offers `nn.SEBlock(..., activation="tanh")` for such experiments).
# **Check**: every gate strictly inside (0, 1), as asserted above; no channel of any image's
# output is identically zero.

# %%
off_sigmoid = (np.abs(sigmoid_gated(x).numpy()).sum(axis=(2, 3)) == 0).mean()    # per (image, channel)
off_relu = (np.abs(relu_gated(x).numpy()).sum(axis=(2, 3)) == 0).mean()
print(f"outputs switched off completely: {100 * off_relu:.0f}% of (image, channel) pairs with the ReLU gate, "
      f"{100 * off_sigmoid:.0f}% with the sigmoid")
assert off_sigmoid == 0 and off_relu > 0.2

# %% [markdown]
# ## (d) "SE is a 1×1 convolution with C outputs and a sigmoid"
#
# Some write-ups describe (or implement) the excitation as a same-width 1×1 convolution on the
# feature map, with its weights shared over positions. That is a different block:
#
# * **Parameters**: a 1×1 convolution $C \to C$ has $C^2$ weights (+ $C$ biases); SE's two FC layers
#   $C \to C/r \to C$ have $2C^2/r$ (+ $C/r + C$). At $r = 16$: 8 times fewer.
# * **What is pooled**: nothing. The 1×1 convolution's gate at pixel $(h, w)$ sees only that
#   pixel's $C$ values; SE's gate sees the whole map through the squeeze. Measured by the
#   gradient of one gate value with respect to a far-away pixel.

# %%
C, r = 64, 16
conv_gate = nn.Conv2d(C, C, 1).double()
se = nn.SEBlock(C, reduction=r).double()
n_conv, n_se = sum(p.size for p in conv_gate.parameters()), sum(p.size for p in se.parameters())
print(f"C = {C}, r = {r}: 1×1 convolution {n_conv:,} parameters (C² + C), SE {n_se:,} (2C²/r + C/r + C)")
assert n_conv == C * C + C and n_se == 2 * C * C // r + C // r + C

x = Tensor(rng.normal(size=(1, C, 6, 6)), requires_grad=True)
F.sigmoid(conv_gate(x))[0, 0, 0, 0].backward()               # the 1×1 gate of channel 0 at pixel (0, 0)
far_conv = np.abs(x.grad[0, :, 5, 5]).sum()
x.grad = None
se.excite(se.global_pool(x))[0, 0].backward()                # SE's gate of channel 0
far_se = np.abs(x.grad[0, :, 5, 5]).sum()
print(f"influence of pixel (5, 5) on a gate: 1×1 convolution {far_conv:.2e}, SE {far_se:.2e}")
assert far_conv == 0 and far_se > 0

# %% [markdown]
# **Fix**: squeeze first (one number per channel from the whole map), then the bottleneck
# $C \to C/r \to C$, then scale. **Check**: the counts above match $2C^2/r + C/r + C$, and a
# gate depends on every pixel.
#
# ## (e) Hidden width $\lfloor C/r \rfloor = 0$
#
# With $C = 8$ channels and $r = 16$, `C // r` is 0. NumPy happily builds a $(0, C)$ weight
# matrix; the hidden layer is empty, the second FC layer's output is its bias alone (zeros when
# the bias is 0 or absent), and the gate is $\sigma(0) = 0.5$ for every channel of every image:
# the block halves its input and has nothing to learn.

# %%
def se_gate_plain(x, w1, b1, w2, b2):
    """The excitation in plain NumPy: s = σ(W₂ relu(W₁ z + b₁) + b₂)."""
    z = x.mean(axis=(2, 3))                                  # (N, C)
    hidden = np.maximum(z @ w1.T + b1, 0)                    # (N, C // r)
    return 1 / (1 + np.exp(-(hidden @ w2.T + b2)))           # (N, C)


C, r = 8, 16
h = C // r
w1, b1, w2, b2 = rng.normal(size=(h, C)), np.zeros(h), rng.normal(size=(C, h)), np.zeros(C)
gates = se_gate_plain(rng.normal(size=(5, C, 4, 4)), w1, b1, w2, b2)
print(f"C = {C}, r = {r}: hidden width C // r = {h}; gates {np.unique(gates)} for every image and channel")
assert h == 0 and np.all(gates == 0.5)

# %% [markdown]
# **Fix**: `hidden = max(1, C // r)`, minise's rule (`nn.SEBlock` docstring). **Check**: the
# hidden layer has a unit, and the gates depend on the input.

# %%
block = nn.SEBlock(C, reduction=r)
x = Tensor(rng.normal(size=(5, C, 4, 4)).astype(np.float32))
s = block.excite(block.global_pool(x)).numpy()
print(f"nn.SEBlock({C}, reduction={r}).hidden = {block.hidden}; gate spread over images {s.std(axis=0).max():.3f}")
assert block.hidden == 1 and s.std(axis=0).max() > 0                    # the gates depend on the input

# %% [markdown]
# (A single hidden unit can still die, as lesson 10 found in its narrowest stage; but it is not
# dead by construction.)
#
# ## (f) FC biases, in or out of the parameter formula
#
# The paper counts SE's cost as $\frac{2}{r}\sum_{s} N_s C_s^2$ (stage $s$ with $N_s$ blocks of
# $C_s$ output channels): weights only. An implementation with biases (minise's default,
# `bias=True`) adds $C_s/r + C_s$ per block. For SE-ResNet-50 ($N = 3, 4, 6, 3$ and
# $C = 256, 512, 1024, 2048$, $r = 16$):

# %%
N_s, C_s, r = (3, 4, 6, 3), (256, 512, 1024, 2048), 16
weights = sum(2 * n * c * c // r for n, c in zip(N_s, C_s))
biases = sum(n * (c // r + c) for n, c in zip(N_s, C_s))
measured = sum(p.size for p in models.se_resnet50().parameters()) - sum(p.size for p in models.resnet50().parameters())
print(f"(2/r) Σ N_s C_s² = {weights:,} weights;  biases Σ N_s (C_s/r + C_s) = {biases:,}")
print(f"se_resnet50 − resnet50 in minise: {measured:,} = {weights:,} + {biases:,}")
assert measured == weights + biases
no_bias = sum(p.size for p in nn.SEBlock(256, 16, bias=False).parameters())
assert no_bias == 2 * 256 * 256 // 16

# %% [markdown]
# **Fix**: say which count you mean. The formula is the weights; the biases add
# $\sum_s N_s (C_s/r + C_s)$, here 0.6% of the SE parameters, so a count that disagrees with the
# formula by exactly that is right. The paper reports that on ResNets it removed the FC biases of
# the excitation, so its own models match the formula; `nn.SEBlock(C, r, bias=False)` builds that
# block. **Check**: both counts asserted above, against the built models.
