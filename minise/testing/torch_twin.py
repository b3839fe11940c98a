"""PyTorch twins of minise's SE block and SE-ResNets, for the tests and the benchmarks.

    from minise.testing.torch_twin import TwinResNet, se_resnet20_twin
    twin = se_resnet20_twin()
    twin.load_state_dict(as_torch_state(minise_model))        # the same names: torchvision's

The twins are written from the papers' description with ``torch.nn``, not from minise's code, so
agreeing with them is evidence and not an echo. Their parameter names are torchvision's, so a
minise state dict loads into a twin as it is (and the other way round). minise never imports this
module: it is the one place that needs PyTorch, and importing it without PyTorch says so.
"""
import contextlib

import numpy as np

try:
    import torch
except ImportError:                                         # pragma: no cover - depends on the machine
    raise ImportError("minise.testing.torch_twin needs PyTorch (pip install torch); minise itself does not") from None

tnn, tF = torch.nn, torch.nn.functional
MARGINS = None          # while recording: the smallest |input| of every ReLU of the forward passes


def relu(x):
    """torch.relu that, while :func:`recording_relu_margins` is on, notes how close x came to 0."""
    if MARGINS is not None:
        MARGINS.append(x.detach().abs().min().item())
    return torch.relu(x)


@contextlib.contextmanager
def recording_relu_margins():
    """Collect every ReLU input's distance from the kink (a device sync each: tests only)."""
    global MARGINS
    MARGINS = []
    try:
        yield MARGINS
    finally:
        MARGINS = None


class TwinSE(tnn.Module):
    """x · σ(W₂ δ(W₁ squeeze(x) + b₁) + b₂), squeeze = mean or max over H, W."""

    def __init__(self, channels, reduction=16, squeeze="avg"):
        super().__init__()
        hidden = max(1, channels // reduction)
        self.fc1, self.fc2, self.squeeze = tnn.Linear(channels, hidden), tnn.Linear(hidden, channels), squeeze

    def forward(self, x):
        z = x.mean(dim=(2, 3)) if self.squeeze == "avg" else x.amax(dim=(2, 3))     # (N, C)
        return x * torch.sigmoid(self.fc2(relu(self.fc1(z))))[:, :, None, None]    # (N, C, H, W)


class TwinShortcutA(tnn.Module):
    """The CIFAR ResNets' option A: subsample, then pad the new channels with zeros."""

    def __init__(self, extra, stride):
        super().__init__()
        self.extra, self.stride = extra, stride

    def forward(self, x):
        return tF.pad(x[:, :, ::self.stride, ::self.stride], (0, 0, 0, 0, 0, self.extra))


def _shortcut(c_in, c_out, stride, kind):
    if stride == 1 and c_in == c_out:
        return None
    if kind == "A":
        return TwinShortcutA(c_out - c_in, stride)
    return tnn.Sequential(tnn.Conv2d(c_in, c_out, 1, stride, bias=False), tnn.BatchNorm2d(c_out))


class TwinBlock(tnn.Module):
    """BasicBlock (bottleneck=False) or Bottleneck, with the SE block at ``position``."""

    def __init__(self, c_in, planes, stride, bottleneck, se, position="standard", squeeze="avg", reduction=16,
                 shortcut="B", groups=1, base_width=64, stride_in_1x1=False):
        super().__init__()
        self.position, self.bottleneck = position, bottleneck
        c_out = planes * (4 if bottleneck else 1)
        if bottleneck:
            width = int(planes * base_width / 64) * groups
            s1, s3 = (stride, 1) if stride_in_1x1 else (1, stride)
            self.conv1, self.bn1 = tnn.Conv2d(c_in, width, 1, s1, bias=False), tnn.BatchNorm2d(width)
            self.conv2 = tnn.Conv2d(width, width, 3, s3, 1, groups=groups, bias=False)
            self.bn2 = tnn.BatchNorm2d(width)
            self.conv3, self.bn3 = tnn.Conv2d(width, c_out, 1, bias=False), tnn.BatchNorm2d(c_out)
        else:
            self.conv1, self.bn1 = tnn.Conv2d(c_in, planes, 3, stride, 1, bias=False), tnn.BatchNorm2d(planes)
            self.conv2, self.bn2 = tnn.Conv2d(planes, planes, 3, 1, 1, bias=False), tnn.BatchNorm2d(planes)
        self.se = TwinSE(c_in if position == "pre" else c_out, reduction, squeeze) if se else None
        self.downsample = _shortcut(c_in, c_out, stride, shortcut)

    def forward(self, x):
        where = self.position if self.se is not None else None
        h = self.se(x) if where == "pre" else x
        h = relu(self.bn1(self.conv1(h)))
        if self.bottleneck:
            h = self.bn3(self.conv3(relu(self.bn2(self.conv2(h)))))
        else:
            h = self.bn2(self.conv2(h))
        if where == "standard":
            h = self.se(h)
        skip = x if self.downsample is None else self.downsample(x)
        if where == "identity":
            skip = self.se(skip)
        out = relu(h + skip)
        return self.se(out) if where == "post" else out


class TwinResNet(tnn.Module):
    """ImageNet stem (7×7/2 + max-pool, four stages) or CIFAR stem (3×3, three stages)."""

    def __init__(self, layers, planes, bottleneck, cifar, num_classes, in_channels=3, **block_options):
        super().__init__()
        self.cifar, self.stages = cifar, len(layers)
        stem = planes[0]
        self.conv1 = tnn.Conv2d(in_channels, stem, 3, 1, 1, bias=False) if cifar else \
            tnn.Conv2d(in_channels, stem, 7, 2, 3, bias=False)
        self.bn1 = tnn.BatchNorm2d(stem)
        c_in = stem
        for index, (n, p) in enumerate(zip(layers, planes)):
            blocks = []
            for b in range(n):
                blocks.append(TwinBlock(c_in, p, 2 if b == 0 and index > 0 else 1, bottleneck, **block_options))
                c_in = p * (4 if bottleneck else 1)
            setattr(self, f"layer{index + 1}", tnn.Sequential(*blocks))
        self.fc = tnn.Linear(c_in, num_classes)

    def forward(self, x):
        x = relu(self.bn1(self.conv1(x)))
        if not self.cifar:
            x = tF.max_pool2d(x, 3, 2, 1)
        for index in range(self.stages):
            x = getattr(self, f"layer{index + 1}")(x)
        return self.fc(x.mean(dim=(2, 3)))


def se_resnet20_twin(num_classes=10, **block_options):
    """minise.models.se_resnet20's twin (CIFAR stem, 3 × 3 basic blocks, SE after the last BN, r = 16)."""
    options = dict(se=True, shortcut="B", reduction=16) | block_options
    return TwinResNet([3, 3, 3], [16, 32, 64], bottleneck=False, cifar=True, num_classes=num_classes, **options)


def as_torch_state(minise_module):
    """A minise module's state dict as torch tensors (copies), ready for ``twin.load_state_dict``."""
    return {k: torch.from_numpy(np.array(v, copy=True)) for k, v in minise_module.state_dict().items()}


def as_minise_state(twin):
    """A twin's state dict as NumPy arrays (copies), ready for minise's ``load_state_dict``."""
    return {k: v.detach().numpy().copy() for k, v in twin.state_dict().items()}
