# %% [markdown]
# # 10. What the excitations say: class-specificity by depth
#
# An SE block computes, for every image, one gate value per channel: $s = \sigma(W_2\,\delta(W_1 z))$
# with $z$ the channel means. Near its end, the SENet paper (Hu et al., arXiv 1709.01507 v4) looks
# at these gates on a trained SE-ResNet-50: for images of a few classes it plots the mean gate of
# each channel at blocks of increasing depth, and reads that early gates are much the same for
# every class while later ones differ more and more between classes: early layers excite general
# features, deeper ones specialise.
#
# This lesson records every SE block's gates on a trained SE-ResNet-20 (the bundled digits), draws
# the same per-class curves, and puts one number on "differ between classes" at each depth, to see
# whether it rises with depth here, whatever the answer turns out to be.
#
# With `MINISE_FAST=1` a narrow network trains briefly on a few images: every line runs, the
# numbers mean little. The full run trains SE-ResNet-20 (width 16, $r = 4$) for 3 epochs.

# %%
import os

import numpy as np
from lesson_figures import new_figure, show  # tutorials/lesson_figures.py: inline in Jupyter, a PNG file otherwise

from minise import manual_seed, models, optim
from minise.data import ArrayDataset, DataLoader, Digits, dataset_info
from minise.data import transforms as T
from minise.excitation import paper_name, plot_excitations, record_excitations
from minise.train import evaluate, fit

FAST = os.environ.get("MINISE_FAST") == "1"
WIDTH, EPOCHS = (4, 4) if FAST else (16, 3)

info = dataset_info("digits")
normalize = T.Normalize(info.mean, info.std)
train_set, test_set = Digits(train=True, transform=normalize), Digits(train=False, transform=normalize)
if FAST:
    train_set = ArrayDataset(train_set.images[:256], train_set.labels[:256], normalize, max_value=16)
    test_set = ArrayDataset(test_set.images[:100], test_set.labels[:100], normalize, max_value=16)


def build(seed=0):
    manual_seed(seed)
    return models.se_resnet20(num_classes=10, in_channels=1, width=WIDTH, reduction=4)


model = build()
optimizer = optim.SGD(model.parameters(), lr=0.1, momentum=0.9, nesterov=True, weight_decay=5e-4)
fit(model, DataLoader(train_set, batch_size=64, shuffle=True, seed=0), None, optimizer,
    optim.CosineAnnealingLR(optimizer, T_max=EPOCHS), epochs=EPOCHS, progress=False, log=None)
accuracy = evaluate(model, DataLoader(test_set, batch_size=256))["accuracy"]
print(f"SE-ResNet-20, width {WIDTH}: test accuracy {100 * accuracy:.1f}% on {len(test_set)} images")
assert accuracy > (0.1 if FAST else 0.8)

# %% [markdown]
# ## Recording the gates
#
# `record_excitations(model, loader)` puts a forward hook (lesson 12) on every SE block's gate,
# runs the model over the loader in eval mode without a graph, and keeps each image's gate vector
# with its label. Nine blocks, three per stage; the paper names a block by its ResNet stage and
# position, so `layer1.0.se` (the first stage after the stem, stage 2 of a ResNet) is `SE_2_1`.

# %%
excitations = record_excitations(model, DataLoader(test_set, batch_size=128))
print(excitations)
for name in excitations.names:
    s = excitations.gates[name]
    print(f"{paper_name(name):<7} {name:<12} gates {s.shape}, mean {s.mean():.3f}, range [{s.min():.3f}, {s.max():.3f}]")
    assert s.shape == (len(test_set), dict(model.named_modules())[name].channels)
    assert ((s > 0) & (s < 1)).all()                       # a sigmoid gate lies strictly inside (0, 1)
np.testing.assert_array_equal(excitations.labels, test_set.labels)

# %% [markdown]
# ## The paper's picture: mean gate per class and channel
#
# For class $k$ with $n_k$ images, the mean gate of channel $c$ is
# $\mu_{k,c} = \frac{1}{n_k}\sum_{i: y_i = k} s_{i,c}$. One curve per class over the channels; where
# the curves lie on top of each other, the block treats every class alike.

# %%
names = [excitations.names[0], excitations.names[len(excitations.names) // 2], excitations.names[-1]]
figure = new_figure(figsize=(12, 3.4))
if figure is not None:
    plot_excitations(excitations, names, figure=figure)
    show(figure, "10_excitations")

# %% [markdown]
# ## One number per block: the share of the gate's variance that the class explains
#
# Split every gate's deviation from the overall mean $\mu_c$ into a part between classes and a
# part within them. Summed over images and channels,
#
# $$\underbrace{\sum_i \lVert s_i - \mu\rVert^2}_{\text{total}} =
#   \underbrace{\sum_k n_k \lVert \mu_k - \mu\rVert^2}_{\text{between classes}} +
#   \underbrace{\sum_k \sum_{i: y_i = k} \lVert s_i - \mu_k\rVert^2}_{\text{within classes}}$$
#
# (the cross terms vanish because deviations from $\mu_k$ sum to zero inside each class). The
# class share is $\eta^2 = \text{between} / \text{total}$: 0 when the class tells nothing about
# the gate, 1 when the gate is a function of the class alone. Computed by hand for one block, then
# by `Excitations.class_share`:

# %%
name = excitations.names[-1]
s, y = excitations.gates[name], excitations.labels
mu = s.mean(axis=0)                                                          # (C,)
total = ((s - mu) ** 2).sum()
between = sum((y == k).sum() * ((s[y == k].mean(axis=0) - mu) ** 2).sum() for k in np.unique(y))
within = sum(((s[y == k] - s[y == k].mean(axis=0)) ** 2).sum() for k in np.unique(y))
print(f"{name}: total {total:.4f} = between {between:.4f} + within {within:.4f};  η² = {between / total:.4f}")
assert np.isclose(total, between + within)
assert np.isclose(between / total, excitations.class_share(name))

# %% [markdown]
# ## What $\eta^2$ is by chance alone
#
# Even gates that ignore the class give $\eta^2 > 0$ on a finite sample: class means of random
# groups scatter a little. Shuffle the labels and the total stays the same, while the between-class
# part of each channel has expectation $\frac{K-1}{N-1}$ times that channel's total (the standard
# result for a one-way analysis of variance under random assignment). So the chance level is
#
# $$\mathbb{E}[\eta^2_{\text{shuffled}}] = \frac{K - 1}{N - 1} .$$

# %%
K, N = len(excitations.classes), len(y)
chance = (K - 1) / (N - 1)
rng = np.random.default_rng(0)
shuffled = []
for _ in range(200):
    permuted = rng.permutation(y)
    mu_k = np.stack([s[permuted == k].mean(axis=0) for k in np.unique(y)])
    counts = np.array([(permuted == k).sum() for k in np.unique(y)])
    shuffled.append((counts[:, None] * (mu_k - mu) ** 2).sum() / total)
print(f"chance level (K - 1)/(N - 1) = {chance:.4f}; mean over 200 shuffles {np.mean(shuffled):.4f}")
assert abs(np.mean(shuffled) - chance) < 0.15 * chance

# %% [markdown]
# ## Class-specificity by depth
#
# Now every block, in order of depth, trained against untrained (the same architecture from the
# same seed, before any training): how much of the gate's variance does the class explain?

# %%
untrained = record_excitations(build(), DataLoader(test_set, batch_size=128))
shares = np.array([excitations.class_share(n) for n in excitations.names])
shares_untrained = np.array([untrained.class_share(n) for n in untrained.names])
constant = np.array([np.ptp(excitations.gates[n], axis=0).max() == 0 for n in excitations.names])
print(f"{'block':<8}{'':<13}{'trained η²':>11}{'untrained η²':>14}")
for n, a, b, c in zip(excitations.names, shares, shares_untrained, constant):
    print(f"{paper_name(n):<8}{n:<13}{a:>11.3f}{b:>14.3f}" + ("   constant gate: its hidden ReLU is dead" if c else ""))
print(f"chance level {chance:.3f}; {constant.sum()} of {len(constant)} trained blocks give every image the same gate")
assert ((shares >= 0) & (shares <= 1)).all() and (shares[constant] == 0).all()

# %% [markdown]
# A block whose gate is the same for every image has no variance to explain ($\eta^2$ is reported
# as 0). That happens when every hidden unit of its excitation is a ReLU that outputs 0 for every
# input: $s = \sigma(b_2)$, a constant. With $C / r$ small (a narrow stage and a large $r$) a
# block has few hidden units to lose; lesson 11 comes back to this. Such blocks are left out of
# the per-stage means below: they say nothing about classes either way.

# %% [markdown]
# ## Share and size
#
# $\eta^2$ is a *share*: a block whose gates hardly vary at all, but vary with the class, scores
# high. The paper's figure shows something else, the *size*: how far apart the class curves lie.
# Measure that too, in gate units: the root-mean-square distance of a class mean from the overall
# mean, per image and channel,
#
# $$d = \sqrt{\frac{1}{N C}\sum_k n_k \lVert \mu_k - \mu \rVert^2} = \sqrt{\frac{\text{between}}{N C}} .$$
#
# Does either rise with depth? Two summaries for each: the mean per stage, and the rank correlation
# between block depth and the measure (Spearman's $\rho$: +1 if every deeper block scores higher,
# −1 if every deeper block scores lower).

# %%
def spearman(a, b):
    ra, rb = np.argsort(np.argsort(a)), np.argsort(np.argsort(b))
    return float(np.corrcoef(ra, rb)[0, 1])


spreads = np.array([excitations.class_spread(n) for n in excitations.names])
assert np.isclose(spreads[-1], np.sqrt(between / s.size))           # the block computed by hand above
stages = np.array([int(n[5]) for n in excitations.names])
live = ~constant
verdicts = {}
for label, values in (("share η²", shares), ("spread d", spreads)):
    per_stage = [float(values[(stages == k) & live].mean()) if ((stages == k) & live).any() else float("nan")
                 for k in (1, 2, 3)]
    rho = spearman(np.arange(len(values))[live], values[live])
    verdicts[label] = per_stage[0] < per_stage[1] < per_stage[2]
    print(f"{label}: per stage (early, middle, late) " + " ".join(f"{v:.3f}" for v in per_stage) +
          f";  Spearman ρ(depth, {label.split()[-1]}) = {rho:+.2f};  "
          + ("rises stage by stage" if verdicts[label] else "does not rise stage by stage"))
    assert np.isnan(rho) or -1.0 <= rho <= 1.0

# %% [markdown]
# Read the numbers above, not this paragraph, for what happened in your run. What to look for:
#
# * **Against chance**: an $\eta^2$ near $\frac{K-1}{N-1}$ is no class information at all; well
#   above it, the gate tells the classes apart.
# * **Against the untrained network**: a random network's gates already differ somewhat between
#   classes, because its input differs; training is what the gap between the two columns shows.
# * **Share against size**: the two can disagree. Early gates that barely move can still move
#   with the class (a high share of a tiny variance); the paper's figure is a picture of the size.
# * **Against the paper**: the paper's reading is about ImageNet's thousand classes at
#   224×224. Our network sees 8×8 digits, and its last stage works on 2×2 maps, so a "late" block
#   here is not a late block of SE-ResNet-50.
#
# The statistic is one choice among several; the per-class curves above are the picture it
# summarises. With more classes (CIFAR-10 through `minise.data.CIFAR10`) and deeper networks the
# question gets closer to the paper's.
