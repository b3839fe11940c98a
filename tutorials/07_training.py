# %% [markdown]
# # 7. Training an SE-ResNet on the bundled digits
#
# Everything so far was one op at a time. Now the whole machine: SE-ResNet-20 against its plain
# twin, trained on 8×8 handwritten digits (1,437 training and 360 test images, shipped inside
# minise, no download) with SGD + momentum and a cosine learning-rate schedule. First the training
# loop written out by hand, once; then `minise.train.fit`, which runs the same loop (checked: the
# same weights come out); then SE against plain from three seeds each.
#
# Full mode trains each model for three epochs (a few minutes in all on a laptop CPU); with
# `MINISE_FAST=1` a few dozen images and one epoch just show that it all runs (and learn little).

# %%
import os
import platform
import statistics
import tempfile

import numpy as np
from lesson_figures import show_png  # tutorials/lesson_figures.py: inline in Jupyter, a PNG file otherwise

import minise
import minise.functional as F
from minise import manual_seed, models, optim
from minise.data import ArrayDataset, DataLoader, Digits, train_val_split
from minise.train import evaluate, fit, plot_metrics

FAST = os.environ.get("MINISE_FAST") == "1"
EPOCHS = 1 if FAST else 3
SEEDS = (0, 1, 2)
LR, MOMENTUM, WEIGHT_DECAY = 0.1, 0.9, 5e-4
BATCH = 32 if FAST else 64

train_set, test_set = Digits(train=True), Digits(train=False)
if FAST:                                         # a few dozen images are enough to run every line
    train_set = ArrayDataset(train_set.images[:48], train_set.labels[:48], max_value=16)
    test_set = ArrayDataset(test_set.images[:30], test_set.labels[:30], max_value=16)
train_set, val_set = train_val_split(train_set, val_fraction=0.1)   # 10% of each class held out
print(f"{len(train_set)} training, {len(val_set)} validation and {len(test_set)} test images, "
      f"image shape {train_set[0][0].shape}")

# %% [markdown]
# Three sets, three jobs: the weights are fitted on the training images; the validation images,
# held out from the training set, are what we look at during training (and what any choice, such
# as which epoch to keep, is made on); the test images are measured once, at the end. A choice made
# on the test set would make its accuracy an optimistic estimate.
#
# ## The training loop, by hand
#
# One *step* takes a batch of B images:
#
# 1. forward: logits = model(x), shape (B, 10);
# 2. loss: the cross-entropy of the logits against the labels, averaged over the batch;
# 3. backward: clear the old gradients, then `loss.backward()` fills `p.grad` for every parameter;
# 4. step: move every parameter against its gradient.
#
# The step here is SGD with *heavy-ball* momentum and weight decay, in the form PyTorch and
# `minise.optim.SGD` use. With learning rate $\eta$, momentum $\mu$ and weight decay $\lambda$, for
# each parameter $w$ with gradient $g$:
#
# $$d = g + \lambda w, \qquad v \leftarrow \mu v + d \ \ (v = d \text{ at the first step}), \qquad
#   w \leftarrow w - \eta\, v$$
#
# The velocity v is a running sum of past gradients, so steps keep going in directions where the
# gradients agree and cancel where they zig-zag. Weight decay is the gradient of $\tfrac{\lambda}{2}
# \lVert w \rVert^2$, a pull towards zero. (`SGD(..., nesterov=True)` is the Nesterov variant: it
# steps with $d + \mu v$ instead of $v$, the gradient plus the velocity *after* this update, a look
# one step ahead. This lesson uses the heavy ball.)
#
# An *epoch* is one pass over the shuffled training set; evaluation then runs the model in eval mode
# (batch-norm uses its running statistics) without recording a graph.

# %%
def build(se, seed):
    """A fresh model whose random initial weights come from ``seed``."""
    manual_seed(seed)
    return models.se_resnet20(in_channels=1) if se else models.resnet20(in_channels=1)


def train_one_epoch_by_hand(model, loader, epoch):
    velocity = {}                                              # one buffer per parameter, created at its first step
    loader.set_epoch(epoch)                                    # the shuffled order of this epoch
    model.train()
    losses = []
    for x, y in loader:
        logits = model(minise.Tensor(x))                       # 1. forward                       (B, 10)
        loss = F.cross_entropy(logits, minise.Tensor(y))       # 2. loss, mean over the batch
        model.zero_grad()                                      # 3. backward
        loss.backward()
        with minise.no_grad():                                 # 4. step: heavy-ball SGD, by hand
            for k, p in enumerate(model.parameters()):
                d = p.grad + WEIGHT_DECAY * p.data
                velocity[k] = d.copy() if k not in velocity else MOMENTUM * velocity[k] + d
                p.data -= LR * velocity[k]
        losses.append(float(loss.data))
    return losses


def accuracy_by_hand(model, loader):
    model.eval()                                               # batch-norm: running statistics
    correct = 0
    with minise.no_grad():                                     # no graph, no saved arrays
        for x, y in loader:
            correct += int((model(minise.Tensor(x)).data.argmax(axis=1) == y).sum())
    model.train()
    return correct / len(loader.dataset)


hand = build(se=False, seed=0)
losses = train_one_epoch_by_hand(hand, DataLoader(train_set, batch_size=BATCH, shuffle=True, seed=0), epoch=0)
val_loader = DataLoader(val_set, batch_size=256)
hand_accuracy = accuracy_by_hand(hand, val_loader)
print(f"one epoch by hand: {len(losses)} steps, loss {losses[0]:.3f} -> {losses[-1]:.3f}, "
      f"validation accuracy {100 * hand_accuracy:.1f}%")
assert all(np.isfinite(losses)) and hand_accuracy == evaluate(hand, val_loader)["accuracy"]

# %% [markdown]
# `fit` runs exactly this loop with `minise.optim.SGD`, and adds metrics, checkpoints, a progress
# bar, resuming and a learning-rate schedule. From the same initial weights and the same batches,
# one epoch of `fit` lands on the same weights as our loop: the update rule above *is* the
# optimizer's.

# %%
same_start = build(se=False, seed=0)
optimizer = optim.SGD(same_start.parameters(), lr=LR, momentum=MOMENTUM, weight_decay=WEIGHT_DECAY)
fit(same_start, DataLoader(train_set, batch_size=BATCH, shuffle=True, seed=0), None, optimizer, epochs=1,
    progress=False, log=None)
differences = [np.abs(p.data - q.data).max() for p, q in zip(hand.parameters(), same_start.parameters())]
print(f"largest difference between the hand loop's weights and fit's: {max(differences):.1e}")
assert max(differences) < 1e-10

# %% [markdown]
# ## SE-ResNet-20 against its plain twin, from three seeds
#
# One run of each proves little: the random initial weights and the shuffled order alone move the
# final accuracy by a few points. So each model is trained from three seeds, and we report the mean
# and the spread (the sample standard deviation) across seeds.
#
# For a fair comparison the two models of a seed should start from the **same** weights wherever
# they share a layer. Seeding both constructions is not enough: the SE-ResNet builds its SE blocks
# in between the convolutions, and they consume random numbers, so every layer after the first
# block would be drawn differently. So we build both from the seed, then copy the plain model's
# weights into the SE model's shared layers (`load_state_dict(..., strict=False)`), and check it.
#
# The learning rate follows a cosine from lr₀ to 0 over the run, stepped once per epoch:
# $\eta_t = \eta_0\,(1 + \cos(\pi t / T)) / 2$.

# %%
def twins(seed):
    plain, se = build(se=False, seed=seed), build(se=True, seed=seed)
    missing, unexpected = se.load_state_dict(plain.state_dict(), strict=False)
    assert not unexpected and missing and all(".se." in name for name in missing)   # only the SE blocks differ
    plain_params = dict(plain.named_parameters())
    for name, p in se.named_parameters():
        assert (".se." in name) or np.array_equal(p.data, plain_params[name].data), name
    return {"resnet20": plain, "se_resnet20": se}


def train(model, seed):
    optimizer = optim.SGD(model.parameters(), lr=LR, momentum=MOMENTUM, weight_decay=WEIGHT_DECAY)
    scheduler = optim.CosineAnnealingLR(optimizer, T_max=EPOCHS)
    return fit(model, DataLoader(train_set, batch_size=BATCH, shuffle=True, seed=seed), val_loader, optimizer,
               scheduler, epochs=EPOCHS, progress=False, log=None)


results = {name: [] for name in ("resnet20", "se_resnet20")}
curves = {}
for seed in SEEDS:
    for name, model in twins(seed).items():
        history = train(model, seed)
        test = evaluate(model, DataLoader(test_set, batch_size=256))          # once, after training
        results[name].append({"val": history[-1]["val_accuracy"], "test": test["accuracy"],
                              "epoch_time": statistics.median(row["epoch_time"] for row in history),
                              "params": sum(p.size for p in model.parameters())})
        curves[f"{name} seed {seed}"] = history
        print(f"seed {seed}  {name:<12} val {100 * history[-1]['val_accuracy']:5.1f}%  "
              f"test {100 * test['accuracy']:5.1f}%  ({history[-1]['epoch_time']:.2f} s/epoch)")

# %% [markdown]
# ## Mean and spread, parameters and time

# %%
def mean_spread(values):
    return statistics.mean(values), statistics.stdev(values)


print(f"machine: {platform.platform()}, {platform.machine()}, {os.cpu_count()} CPU(s), NumPy {np.__version__} "
      "(shared with other work: timings are indicative)")
summary = {}
for name, runs in results.items():
    test_mean, test_spread = mean_spread([r["test"] for r in runs])
    seconds = statistics.median(r["epoch_time"] for r in runs)
    summary[name] = test_mean, test_spread, seconds
    print(f"{name:<12} {runs[0]['params']:>8,} params  test accuracy {100 * test_mean:5.1f}% ± "
          f"{100 * test_spread:.1f}% over {len(runs)} seeds  median {seconds:.2f} s/epoch")

extra = results["se_resnet20"][0]["params"] / results["resnet20"][0]["params"] - 1
gap = summary["se_resnet20"][0] - summary["resnet20"][0]
noise = max(summary["se_resnet20"][1], summary["resnet20"][1])
print(f"SE adds {100 * extra:.2f}% parameters and {summary['se_resnet20'][2] / summary['resnet20'][2]:.2f}× "
      f"the time per epoch; the accuracy gap, {100 * gap:+.1f} points, is "
      f"{'within' if abs(gap) <= noise else 'larger than'} the spread across seeds ({100 * noise:.1f} points)")
assert 0 < extra < 0.01                                            # under 1% more parameters
assert all(len(runs) == len(SEEDS) >= 3 for runs in results.values())
if not FAST:                                                       # well above chance (10%) after 3 epochs
    assert all(r["test"] > 0.5 for runs in results.values() for r in runs)

# %% [markdown]
# Whether the gap between the two models stands out from the seed-to-seed spread is printed above,
# for this run. On so small a data set it easily does not: the SENet paper's gains were measured on
# ImageNet, with 1.28 million training images. CIFAR-10 (`minise.data.CIFAR10`) is a harder test of
# the same code. The time per epoch is a median over the three runs of each model on the machine
# printed above (on a busy machine, and in the fast mode's tiny runs, it is noisy). The SE blocks
# are a tiny share of the arithmetic (lesson 6 counted their multiply-accumulates), so whatever
# extra time they take is the cost of their extra small ops per residual block, not arithmetic.
#
# ## Curves
#
# `minise.train.plot_metrics` draws the loss and accuracy of every run into one PNG (training
# dashed, validation solid); the notebook shows it, the script saves it.

# %%
with tempfile.TemporaryDirectory() as folder:
    path = plot_metrics(curves, os.path.join(folder, "curves.png"), title="digits: ResNet-20 vs SE-ResNet-20")
    if path is None:
        print("matplotlib is not installed: no curves")
    else:
        show_png(path, "07_curves")
