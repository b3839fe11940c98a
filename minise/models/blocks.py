"""Residual blocks with an optional Squeeze-and-Excitation block: BasicBlock and Bottleneck.

A residual unit adds a learned branch F(x) to a shortcut (the identity, or a 1×1 conv + BN when the
shape changes) and applies ReLU:  y = ReLU(F(x) + shortcut(x)).

The SE block (``se``, children ``se.fc1`` and ``se.fc2``) rescales channels. Where it sits is the
question of the SENet paper's integration ablation (Hu et al., arXiv 1709.01507, Fig. 5 and
Sec. 6.5); ``se_position`` picks one of its variants:

    "standard"  y = ReLU(SE(F(x)) + shortcut(x))      SE on the branch, after its last BN (default)
    "pre"       y = ReLU(F(SE(x)) + shortcut(x))      SE on the unit's input, feeding the branch only
    "post"      y = SE(ReLU(F(x) + shortcut(x)))      SE after the sum and the final ReLU
    "identity"  y = ReLU(F(x) + SE(shortcut(x)))      SE on the shortcut, in parallel to the branch

The SE block sees the block's output channels, except "pre", which sees its input channels.
Parameter names follow torchvision (conv1, bn1, ..., downsample.0, downsample.1).
"""
from .. import nn
from ..arguments import SQUEEZES, one_of, positive_int
from ..functional.activation import relu

SE_POSITIONS = ("standard", "pre", "post", "identity")


def check_se_options(reduction, squeeze, se_position):
    """Raise a clear ValueError for SE options outside what the blocks understand."""
    positive_int(reduction, "reduction (the SE bottleneck is C // reduction)")
    one_of(squeeze, SQUEEZES, "squeeze")
    if se_position not in SE_POSITIONS:
        raise ValueError(f"se_position must be one of {SE_POSITIONS}, got {se_position!r}")


def conv3x3(in_channels, out_channels, stride=1, groups=1):
    return nn.Conv2d(in_channels, out_channels, 3, stride=stride, padding=1, groups=groups, bias=False)


def conv1x1(in_channels, out_channels, stride=1):
    return nn.Conv2d(in_channels, out_channels, 1, stride=stride, bias=False)


def projection(in_channels, out_channels, stride):
    """The downsampling shortcut: 1×1 conv (with the stride) + BN, as ``downsample.0`` / ``downsample.1``."""
    return nn.Sequential(conv1x1(in_channels, out_channels, stride), nn.BatchNorm2d(out_channels))


class ResidualBlock(nn.Module):
    """What BasicBlock and Bottleneck share: the shortcut, the SE block, and where it is applied."""

    expansion = 1

    def _add_se(self, in_channels, out_channels, se, reduction, squeeze, se_position):
        check_se_options(reduction, squeeze, se_position)
        self.se_position = se_position
        if se:
            channels = in_channels if se_position == "pre" else out_channels
            self.se = nn.SEBlock(channels, reduction=reduction, squeeze=squeeze)
        else:
            self.se = None

    def branch(self, x):
        raise NotImplementedError

    def extra_repr(self):
        placed = self.se is not None and self.se_position != "standard"
        return f"se_position={self.se_position!r}" if placed else ""

    def forward(self, x):
        se = self.se
        where = self.se_position if se is not None else None
        out = self.branch(se(x) if where == "pre" else x)                          # (N, C_out, H', W')
        if where == "standard":
            out = se(out)
        shortcut = x if self.downsample is None else self.downsample(x)           # (N, C_out, H', W')
        if where == "identity":
            shortcut = se(shortcut)
        out = relu(out + shortcut)
        if where == "post":
            out = se(out)
        return out


class BasicBlock(ResidualBlock):
    """Two 3×3 convs (ResNet-18/34 and the CIFAR ResNets): C_in -> planes -> planes.

    ``downsample`` is the shortcut module (None for the identity). ``stride_in_1x1`` is accepted so
    that ResNet passes the same options to either block, and refused when True: the stride of a
    BasicBlock always sits in its first 3×3 conv.
    """

    expansion = 1

    def __init__(self, in_channels, planes, stride=1, downsample=None, groups=1, base_width=64,
                 se=False, reduction=16, squeeze="avg", se_position="standard", stride_in_1x1=False):
        super().__init__()
        if groups != 1 or base_width != 64:
            raise ValueError("BasicBlock supports only groups=1 and base_width=64 (use Bottleneck for ResNeXt)")
        if stride_in_1x1:
            raise ValueError("stride_in_1x1 moves the stride into a Bottleneck's first 1×1 conv; a BasicBlock has no "
                             "1×1 conv (ResNet-18/34 and the CIFAR ResNets): leave it False")
        self.conv1 = conv3x3(in_channels, planes, stride)
        self.bn1 = nn.BatchNorm2d(planes)
        self.conv2 = conv3x3(planes, planes)
        self.bn2 = nn.BatchNorm2d(planes)
        self._add_se(in_channels, planes, se, reduction, squeeze, se_position)
        self.downsample = downsample

    def branch(self, x):
        out = relu(self.bn1(self.conv1(x)))                                       # (N, planes, H', W')
        return self.bn2(self.conv2(out))                                          # (N, planes, H', W')


class Bottleneck(ResidualBlock):
    """1×1 reduce, 3×3 (grouped for ResNeXt), 1×1 expand: C_in -> width -> width -> 4·planes.

    width = int(planes · base_width / 64) · groups (torchvision's rule; 32×4d gives 2× planes).
    The stride sits in the 3×3 conv (torchvision's layout, "ResNet v1.5") or, with
    ``stride_in_1x1=True``, in the first 1×1 conv (the original ResNet and SENet layout).
    """

    expansion = 4

    def __init__(self, in_channels, planes, stride=1, downsample=None, groups=1, base_width=64,
                 se=False, reduction=16, squeeze="avg", se_position="standard", stride_in_1x1=False):
        super().__init__()
        width = int(planes * (base_width / 64.0)) * groups
        out_channels = planes * self.expansion
        stride_1x1, stride_3x3 = (stride, 1) if stride_in_1x1 else (1, stride)
        self.conv1 = conv1x1(in_channels, width, stride_1x1)
        self.bn1 = nn.BatchNorm2d(width)
        self.conv2 = conv3x3(width, width, stride_3x3, groups)
        self.bn2 = nn.BatchNorm2d(width)
        self.conv3 = conv1x1(width, out_channels)
        self.bn3 = nn.BatchNorm2d(out_channels)
        self._add_se(in_channels, out_channels, se, reduction, squeeze, se_position)
        self.downsample = downsample

    def branch(self, x):
        out = relu(self.bn1(self.conv1(x)))                                       # (N, width, H1, W1)
        out = relu(self.bn2(self.conv2(out)))                                     # (N, width, H', W')
        return self.bn3(self.conv3(out))                                          # (N, 4·planes, H', W')


def check_image_batch(x, in_channels, first_layer, total_stride, model_name):
    """Check a model's input before running it: 4-d, the right channels, big enough.

    ``total_stride`` is the product of every stride in the network. An input smaller than that
    leaves the last stage with less than one pixel per output position: padding alone fills it.
    """
    if x.ndim != 4:
        raise ValueError(f"{model_name} expects a batch of images shaped (N, C, H, W), got shape {x.shape}")
    if x.shape[1] != in_channels:
        raise ValueError(f"{model_name}: the first layer ({first_layer}) expects {in_channels} input channels, "
                         f"but the input has {x.shape[1]} (input shape {x.shape})")
    height, width = x.shape[2:]
    if height < total_stride or width < total_stride:
        raise ValueError(f"{model_name}: input of {height}×{width} pixels is too small; this network downsamples "
                         f"by {total_stride} in total, so it needs at least {total_stride}×{total_stride} "
                         "(every stage then sees at least one pixel of the input)")


def init_resnet_weights(model, zero_init_residual=False):
    """He et al. initialisation, as torchvision's ResNets use it.

    The layers' own defaults already are that initialisation (convs from N(0, 2 / fan_out), BN γ = 1,
    β = 0; see minise.nn.init). With ``zero_init_residual`` the last BN of each residual branch starts
    at γ = 0, so every block begins as the identity (Goyal et al. 2017).
    """
    if not zero_init_residual:
        return
    from ..nn import init
    for module in model.modules():
        if isinstance(module, Bottleneck):
            init.zeros_(module.bn3.weight)
        elif isinstance(module, BasicBlock):
            init.zeros_(module.bn2.weight)
