# %% [markdown]
# # 6. SE-ResNet: where the block goes, and what it costs
#
# A residual block adds a learned branch F to a shortcut: y = ReLU(F(x) + shortcut(x)). The
# shortcut is the identity when shapes match, else a 1×1 convolution + batch-norm with the
# block's stride. Because the identity passes gradient straight through (∂y/∂x contains I),
# very deep networks stay trainable. SENet puts an SE block on the branch, before the sum.

# %%
import os

import numpy as np

import minise
import minise.functional as F
from minise import Tensor, manual_seed, models

FAST = os.environ.get("MINISE_FAST") == "1"
rng = np.random.default_rng(0)

# %% [markdown]
# ## The four placements
#
# The SENet paper (Sec. 6) compares where the SE block can sit in a residual unit; minise builds
# every variant with `se_position`:
#
#     "standard"  y = ReLU(SE(F(x)) + shortcut(x))      the paper's choice: recalibrate the branch
#     "pre"       y = ReLU(F(SE(x)) + shortcut(x))      SE on the input of the branch
#     "post"      y = SE(ReLU(F(x) + shortcut(x)))      SE after the sum: it scales the identity too
#     "identity"  y = ReLU(F(x) + SE(shortcut(x)))      SE on the shortcut, parallel to the branch
#
# In the paper's placement ablation (arXiv 1709.01507 v4, Sec. 6, SE-ResNet-50 on ImageNet)
# "pre" and "identity" do about as well as the standard placement, and "post" is worse. One reading:
# scaling after the sum also scales the identity path, the path that makes residual learning work.
# The standard placement there is the 22.28% top-1 error of lesson 5 (the r = 16 row that all the
# ablation tables share), whose baseline is the ResNet-50 of the same ablation setting, 23.30%, not
# Table 2's 24.80%.

# %%
block = models.BasicBlock(16, 16, se=True, reduction=4)
print(block)

# %% [markdown]
# Each placement, measured: its parameters (the SE block adds the same 2C²/r + C/r + C whatever
# its place, as long as it sees C channels), its output against the formula above written out
# with the block's own pieces (`block.branch` is F, `block.se` the SE block), and a gradient check
# of the whole block (small sizes, float64, as lesson 5 explained; batch-norm makes the block a
# function of the whole batch, which gradcheck handles: it differentiates that whole function).
# Every block is built from the same seed, so all four have the same weights and differ only in
# where the SE block sits.

# %%
relu = F.relu
by_formula = {
    "standard": lambda b, x: relu(b.se(b.branch(x)) + x),
    "pre": lambda b, x: relu(b.branch(b.se(x)) + x),
    "post": lambda b, x: b.se(relu(b.branch(x) + x)),
    "identity": lambda b, x: relu(b.branch(x) + b.se(x)),
}


def built(channels, reduction, **kwargs):
    manual_seed(0)                                             # the same weights for every placement
    return models.BasicBlock(channels, channels, reduction=reduction, **kwargs).double()


C, r = 16, 4
plain_params = sum(p.size for p in built(C, r, se=False).parameters())
x = Tensor(rng.standard_normal((2, C, 6, 6)))
x_small = rng.standard_normal((3, 4, 3, 3))                    # gradcheck: 108 elements, all checked
outputs = {}
for position in models.SE_POSITIONS:
    b = built(C, r, se=True, se_position=position)
    extra = sum(p.size for p in b.parameters()) - plain_params
    assert extra == 2 * C * (C // r) + C // r + C               # 2C²/r weights + C/r + C biases
    outputs[position] = b(x).data
    assert np.allclose(outputs[position], by_formula[position](b, x).data)
    check = minise.gradcheck(lambda t, b=built(4, 2, se=True, se_position=position): b(t),
                             [Tensor(x_small, requires_grad=True)], seed=0)
    print(f"{position:>9}: +{extra} parameters, output {outputs[position].shape} == its formula, gradcheck "
          f"{'passed' if check else 'FAILED'} (max abs error {check['0'].max_abs_error:.1e})")
positions = list(outputs)
assert all(not np.allclose(outputs[p], outputs[q]) for i, p in enumerate(positions) for q in positions[i + 1:])
print("the four placements compute four different functions from the same weights")

# %% [markdown]
# The check can fail: an SE block whose squeeze is computed outside the graph (the planted bug of
# lesson 5: the gates get no gradient back to x) is caught at this size.

# %%
class SqueezeOutsideTheGraph(minise.nn.Module):
    """The SE block with the planted bug: z is taken from a copy of x that has no graph."""

    def __init__(self, se):
        super().__init__()
        self.fc1, self.fc2 = se.fc1, se.fc2

    def forward(self, x):
        z = Tensor(x.data).mean(axis=(2, 3))                  # (N, C), but cut off from x's graph
        return F.scale_channels(x, F.sigmoid(self.fc2(F.relu(self.fc1(z)))))


wrong = built(4, 2, se=True)
right = wrong(Tensor(x_small)).data
wrong.se = SqueezeOutsideTheGraph(wrong.se)
assert np.allclose(wrong(Tensor(x_small)).data, right)       # the same forward: only backward differs
report = minise.gradcheck(lambda t: wrong(t), [Tensor(x_small, requires_grad=True)], seed=0, raise_exception=False)
assert not report
print("squeeze outside the graph:", report["0"].describe())

# %% [markdown]
# ## What SE costs
#
# An SE block on C channels with reduction r has two linear layers, C → C/r → C:
# 2C²/r weights plus C/r + C biases. A stage s of a ResNet has N_s blocks whose output has C_s
# channels, so SE adds about
#
# $$\frac{2}{r} \sum_s N_s\, C_s^2$$
#
# parameters. The sum is dominated by the last stage (C_s² grows 4× per stage). For ResNet-50
# (N = 3, 4, 6, 3 bottlenecks; C = 256, 512, 1024, 2048; r = 16) that is 2/16 · 20,119,552 ≈ 2.51
# million on top of 25.6 million: about 10% more parameters, for a fraction of a percent more
# arithmetic (the SE layers act on vectors, not on feature maps). The paper reports the same
# trade: about 2.5 million extra parameters on top of about 25 million, at little extra
# computation. (minise counts the multiply-accumulates of every layer; its GMAC figures below are
# its own count, not the paper's GFLOPs. The SE share is the point.)

# %%
def se_params(channels_per_stage, blocks_per_stage, r, bias=True):
    total = 0
    for c, n in zip(channels_per_stage, blocks_per_stage):
        hidden = max(1, c // r)
        total += n * (2 * c * hidden + (hidden + c if bias else 0))
    return total


plain, se = models.summary(models.resnet50(), (3, 224, 224)), models.summary(models.se_resnet50(), (3, 224, 224))
predicted = se_params((256, 512, 1024, 2048), (3, 4, 6, 3), 16)
print(f"ResNet-50     {plain.total_params:>12,} parameters  {plain.total_macs / 1e9:.2f} GMACs")
print(f"SE-ResNet-50  {se.total_params:>12,} parameters  {se.total_macs / 1e9:.2f} GMACs")
print(f"difference    {se.total_params - plain.total_params:>12,}   formula (2/r)·Σ N_s·C_s² + biases: {predicted:,}")
print(f"SE share: {100 * se.se_param_share:.1f}% of the parameters, {100 * se.se_mac_share:.2f}% of the MACs")
assert se.total_params - plain.total_params == predicted == se.se_params
assert sum(n * c * c for c, n in zip((256, 512, 1024, 2048), (3, 4, 6, 3))) == 20_119_552      # the sum in the text
assert 0.08 < se.se_param_share < 0.1 and se.se_mac_share < 0.01     # ~10% of the parameters, < 1% of the MACs
assert 0.09 < (se.total_params - plain.total_params) / plain.total_params < 0.11    # ~10% more than ResNet-50

# %% [markdown]
# The last stage holds most of that cost: it has 3 blocks of 2048 channels. Without the SE blocks of
# the last stage the extra parameters fall to (2/16)·(3·256² + 4·512² + 6·1024²) = 942,080 plus
# biases, under 4% of ResNet-50. The paper reports the same trade-off: removing the last stage's SE
# blocks costs less than 0.1% top-5 error on ImageNet and brings the relative parameter increase
# down to about 4%.

# %%
first_three = se_params((256, 512, 1024), (3, 4, 6), 16)
print(f"SE in the first three stages only: {first_three:,} parameters, "
      f"{100 * first_three / plain.total_params:.1f}% of ResNet-50's")
assert se_params((256, 512, 1024), (3, 4, 6), 16, bias=False) == 942_080
assert 0.03 < first_three / plain.total_params < 0.04

# %% [markdown]
# ## The CIFAR-shaped twins
#
# For 32×32 images (and our 8×8 digits) the CIFAR ResNets use three stages of 16, 32 and 64
# channels, n BasicBlocks each (depth 6n + 2). With r = 16 the first stage's SE bottleneck has a
# single hidden unit (minise never lets C // r reach 0). `summary` prints the table layer by layer:

# %%
cifar = models.summary(models.se_resnet20(), (3, 32, 32))
print("\n".join(str(cifar).splitlines()[:16]))
print("...")
print("\n".join(str(cifar).splitlines()[-3:]))
assert cifar.se_params == se_params((16, 32, 64), (3, 3, 3), 16)

# %% [markdown]
# Next: train se_resnet20 and its plain twin on the bundled digits, and compare.
