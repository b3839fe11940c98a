"""The Squeeze-and-Excitation block (Hu, Shen, Albanie, Sun, Wu: arXiv 1709.01507).

A convolution mixes channels only through its weights, the same for every image. An SE block lets
each image re-weight its own channels: it summarises every channel by one number, learns from
those numbers how useful each channel is, and scales the channels by the result.

    x (N, C, H, W)
    ├── squeeze     z = mean over H, W of x                (N, C)      global average pooling
    │   excitation  s = σ(W₂ · δ(W₁ · z + b₁) + b₂)        (N, C)      δ = ReLU, σ = sigmoid
    │                   W₁ (C/r, C) reduces, W₂ (C, C/r) restores; r is the reduction ratio
    └── scale       x̃ = s · x, channel by channel          (N, C, H, W)

The bottleneck (C → C/r → C) keeps the block cheap: 2·C²/r weights, about 10% more parameters
for SE-ResNet-50 with r = 16, the paper's default. The gradient reaches x twice: through the
scale (gx = gy · s) and, via s, back up the excitation and through the squeeze (divided by H·W).
"""
from ..arguments import SQUEEZES, one_of, positive_int
from ..functional.scale import scale_channels
from .activation import ReLU, Sigmoid, Tanh
from .layers import Linear
from .module import InputShapeError, Module

GATES = {"sigmoid": Sigmoid, "tanh": Tanh}


class SEBlock(Module):
    """``SEBlock(channels, reduction=16, squeeze="avg", bias=True, activation="sigmoid")``.

    Shapes   x (N, C, H, W) -> y (N, C, H, W), any H and W (1×1 included); C = channels
    Children fc1 = Linear(C, hidden), relu, fc2 = Linear(hidden, C), gate
             hidden = max(1, C // reduction): never zero, even when C < reduction
    squeeze  "avg" (the paper's global average pooling) or "max" (global max pooling)
    activation  the gate: "sigmoid" (the paper's, s in (0, 1)) or "tanh" (its ablation)

    Add it to any model in one line, after the module whose output it re-weights::

        block = nn.Sequential(existing_block, nn.SEBlock(64))   # or:
        block = nn.SEWrapper(existing_block, 64)                 # children: module, se
    """

    def __init__(self, channels, reduction=16, squeeze="avg", bias=True, activation="sigmoid"):
        super().__init__()
        self.channels = positive_int(channels, "channels", "SEBlock")
        self.reduction = positive_int(reduction, "reduction", "SEBlock")
        one_of(squeeze, SQUEEZES, "squeeze", "SEBlock")
        if activation not in GATES:
            raise ValueError(f"SEBlock: activation (the gate) must be one of {', '.join(map(repr, GATES))}, "
                             f"got {activation!r}")
        self.squeeze, self.activation = squeeze, activation
        self.hidden = max(1, self.channels // self.reduction)
        self.fc1 = Linear(self.channels, self.hidden, bias=bias)          # W₁: C -> C/r
        self.relu = ReLU()                                                # δ
        self.fc2 = Linear(self.hidden, self.channels, bias=bias)          # W₂: C/r -> C
        self.gate = GATES[activation]()                                # σ

    def forward(self, x):
        if x.ndim != 4 or x.shape[1] != self.channels:
            got = f"{x.shape[1]} channels" if x.ndim == 4 else f"{x.ndim} dimensions"
            raise InputShapeError(self, f"{self.one_line()} expects an input of shape (N, {self.channels}, H, W) with "
                                        f"{self.channels} channels, got shape {x.shape} ({got})")
        z = self.global_pool(x)                                # (N, C)
        s = self.excite(z)                                  # (N, C)
        return scale_channels(x, s)                         # (N, C, H, W)

    def global_pool(self, x):
        """z[n, c] = (1/HW) Σ_{h,w} x[n, c, h, w]  (or the max over h, w)."""
        if self.squeeze == "avg":
            return x.mean(axis=(2, 3))                      # (N, C, H, W) -> (N, C)
        return x.max(axis=(2, 3))                           # (N, C, H, W) -> (N, C)

    def excite(self, z):
        """s = σ(W₂ δ(W₁ z + b₁) + b₂), one gate value per image and channel."""
        hidden = self.relu(self.fc1(z))                          # (N, hidden)
        return self.gate(self.fc2(hidden))                  # (N, C)

    @classmethod
    def wrap(cls, module, channels, **kwargs):
        """``SEBlock.wrap(block, C)``: block followed by an SE block (an :class:`SEWrapper`)."""
        return SEWrapper(module, channels, **kwargs)

    def extra_repr(self):
        text = f"channels={self.channels}, reduction={self.reduction}, hidden={self.hidden}"
        if self.squeeze != "avg":
            text += f", squeeze={self.squeeze!r}"
        if self.activation != "sigmoid":
            text += f", activation={self.activation!r}"
        return text


class SEWrapper(Module):
    """``SEWrapper(module, channels, **se_options)``: y = SE(module(x)), for any module whose output
    is (N, channels, H, W). ``nn.SEWrapper(resnet.layer1, 64)`` adds SE to an existing stage."""

    def __init__(self, module, channels, **se_options):
        super().__init__()
        if not isinstance(module, Module):
            raise TypeError(f"SEWrapper wraps a Module, got {type(module).__name__}")
        self.module = module
        self.se = SEBlock(channels, **se_options)

    def forward(self, *args, **kwargs):
        return self.se(self.module(*args, **kwargs))
