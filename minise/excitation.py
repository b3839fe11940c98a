"""Record what every SE block's gate says about every image, and ask whether it depends on the class.

    excitations = record_excitations(model, loader)       # every SE block, every image, with its label
    excitations.names                                     # ["layer1.0.se", ..., "layer3.2.se"] (depth order)
    excitations.gates["layer3.2.se"]                      # (images, C): s = σ(W₂ δ(W₁ z)) per image
    excitations.class_means("layer3.2.se")                # (classes, C): the paper's Fig. 6 curves
    excitations.class_share("layer3.2.se")                # share of the gate's variance explained by the class
    excitations.class_spread("layer3.2.se")               # how far apart the class curves lie (gate units)
    plot_excitations(excitations, ["layer1.0.se", "layer3.2.se"])

The SENet paper (Hu et al., arXiv 1709.01507, Sec. 7.2) plots the mean excitation per channel
for images of a few classes at blocks of increasing depth, and reads off that early blocks excite
channels the same way for every class and later blocks more and more class by class. ``class_share``
puts one number on that reading: for the gates s_i (one vector of C values per image i, labels y_i),

    η² = Σ_k n_k ‖μ_k − μ‖²  /  Σ_i ‖s_i − μ‖²        μ_k the mean gate of class k, μ of all images

the between-class sum of squares over the total (summed over channels): 0 when the class tells
nothing about the gate, 1 when the gate is a function of the class alone.

The recorder is a forward hook on each SE block's ``gate`` module (its output is s, (N, C)).
"""
import numpy as np

from .backend import to_device, to_numpy
from .function import no_grad
from .nn.se import SEBlock
from .tensor import Tensor


def se_blocks(model):
    """(dotted name, SEBlock) for every SE block in ``model``, in the order the model defines them."""
    return [(name, m) for name, m in model.named_modules() if isinstance(m, SEBlock)]


def paper_name(name):
    """The paper's label for a block: "layer2.0.se" (ResNet stage 3, block 1) -> "SE_3_1"."""
    parts = name.split(".")
    if len(parts) >= 2 and parts[0].startswith("layer") and parts[0][5:].isdigit() and parts[1].isdigit():
        return f"SE_{int(parts[0][5:]) + 1}_{int(parts[1]) + 1}"
    return name


class Excitations:
    """Gates recorded per SE block: ``gates[name]`` (images, C) float64, ``labels`` (images,) int64."""

    def __init__(self, gates, labels):
        self.gates, self.labels = gates, np.asarray(labels, dtype=np.int64)
        self.names = list(gates)
        for name, s in gates.items():
            if len(s) != len(self.labels):
                raise ValueError(f"{name}: {len(s)} gates recorded for {len(self.labels)} labels")
        self.classes = np.unique(self.labels)

    def class_means(self, name):
        """(classes, C): the mean gate of each class's images, classes in ``self.classes`` order."""
        s = self.gates[name]
        return np.stack([s[self.labels == k].mean(axis=0) for k in self.classes])     # (K, C)

    def class_share(self, name):
        """η²: the share of the gate's variance (summed over channels) that the class explains."""
        s = self.gates[name]                                                        # (N, C)
        mu = s.mean(axis=0)                                                         # (C,)
        total = ((s - mu) ** 2).sum()
        counts = np.array([(self.labels == k).sum() for k in self.classes])         # (K,)
        between = (counts[:, None] * (self.class_means(name) - mu) ** 2).sum()
        return float(between / total) if total > 0 else 0.0

    def class_spread(self, name):
        """How far apart the class curves lie, in gate units: √(Σ_k n_k ‖μ_k − μ‖² / (N·C)), the
        root-mean-square distance of an image's class mean from the overall mean, per channel.
        η² is a share and says nothing about size; this is the size."""
        s = self.gates[name]
        mu = s.mean(axis=0)
        counts = np.array([(self.labels == k).sum() for k in self.classes])
        return float(np.sqrt((counts[:, None] * (self.class_means(name) - mu) ** 2).sum() / s.size))

    def __repr__(self):
        return f"Excitations({len(self.names)} SE blocks, {len(self.labels)} images, {len(self.classes)} classes)"


def record_excitations(model, loader, max_batches=None):
    """Run ``model`` (eval mode, no graph) over ``loader``'s (x, y) batches and keep every SE block's
    gate for every image; returns :class:`Excitations`. The model's mode is restored afterwards."""
    blocks = se_blocks(model)
    if not blocks:
        raise ValueError(f"{type(model).__name__} has no SE block (nn.SEBlock) to record")
    recorded = {name: [] for name, _ in blocks}
    labels = []
    handles = [block.gate.register_forward_hook(
        lambda module, inputs, output, name=name: recorded[name].append(to_numpy(output.data).astype(np.float64)))
        for name, block in blocks]
    device = next((p.device for p in model.parameters()), "cpu")
    was_training = model.training
    model.eval()
    try:
        with no_grad():
            for index, (x, y) in enumerate(loader):
                if max_batches is not None and index >= max_batches:
                    break
                x, y = (v.data if isinstance(v, Tensor) else v for v in (x, y))      # Tensors from DataLoader
                model(Tensor(to_device(x, device)))
                labels.append(np.asarray(to_numpy(y)))
    finally:
        for handle in handles:
            handle.remove()
        model.train(was_training)
    if not labels:
        raise ValueError("record_excitations() got a loader without any batch")
    return Excitations({name: np.concatenate(parts) for name, parts in recorded.items()}, np.concatenate(labels))


def plot_excitations(excitations, names=None, classes=None, figure=None, class_names=None):
    """The paper's Fig. 6 in small: per block, the mean excitation of each class over the channels.

    ``names``: the blocks to draw (default: first, middle, last); ``classes``: which labels (default
    all); ``figure``: a matplotlib Figure to draw on (default a new one). Returns the Figure, or
    None without matplotlib. Each panel's title carries the block's class share η²."""
    if figure is None:
        try:
            from matplotlib.figure import Figure
        except ImportError:
            return None
        figure = Figure(figsize=(11, 3.2))
    all_names = excitations.names
    names = names or [all_names[0], all_names[len(all_names) // 2], all_names[-1]]
    classes = list(excitations.classes if classes is None else classes)
    axes = figure.subplots(1, len(names), squeeze=False)[0]
    for ax, name in zip(axes, names):
        means = excitations.class_means(name)                                       # (K, C)
        rows = {k: i for i, k in enumerate(excitations.classes)}
        for k in classes:
            label = class_names[k] if class_names is not None else str(k)
            ax.plot(means[rows[k]], lw=1, label=label)
        ax.plot(excitations.gates[name].mean(axis=0), "k--", lw=1.5, label="all")
        ax.set(title=f"{paper_name(name)} ({name})  η² = {excitations.class_share(name):.2f}, "
                     f"spread {excitations.class_spread(name):.3f}", xlabel="channel", ylim=(0, 1))
        ax.xaxis.get_major_locator().set_params(integer=True)
        ax.title.set_fontsize(9)
        ax.grid(alpha=0.3)
    axes[0].set_ylabel("mean excitation")
    axes[-1].legend(fontsize=7, ncol=2, loc="best")
    figure.tight_layout()
    return figure
