"""Layers with weights: Conv2d and Linear; and two without: Flatten and Identity.

A layer holds its Parameters and hyper-parameters and calls one functional op in ``forward``; the
math (and its backward) lives in :mod:`minise.functional`. What a layer adds is a check of its
input, so a wrong channel count is reported by the layer that got it, with both counts.
"""
import numpy as np

from .. import backend
from ..arguments import pair, positive_int
from ..functional.conv import conv2d
from ..functional.linear import linear
from ..functional.shape import flatten
from . import init
from .module import InputShapeError, Module, Parameter


def new_parameter(*shape):
    """An (uninitialised, zero) float32 Parameter on the current backend; an initialiser fills it."""
    return Parameter(backend.default_module().zeros(shape, dtype=np.float32))


class Conv2d(Module):
    """2-D convolution: ``Conv2d(in_channels, out_channels, kernel_size, stride=1, padding=0,
    dilation=1, groups=1, bias=True)``; ``padding`` may also be "same" or "valid", as in PyTorch.

    Shapes   x (N, C_in, H, W) -> y (N, C_out, H_out, W_out)
             weight (C_out, C_in/groups, kh, kw), bias (C_out,)
             H_out = ⌊(H + 2·padding − dilation·(kh − 1) − 1) / stride⌋ + 1   (W_out likewise)
    Init     weight ~ N(0, 2/fan_out), fan_out = C_out/groups·kh·kw (torchvision's ResNets);
             bias ~ U(−1/√fan_in, 1/√fan_in)
    """

    def __init__(self, in_channels, out_channels, kernel_size, stride=1, padding=0, dilation=1, groups=1,
                 bias=True):
        super().__init__()
        self.in_channels = positive_int(in_channels, "in_channels", "Conv2d")
        self.out_channels = positive_int(out_channels, "out_channels", "Conv2d")
        self.groups = positive_int(groups, "groups", "Conv2d")
        if in_channels % groups or out_channels % groups:
            raise ValueError(f"Conv2d: in_channels ({in_channels}) and out_channels ({out_channels}) must both "
                             f"be divisible by groups ({groups})")
        self.kernel_size = pair(kernel_size, "kernel_size", "Conv2d", minimum=1)
        self.stride = pair(stride, "stride", "Conv2d", minimum=1)
        self.dilation = pair(dilation, "dilation", "Conv2d", minimum=1)
        self.padding = pair(_named_padding(padding, self.kernel_size, self.stride, self.dilation), "padding",
                            "Conv2d", minimum=0)
        self.weight = new_parameter(out_channels, in_channels // groups, *self.kernel_size)
        self.register_parameter("bias", new_parameter(out_channels) if bias else None)
        self.reset_parameters()

    def reset_parameters(self):
        init.kaiming_normal_(self.weight, mode="fan_out", nonlinearity="relu")
        if self.bias is not None:
            init.bias_uniform_(self.bias, self.weight)

    def forward(self, x):
        if x.ndim != 4 or x.shape[1] != self.in_channels:
            got = f"{x.shape[1]} channels" if x.ndim == 4 else f"{x.ndim} dimensions"
            raise InputShapeError(self, f"{self.one_line()} expects an input of shape (N, {self.in_channels}, H, W) "
                                        f"with {self.in_channels} channels, got shape {x.shape} ({got})")
        return conv2d(x, self.weight, self.bias, self.stride, self.padding, self.dilation, self.groups)

    def extra_repr(self):
        text = f"{self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}, stride={self.stride}"
        if self.padding != (0, 0):
            text += f", padding={self.padding}"
        if self.dilation != (1, 1):
            text += f", dilation={self.dilation}"
        if self.groups != 1:
            text += f", groups={self.groups}"
        if self.bias is None:
            text += ", bias=False"
        return text


def _named_padding(padding, kernel_size, stride, dilation):
    """PyTorch's ``padding="valid"`` (none) and ``padding="same"`` (the output keeps the input's size:
    dilation·(k − 1)/2 on each side, stride 1) as numbers; anything else is returned as it is."""
    if padding == "valid":
        return 0
    if padding != "same":
        return padding
    if stride != (1, 1):
        raise ValueError(f"Conv2d: padding='same' needs stride 1 (as in PyTorch), got stride {stride}")
    totals = [d * (k - 1) for k, d in zip(kernel_size, dilation)]
    if any(total % 2 for total in totals):
        raise ValueError(f"Conv2d: padding='same' with kernel_size {kernel_size} and dilation {dilation} needs more "
                         "padding on one side than the other, which minise's conv2d does not do; use an odd "
                         "kernel_size or give padding as numbers")
    return tuple(total // 2 for total in totals)


class Linear(Module):
    """Fully connected layer: ``Linear(in_features, out_features, bias=True)``.

    Shapes   x (N, in) -> y (N, out) = x · weightᵀ + bias     weight (out, in), bias (out,)
    Init     weight and bias ~ U(−1/√in, 1/√in)  (PyTorch's default: kaiming_uniform_ with a=√5)
    """

    def __init__(self, in_features, out_features, bias=True):
        super().__init__()
        self.in_features = positive_int(in_features, "in_features", "Linear")
        self.out_features = positive_int(out_features, "out_features", "Linear")
        self.weight = new_parameter(out_features, in_features)
        self.register_parameter("bias", new_parameter(out_features) if bias else None)
        self.reset_parameters()

    def reset_parameters(self):
        init.kaiming_uniform_(self.weight, a=5 ** 0.5)
        if self.bias is not None:
            init.bias_uniform_(self.bias, self.weight)

    def forward(self, x):
        if x.ndim < 1 or x.shape[-1] != self.in_features:
            raise InputShapeError(self, f"{self.one_line()} expects inputs with {self.in_features} features in the "
                                        f"last axis, got shape {x.shape} ({x.shape[-1] if x.ndim else 0} features)")
        return linear(x, self.weight, self.bias)

    def extra_repr(self):
        return f"in_features={self.in_features}, out_features={self.out_features}, bias={self.bias is not None}"


class Flatten(Module):
    """Merges axes start_dim…end_dim: (N, C, H, W) -> (N, C·H·W) with the default start_dim=1."""

    def __init__(self, start_dim=1, end_dim=-1):
        super().__init__()
        self.start_dim, self.end_dim = start_dim, end_dim

    def forward(self, x):
        return flatten(x, self.start_dim, self.end_dim)

    def extra_repr(self):
        return f"start_dim={self.start_dim}, end_dim={self.end_dim}"


class Identity(Module):
    """Returns its input unchanged (a placeholder, e.g. for a removed layer)."""

    def __init__(self, *args, **kwargs):
        super().__init__()

    def forward(self, x):
        return x
