# %% [markdown]
# # 12. Debugging gradients: see the graph, watch the flow, check the whole
#
# When a network does not learn, the question is nearly always *where the gradient goes*. This
# lesson gives four tools and uses each on an SE network:
#
# 1. **the graph**: `minise.viz.to_dot` / `draw` show every op backward will visit;
# 2. **hooks**: `register_forward_hook` and `register_full_backward_hook` watch activations and
#    gradients layer by layer without touching the model's code;
# 3. **per-branch gradient norms**: in a residual SE block, how much gradient comes back through
#    the branch, the shortcut, and the SE block's two paths;
# 4. **gradcheck of a whole model**, including catching a planted bug.
#
# And one failure to recognise: a vanishing and an exploding gradient, and how each shows.

# %%
import os

import numpy as np
from lesson_figures import (  # tutorials/lesson_figures.py: inline in Jupyter, a PNG file otherwise
    new_figure,
    show,
    show_png,
)

import minise
import minise.functional as F
from minise import Tensor, models, nn, viz
from minise.functional.scale import ScaleChannelsFunction

FAST = os.environ.get("MINISE_FAST") == "1"
rng = np.random.default_rng(0)

# %% [markdown]
# ## 1. The graph of an SE block
#
# Every op records where its inputs came from; `to_dot` walks those records back from a tensor
# and writes them as Graphviz DOT text: one box per op (with the shape and dtype it returned), one
# ellipse per leaf that needs a gradient, named by its parameter name when the module is given.

# %%
minise.manual_seed(0)
se = nn.SEBlock(8, reduction=4)
x = Tensor(rng.normal(size=(2, 8, 4, 4)).astype(np.float32), requires_grad=True)
loss = se(x).sum()
dot = viz.to_dot(loss, {"x": x, **dict(se.named_parameters())})
print(dot)

# %% [markdown]
# Read it bottom-up, as the forward pass ran: `x` feeds **two** ops, the squeeze (the mean over $H, W$, to
# $(2, 8)$) and the scale (`ScaleChannelsFunction`, back to $(2, 8, 4, 4)$). That fork is why the gradient
# reaching `x` is a sum of two paths. Every parameter appears exactly once, by name.

# %%
ops = [line for line in dot.splitlines() if "rounded" in line]
assert len(ops) == 7                                 # six ops of the SE block, and the sum
x_node = next(line.split()[0] for line in dot.splitlines() if 'label="x\\n' in line)
assert sum(line.strip().startswith(x_node + " ->") for line in dot.splitlines()) == 2      # x feeds two ops
for name, _ in se.named_parameters():
    assert dot.count(f'label="{name}\\n') == 1

shown = viz.draw(loss, {"x": x, **dict(se.named_parameters())}, log=print)
if hasattr(shown, "pipe"):                           # graphviz and its dot program are installed: a picture
    show_png(shown.pipe(format="png"), "12_se_graph")

# %% [markdown]
# ## 2. Hooks: watch every layer without editing the model
#
# A forward hook `hook(module, inputs, output)` runs after a module's forward; a full backward
# hook `hook(module, grad_input, grad_output)` runs when the gradients of the module's inputs are
# known. Both have PyTorch's names and arguments. Here they record, for every layer of a small
# SE-ResNet, the spread of its output and the size of the gradient flowing back into it.

# %%
minise.manual_seed(0)
model = models.se_resnet20(num_classes=10, in_channels=1, width=4, reduction=2)
watched = {name: m for name, m in model.named_modules() if isinstance(m, (nn.Conv2d, nn.SEBlock, nn.Linear))
           and not name.endswith((".fc1", ".fc2"))}
stats, handles = {}, []
for name, module in watched.items():
    handles.append(module.register_forward_hook(
        lambda m, inputs, output, name=name: stats.setdefault(name, {}).update(act_std=float(output.data.std()))))
    handles.append(module.register_full_backward_hook(
        lambda m, grad_input, grad_output, name=name: stats[name].update(
            grad_out=float(np.linalg.norm(grad_output[0])), grad_out_array=grad_output[0])))

images = Tensor(rng.random((8, 1, 8, 8), dtype=np.float32))
labels = Tensor(rng.integers(0, 10, size=8))
logits = model(images)
loss = F.cross_entropy(logits, labels)
loss.backward()
for handle in handles:
    handle.remove()

print(f"{'layer':<22}{'output std':>11}{'‖∂L/∂output‖':>15}")
for name in watched:
    print(f"{name:<22}{stats[name]['act_std']:>11.4f}{stats[name]['grad_out']:>15.2e}")
assert set(stats) == set(watched) and all("grad_out" in s for s in stats.values())

# %% [markdown]
# A check that the hooks report the truth: the gradient reaching the last layer's output is
# $\partial L/\partial z = (\operatorname{softmax}(z) - \text{onehot}(y)) / N$ for the mean
# cross-entropy over $N$ images, computable by hand.

# %%
z = logits.numpy()
p = np.exp(z - z.max(axis=1, keepdims=True))
p /= p.sum(axis=1, keepdims=True)
by_hand = (p - np.eye(10)[labels.numpy()]) / len(z)
np.testing.assert_allclose(stats["fc"]["grad_out_array"], by_hand, rtol=1e-4, atol=1e-7)
print("the backward hook on fc saw ∂L/∂logits = (softmax − onehot)/N, as derived")

# %% [markdown]
# ## 3. Per-branch gradient norms in a residual SE block
#
# A residual unit with SE in the standard position computes
# $y = \operatorname{relu}(\operatorname{SE}(F(x)) + x)$. The gradient reaching $x$ is the sum of
# what comes back along the shortcut and what comes back through the branch $F$:
#
# $$\frac{\partial L}{\partial x} = \underbrace{g}_{\text{shortcut}} +
#   \underbrace{J_F^\top \frac{\partial L}{\partial u}}_{\text{branch}},\qquad
#   g = \frac{\partial L}{\partial y} \odot [\,y > 0\,], \quad u = F(x) .$$
#
# Inside the SE block, $\tilde u = s \odot u$ with $s$ computed from $u$, so $\partial L/\partial u$
# itself has two parts: the **scale path** $g \odot s$ and the **squeeze path**, which comes back
# through $s$ and the mean, and is therefore the same at every pixel of a channel
# ($\frac{1}{HW}\,\partial L/\partial z_c$).
#
# To measure the two outer parts, run the block with two copies of $x$: one feeding the branch,
# one the shortcut. Their gradients are the two terms, and they must add up to the gradient of the
# block run normally. The SE block's backward hook gives $\partial L/\partial u$ and
# $\partial L/\partial \tilde u$. A tensor hook, `u.register_hook(hook)` (`hook(grad)` runs when
# $u$'s gradient is known; returning an array would replace it), sees $\partial L/\partial u$ too:
# it is put on $u$ by a forward pre-hook, the one place where that intermediate tensor is in reach.

# %%
block = model.layer2[1]                                  # a block with an identity shortcut
xin = Tensor(rng.normal(size=(4, 8, 4, 4)).astype(np.float32), requires_grad=True)
upstream = rng.normal(size=(4, 8, 4, 4)).astype(np.float32)
block(xin).backward(upstream)
whole = xin.grad

seen = {}
hook = block.se.register_full_backward_hook(lambda m, gin, gout: seen.update(du=gin[0], dut=gout[0]))
gates = []
gate_hook = block.se.gate.register_forward_hook(lambda m, i, out: gates.append(out.numpy()))


def watch_u(module, inputs):
    """A forward pre-hook that puts a tensor hook on the SE block's input u = F(x) as it passes."""
    inputs[0].register_hook(lambda grad: seen.update(du_tensor=grad))


pre_hook = block.se.register_forward_pre_hook(watch_u)
x_branch = Tensor(xin.data, requires_grad=True)
x_short = Tensor(xin.data, requires_grad=True)
F.relu(block.se(block.branch(x_branch)) + x_short).backward(upstream)
for h in (hook, gate_hook, pre_hook):
    h.remove()
np.testing.assert_allclose(seen["du_tensor"], seen["du"], rtol=1e-6)   # two hooks, one gradient

scale_path = seen["dut"] * gates[0][:, :, None, None]   # g ⊙ s
squeeze_path = seen["du"] - scale_path
norms = {"shortcut": np.linalg.norm(x_short.grad), "branch (all of F)": np.linalg.norm(x_branch.grad),
         "into SE output": np.linalg.norm(seen["dut"]), "SE scale path": np.linalg.norm(scale_path),
         "SE squeeze path": np.linalg.norm(squeeze_path)}
for what, value in norms.items():
    print(f"{what:<20} ‖gradient‖ = {value:.4f}")
np.testing.assert_allclose(x_short.grad + x_branch.grad, whole, rtol=1e-5, atol=1e-6)
np.testing.assert_allclose(seen["dut"], x_short.grad, rtol=1e-6)   # both are g = ∂L/∂y ⊙ [y > 0]
np.testing.assert_allclose(squeeze_path, squeeze_path[:, :, :1, :1] * np.ones((1, 1, 4, 4)), rtol=1e-4, atol=1e-7)
assert norms["SE squeeze path"] < norms["SE scale path"] / 5
print("shortcut + branch = the block's gradient; the squeeze path is constant over each channel's pixels, "
      "and much smaller than the scale path")

# %% [markdown]
# The gradient into the SE block's output equals the shortcut's: both are $g$, the gradient of
# the sum. The squeeze path is much smaller than the scale path here (it carries $\frac{1}{HW}$ of
# a sum over the map, lesson 5), so a bug in it hides easily behind the scale path: this is the
# reason SE blocks are gradient-checked at small sizes.
#
# ## 4. Vanishing and exploding gradients, and how they show
#
# Backward multiplies by every layer's Jacobian in turn. Two deep stacks without shortcuts show
# the two ways this goes wrong:
#
# * **sigmoid layers**: $\sigma'(a) = \sigma(a)(1 - \sigma(a)) \le \frac14$, and weights at He's
#   scale ($w \sim \mathcal N(0, 2/n)$) multiply a gradient's norm by about $\sqrt 2$; together
#   each layer multiplies it by at most about $\frac{\sqrt2}{4} \approx 0.35$: it **vanishes**
#   geometrically on its way to the first layers;
# * **ReLU layers with weights too large**: with $w \sim \mathcal N(0, a^2 \cdot 2/n)$ (He's
#   scale times $a$) each layer multiplies the gradient's norm by about $a$; at $a = 2$ it
#   **explodes** as $2^L$.
#
# A full backward hook on every linear layer reads off $\lVert\partial L/\partial \text{output}\rVert$
# per depth.

# %%
DEPTH, WIDE = 12, 64


def stack(activation, scale):
    minise.manual_seed(0)
    layers = []
    for _ in range(DEPTH):
        linear = nn.Linear(WIDE, WIDE)
        linear.weight.data = (rng.normal(size=(WIDE, WIDE)) * scale * np.sqrt(2 / WIDE)).astype(np.float32)
        layers += [linear, activation()]
    return nn.Sequential(*layers)


def gradient_norms(net):
    norms, handles = {}, []
    for index, layer in enumerate(m for m in net.children() if isinstance(m, nn.Linear)):
        handles.append(layer.register_full_backward_hook(
            lambda m, gin, gout, index=index: norms.update({index: float(np.linalg.norm(gout[0]))})))
    out = net(Tensor(rng.normal(size=(16, WIDE)).astype(np.float32)))
    out.backward(np.ones(out.shape, dtype=np.float32) / out.size)
    for h in handles:
        h.remove()
    return np.array([norms[i] for i in range(DEPTH)])


vanishing = gradient_norms(stack(nn.Sigmoid, 1.0))
exploding = gradient_norms(stack(nn.ReLU, 2.0))
print("layer:                 ", " ".join(f"{i:>8}" for i in range(DEPTH)))
print("sigmoid, He scale:     ", " ".join(f"{v:8.1e}" for v in vanishing))
print("ReLU, 2 × He scale:    ", " ".join(f"{v:8.1e}" for v in exploding))
print(f"first / last layer: {vanishing[0] / vanishing[-1]:.1e} (sigmoid), {exploding[0] / exploding[-1]:.1e} (ReLU, 2×)")
per_layer = {"sigmoid": (vanishing[0] / vanishing[-1]) ** (1 / (DEPTH - 1)),
             "ReLU, 2×": (exploding[0] / exploding[-1]) ** (1 / (DEPTH - 1))}
print("factor per layer (geometric mean):", ", ".join(f"{k} {v:.2f}" for k, v in per_layer.items()))
assert per_layer["sigmoid"] < 0.4                           # ≤ √2/4 ≈ 0.35, as derived
assert 1.5 < per_layer["ReLU, 2×"] < 3.0                    # ≈ a = 2

figure = new_figure(figsize=(5.5, 3.2))
if figure is not None:
    ax = figure.subplots()
    ax.semilogy(range(DEPTH), vanishing, "o-", label="sigmoid (vanishing)")
    ax.semilogy(range(DEPTH), exploding, "s-", label="ReLU, weights 2× He (exploding)")
    ax.set(xlabel="layer (0 = first)", ylabel="‖∂L/∂ layer output‖", title="gradient norm by depth")
    ax.grid(alpha=0.3, which="both")
    ax.legend(fontsize=8)
    figure.tight_layout()
    show(figure, "12_gradient_norms")

# %% [markdown]
# How it shows in training: with vanishing gradients the first layers' weights barely move (their
# `.grad` norms are orders of magnitude below the last layers'), and the loss creeps; with
# exploding ones the loss jumps, then turns into `inf` or `nan` (minise's `fit` stops with
# `NonFiniteLossError`, naming the step). The remedies are in this library's models: He
# initialisation keeps ReLU stacks at a scale factor near 1, batch normalisation re-scales every
# layer's output, and the residual shortcut adds a path whose Jacobian is the identity, so the
# gradient reaching early blocks never has to pass every layer (section 3 measured that path).
#
# ## 5. gradcheck of a whole small model
#
# Every op in minise has its own gradient test, but a model composes them: residual sums, the SE
# block's two paths, batch statistics shared by the whole batch. `minise.gradcheck` checks a whole
# function as it checks one op (lesson 2): central finite differences in float64, two random
# upstream gradients, backward three times over the recorded graph. To let it perturb parameters,
# run the model with the checked tensors swapped in for its parameters.

# %%
def with_parameters(model, names):
    """fn(x, *tensors): the model run with ``tensors`` in place of the parameters called ``names``."""
    owners = []
    for name in names:
        path, leaf = name.rsplit(".", 1)
        owners.append((dict(model.named_modules())[path], leaf))

    def fn(x, *tensors):
        kept = [m._parameters[leaf] for m, leaf in owners]
        for (m, leaf), t in zip(owners, tensors):
            m._parameters[leaf] = t
        try:
            return model(x)
        finally:
            for (m, leaf), p in zip(owners, kept):
                m._parameters[leaf] = p
    return fn


minise.manual_seed(0)
tiny = models.CifarResNet(depth=8, width=4, in_channels=1, se=True, reduction=2).double().train()
names = ["conv1.weight", "layer1.0.se.fc1.weight", "layer1.0.se.fc2.bias", "layer2.0.conv1.weight",
         "layer3.0.se.fc1.weight", "fc.weight"]
params = dict(tiny.named_parameters())
inputs = {"x": Tensor(rng.normal(size=(2, 1, 8, 8)), requires_grad=True), **{n: params[n] for n in names}}
report = minise.gradcheck(with_parameters(tiny, names), inputs, max_elements=8 if FAST else 24, seed=0)
print(report)
assert report.passed and [c.name for c in report.inputs] == ["x", *names]

# %% [markdown]
# And the check must be able to fail. Plant a bug in the SE block's scale op: a backward that
# forgets the gradient of the gate ($\partial L/\partial s$ returned as zeros), exactly the squeeze
# path that section 3 found small. The whole-model check must catch it, and say where.

# %%
right_backward = ScaleChannelsFunction.backward


def forgets_the_gate(self, gy):
    gx, gs = right_backward(self, gy)
    return gx, None if gs is None else gs * 0


ScaleChannelsFunction.backward = forgets_the_gate
try:
    minise.gradcheck(with_parameters(tiny, names), inputs, max_elements=8, seed=0)
    caught = None
except minise.GradcheckError as error:
    caught = error
finally:
    ScaleChannelsFunction.backward = right_backward
print(str(caught).splitlines()[0] if caught else "NOT CAUGHT")
assert caught is not None and "se.fc" in str(caught)
