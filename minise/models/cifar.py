"""ResNet and SE-ResNet in CIFAR shapes (He et al. 2016, Sec. 4.2): 6n + 2 layers.

    conv1    3×3 conv, 16·k channels -> bn1 -> ReLU                        (N, 16k, H, W)
    layer1   n BasicBlocks, 16·k channels                                  (N, 16k, H, W)
    layer2   n BasicBlocks, 32·k channels, first block stride 2            (N, 32k, H/2, W/2)
    layer3   n BasicBlocks, 64·k channels, first block stride 2            (N, 64k, H/4, W/4)
    head     global average pool -> fc                                     (N, num_classes)

n = 3, 5, 9, 18 gives ResNet-20, 32, 56, 110 (k = width / 16; width=16 is the paper's network,
smaller widths build quick models for tests). Returns logits.

The two downsampling shortcuts of the paper:
    shortcut="B"  1×1 conv (stride 2) + BN, as in the ImageNet ResNets (the default here)
    shortcut="A"  parameter-free: take every second pixel and pad the new channels with zeros
                  (the paper's choice for CIFAR: ResNet-20 then has 0.27 M parameters)
With 16 channels and reduction 16 the SE bottleneck has max(1, 16 // 16) = 1 hidden unit.
"""
from .. import nn
from ..functional.activation import relu
from ..functional.pad import pad_channels
from .blocks import BasicBlock, check_image_batch, check_se_options, init_resnet_weights, projection

__all__ = ["CifarResNet", "resnet20", "resnet32", "resnet56", "resnet110",
           "se_resnet20", "se_resnet32", "se_resnet56", "se_resnet110"]


class ZeroPadShortcut(nn.Module):
    """Shortcut A: y = x[:, :, ::stride, ::stride] with zero channels appended (no parameters)."""

    def __init__(self, in_channels, out_channels, stride):
        super().__init__()
        if out_channels < in_channels:
            raise ValueError(f"shortcut A can only add channels, not go from {in_channels} to {out_channels}")
        self.in_channels, self.out_channels, self.stride = in_channels, out_channels, stride

    def forward(self, x):
        x = x[:, :, ::self.stride, ::self.stride]                               # (N, C, H/s, W/s)
        return pad_channels(x, self.out_channels - self.in_channels)            # (N, C_out, H/s, W/s)

    def extra_repr(self):
        return f"{self.in_channels}, {self.out_channels}, stride={self.stride}"


class CifarResNet(nn.Module):
    """ResNet-(6n+2) for 32×32 images (any size ≥ 4×4 works).

    depth        6n + 2: 20, 32, 44, 56, 110, ... (8 and 14 make tiny test models)
    width        channels of the first stage (16 in the paper); stages have width, 2·width, 4·width
    shortcut     "B" (1×1 conv + BN, default) or "A" (subsample and zero-pad, the paper's CIFAR choice)
    se, reduction, squeeze, se_position   SE options, as for the ImageNet ResNets
    """

    total_stride = 4           # layer2 and layer3 halve the size

    def __init__(self, depth=20, num_classes=10, in_channels=3, width=16, se=False, reduction=16, squeeze="avg",
                 se_position="standard", shortcut="B", zero_init_residual=False):
        super().__init__()
        for value, what in ((num_classes, "num_classes"), (in_channels, "in_channels"), (width, "width")):
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ValueError(f"{what} must be a positive int, got {value!r}")
        if not isinstance(depth, int) or depth < 8 or (depth - 2) % 6:
            raise ValueError(f"depth must be 6n + 2 with n ≥ 1 (8, 14, 20, 32, 44, 56, 110, ...), got {depth!r}")
        if shortcut not in ("A", "B"):
            raise ValueError(f"shortcut must be 'A' (zero padding) or 'B' (1×1 conv + BN), got {shortcut!r}")
        check_se_options(reduction, squeeze, se_position)
        self.depth, self.in_channels, self.num_classes, self.shortcut = depth, in_channels, num_classes, shortcut
        blocks_per_stage = (depth - 2) // 6
        self._block_options = dict(se=se, reduction=reduction, squeeze=squeeze, se_position=se_position)
        self._planes_in = width

        self.conv1 = nn.Conv2d(in_channels, width, 3, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(width)
        self.layer1 = self._make_stage(width, blocks_per_stage, stride=1)
        self.layer2 = self._make_stage(2 * width, blocks_per_stage, stride=2)
        self.layer3 = self._make_stage(4 * width, blocks_per_stage, stride=2)
        self.avgpool = nn.AdaptiveAvgPool2d(1)
        self.fc = nn.Linear(4 * width, num_classes)
        init_resnet_weights(self, zero_init_residual)

    def _make_stage(self, planes, count, stride):
        downsample = None
        if stride != 1 or self._planes_in != planes:
            shortcut = ZeroPadShortcut if self.shortcut == "A" else projection
            downsample = shortcut(self._planes_in, planes, stride)
        blocks = [BasicBlock(self._planes_in, planes, stride, downsample, **self._block_options)]
        self._planes_in = planes
        blocks += [BasicBlock(planes, planes, **self._block_options) for _ in range(1, count)]
        return nn.Sequential(*blocks)

    def forward(self, x):
        check_image_batch(x, self.in_channels, "conv1", self.total_stride, f"CifarResNet-{self.depth}")
        x = relu(self.bn1(self.conv1(x)))                                       # (N, 16k, H, W)
        x = self.layer1(x)                                                      # (N, 16k, H, W)
        x = self.layer2(x)                                                      # (N, 32k, H/2, W/2)
        x = self.layer3(x)                                                      # (N, 64k, H/4, W/4)
        x = self.avgpool(x).flatten(1)                                          # (N, 64k)
        return self.fc(x)                                                       # (N, num_classes)


def _cifar(depth, se):
    def build(num_classes=10, in_channels=3, **kwargs):
        return CifarResNet(depth, num_classes=num_classes, in_channels=in_channels, se=se, **kwargs)
    prefix = "se_" if se else ""
    build.__name__ = build.__qualname__ = f"{prefix}resnet{depth}"
    build.__doc__ = (f"{'SE-' if se else ''}ResNet-{depth} for CIFAR ({(depth - 2) // 6} BasicBlocks per stage). "
                     "Options: num_classes, in_channels, width, shortcut" + (", reduction, squeeze, se_position"
                                                                             if se else "") + ".")
    return build


resnet20, resnet32, resnet56, resnet110 = (_cifar(d, False) for d in (20, 32, 56, 110))
se_resnet20, se_resnet32, se_resnet56, se_resnet110 = (_cifar(d, True) for d in (20, 32, 56, 110))
