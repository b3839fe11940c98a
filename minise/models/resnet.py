"""ResNet and SE-ResNet in ImageNet shapes (He et al. 2016; Hu et al., arXiv 1709.01507).

    stem     conv1 7×7/2 (64) -> bn1 -> ReLU -> maxpool 3×3/2            (N, 64, H/4, W/4)
    layer1   n₁ blocks, 64·e channels out, stride 1                        (N, 64e, H/4, W/4)
    layer2   n₂ blocks, 128·e channels out, first block stride 2           (N, 128e, H/8, W/8)
    layer3   n₃ blocks, 256·e channels out, first block stride 2           (N, 256e, H/16, W/16)
    layer4   n₄ blocks, 512·e channels out, first block stride 2           (N, 512e, H/32, W/32)
    head     global average pool -> fc                                     (N, num_classes)

e = 1 for BasicBlock (ResNet-18/34), 4 for Bottleneck (ResNet-50/101/152). The network returns
logits (no softmax). Names and shapes follow torchvision, so ``resnet18()`` has 11,689,512
parameters and ``resnet50()`` 25,557,032. An SE block with reduction r adds, per block with C
output channels and hidden = max(1, C // r):  2·C·hidden weights + hidden + C biases
(≈ (2/r)·Σ_s N_s·C_s² over the stages s, as in the paper).
"""
from .. import nn
from ..arguments import positive_int
from ..functional.activation import relu
from .blocks import BasicBlock, Bottleneck, check_image_batch, check_se_options, init_resnet_weights, projection

__all__ = ["BasicBlock", "Bottleneck", "ResNet", "resnet18", "resnet34", "resnet50", "resnet101", "resnet152",
           "resnext50_32x4d", "se_resnet18", "se_resnet34", "se_resnet50", "se_resnet101", "se_resnet152",
           "se_resnext50_32x4d"]


class ResNet(nn.Module):
    """ResNet / ResNeXt / SE-ResNet for ImageNet-sized inputs (at least 32×32).

    block         BasicBlock or Bottleneck
    layers        blocks per stage, four positive ints, e.g. [3, 4, 6, 3] for ResNet-50
    num_classes   size of the output (logits)
    in_channels   channels of the input images (3 for RGB)
    groups, width_per_group   ResNeXt's cardinality and width (32, 4 for ResNeXt-50 32×4d)
    se            add an SE block to every residual block
    reduction, squeeze, se_position   the SE block's options (see minise.models.blocks)
    stride_in_1x1 stride in the bottleneck's first 1×1 conv (original layout) instead of its 3×3
    zero_init_residual   start every residual branch's last BN at γ = 0
    """

    def __init__(self, block, layers, num_classes=1000, in_channels=3, groups=1, width_per_group=64, se=False,
                 reduction=16, squeeze="avg", se_position="standard", stride_in_1x1=False,
                 zero_init_residual=False):
        super().__init__()
        if block not in (BasicBlock, Bottleneck):
            raise ValueError(f"block must be BasicBlock or Bottleneck, got {block!r}")
        if len(layers) != 4:
            raise ValueError(f"layers must list the number of blocks of the 4 stages, got {list(layers)}")
        for count in layers:
            positive_int(count, "each entry of layers")
        positive_int(num_classes, "num_classes")
        positive_int(in_channels, "in_channels")
        check_se_options(reduction, squeeze, se_position)
        self.in_channels, self.num_classes = in_channels, num_classes
        self._block_options = dict(groups=groups, base_width=width_per_group, se=se, reduction=reduction,
                                   squeeze=squeeze, se_position=se_position, stride_in_1x1=stride_in_1x1)
        self._planes_in = 64

        self.conv1 = nn.Conv2d(in_channels, 64, 7, stride=2, padding=3, bias=False)
        self.bn1 = nn.BatchNorm2d(64)
        self.maxpool = nn.MaxPool2d(3, stride=2, padding=1)
        self.layer1 = self._make_stage(block, 64, layers[0], stride=1)
        self.layer2 = self._make_stage(block, 128, layers[1], stride=2)
        self.layer3 = self._make_stage(block, 256, layers[2], stride=2)
        self.layer4 = self._make_stage(block, 512, layers[3], stride=2)
        self.avgpool = nn.AdaptiveAvgPool2d(1)
        self.fc = nn.Linear(512 * block.expansion, num_classes)
        init_resnet_weights(self, zero_init_residual)

    def _make_stage(self, block, planes, count, stride):
        out_channels = planes * block.expansion
        downsample = None
        if stride != 1 or self._planes_in != out_channels:
            downsample = projection(self._planes_in, out_channels, stride)
        blocks = [block(self._planes_in, planes, stride, downsample, **self._block_options)]
        self._planes_in = out_channels
        blocks += [block(out_channels, planes, **self._block_options) for _ in range(1, count)]
        return nn.Sequential(*blocks)

    total_stride = 32          # conv1 (2) · maxpool (2) · layer2, layer3, layer4 (2 each)

    def forward(self, x):
        check_image_batch(x, self.in_channels, "conv1", self.total_stride, type(self).__name__)
        x = self.maxpool(relu(self.bn1(self.conv1(x))))                         # (N, 64, H/4, W/4)
        x = self.layer1(x)                                                      # (N, 64e, H/4, W/4)
        x = self.layer2(x)                                                      # (N, 128e, H/8, W/8)
        x = self.layer3(x)                                                      # (N, 256e, H/16, W/16)
        x = self.layer4(x)                                                      # (N, 512e, H/32, W/32)
        x = self.avgpool(x).flatten(1)                                          # (N, 512e)
        return self.fc(x)                                                       # (N, num_classes)


def _resnet(block, layers, **kwargs):
    return ResNet(block, layers, **kwargs)


def resnet18(**kwargs):
    """ResNet-18: BasicBlock, [2, 2, 2, 2]; 11.7 M parameters at 1000 classes."""
    return _resnet(BasicBlock, [2, 2, 2, 2], **kwargs)


def resnet34(**kwargs):
    """ResNet-34: BasicBlock, [3, 4, 6, 3]; 21.8 M parameters."""
    return _resnet(BasicBlock, [3, 4, 6, 3], **kwargs)


def resnet50(**kwargs):
    """ResNet-50: Bottleneck, [3, 4, 6, 3]; 25.6 M parameters, 4.1 G multiply-accumulates at 224×224."""
    return _resnet(Bottleneck, [3, 4, 6, 3], **kwargs)


def resnet101(**kwargs):
    """ResNet-101: Bottleneck, [3, 4, 23, 3]; 44.5 M parameters."""
    return _resnet(Bottleneck, [3, 4, 23, 3], **kwargs)


def resnet152(**kwargs):
    """ResNet-152: Bottleneck, [3, 8, 36, 3]; 60.2 M parameters."""
    return _resnet(Bottleneck, [3, 8, 36, 3], **kwargs)


def resnext50_32x4d(**kwargs):
    """ResNeXt-50 32×4d: Bottleneck with 32 groups of width 4; 25.0 M parameters."""
    return _resnet(Bottleneck, [3, 4, 6, 3], groups=32, width_per_group=4, **kwargs)


def _se(constructor, name):
    def build(num_classes=1000, in_channels=3, reduction=16, squeeze="avg", se_position="standard", **kwargs):
        return constructor(num_classes=num_classes, in_channels=in_channels, se=True, reduction=reduction,
                           squeeze=squeeze, se_position=se_position, **kwargs)
    build.__name__ = build.__qualname__ = name
    build.__doc__ = (f"SE-{constructor.__doc__.split(':')[0]} with an SE block in every residual block "
                     "(reduction=16, squeeze='avg', se_position='standard' unless given).")
    return build


se_resnet18 = _se(resnet18, "se_resnet18")
se_resnet34 = _se(resnet34, "se_resnet34")
se_resnet50 = _se(resnet50, "se_resnet50")
se_resnet101 = _se(resnet101, "se_resnet101")
se_resnet152 = _se(resnet152, "se_resnet152")
se_resnext50_32x4d = _se(resnext50_32x4d, "se_resnext50_32x4d")
