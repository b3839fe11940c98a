"""Initial values for parameters, with PyTorch's names (``nn.init.kaiming_normal_`` ...).

Why the scale matters: a layer sums fan_in products, so with weights of variance v its outputs have
about fan_in·v times the variance of its inputs. He et al. (arXiv 1502.01852) choose v so the signal
neither explodes nor dies through many ReLU layers (ReLU zeroes half the signal, hence the gain √2):

    kaiming_normal_:   w ~ N(0, std²),   std   = gain / √fan        gain = √2 for ReLU
    kaiming_uniform_:  w ~ U(−b, b),     b     = gain · √(3 / fan)  (same variance: b²/3 = std²)

    fan_in  = in_channels/groups · kh · kw   (keeps forward activations steady)
    fan_out = out_channels/groups · kh · kw  (keeps backward gradients steady; torchvision's ResNets)

minise's defaults, as PyTorch and torchvision use them:
    Conv2d       weight kaiming_normal_(mode="fan_out", nonlinearity="relu"), bias U(−1/√fan_in, 1/√fan_in)
    Linear       weight kaiming_uniform_(a=√5) = U(−1/√fan_in, 1/√fan_in), bias the same
    BatchNorm2d  weight 1, bias 0

Every function fills a Tensor in place (on its device, in its dtype) and returns it. Values are drawn
on the host from :func:`minise.rng.generator`, so ``minise.manual_seed`` makes them repeatable.
"""
import math

import numpy as np

from .. import backend, rng


def _fill(tensor, values):
    """Write host ``values`` into ``tensor.data`` in place, keeping its device and dtype."""
    data = tensor.data
    data[...] = backend.to_device(np.asarray(values, dtype=data.dtype), backend.device_of(data))
    return tensor


def _generator(generator):
    return rng.generator() if generator is None else generator


def calculate_fan_in_and_fan_out(tensor):
    """(fan_in, fan_out) of a weight: Linear (out, in) or Conv2d (out, in/groups, kh, kw)."""
    shape = tuple(tensor.shape)
    if len(shape) < 2:
        raise ValueError(f"fan in and fan out need a weight with at least 2 dimensions, got shape {shape}")
    receptive = int(np.prod(shape[2:])) if len(shape) > 2 else 1
    return shape[1] * receptive, shape[0] * receptive


def calculate_gain(nonlinearity, param=None):
    """The factor that keeps the variance of a signal through ``nonlinearity`` (PyTorch's table)."""
    if nonlinearity in ("linear", "conv2d", "sigmoid", "identity"):
        return 1.0
    if nonlinearity == "tanh":
        return 5.0 / 3
    if nonlinearity == "relu":
        return math.sqrt(2.0)
    if nonlinearity == "leaky_relu":
        slope = 0.01 if param is None else float(param)
        return math.sqrt(2.0 / (1 + slope ** 2))
    raise ValueError(f"unknown nonlinearity {nonlinearity!r}; expected one of linear, conv2d, sigmoid, "
                     "identity, tanh, relu, leaky_relu")


def _fan(tensor, mode):
    if mode not in ("fan_in", "fan_out"):
        raise ValueError(f"mode must be 'fan_in' or 'fan_out', got {mode!r}")
    fan_in, fan_out = calculate_fan_in_and_fan_out(tensor)
    return fan_in if mode == "fan_in" else fan_out


def kaiming_normal_(tensor, a=0, mode="fan_in", nonlinearity="leaky_relu", generator=None):
    """w ~ N(0, std²) with std = gain / √fan (He et al. 2015)."""
    std = calculate_gain(nonlinearity, a) / math.sqrt(_fan(tensor, mode))
    return _fill(tensor, _generator(generator).normal(0.0, std, size=tensor.shape))


def kaiming_uniform_(tensor, a=0, mode="fan_in", nonlinearity="leaky_relu", generator=None):
    """w ~ U(−b, b) with b = gain · √(3 / fan). With a=√5 (PyTorch's Linear default) b = 1/√fan_in."""
    bound = calculate_gain(nonlinearity, a) * math.sqrt(3.0 / _fan(tensor, mode))
    return uniform_(tensor, -bound, bound, generator)


def xavier_uniform_(tensor, gain=1.0, generator=None):
    """w ~ U(−b, b) with b = gain · √(6 / (fan_in + fan_out)) (Glorot & Bengio 2010)."""
    fan_in, fan_out = calculate_fan_in_and_fan_out(tensor)
    bound = gain * math.sqrt(6.0 / (fan_in + fan_out))
    return uniform_(tensor, -bound, bound, generator)


def uniform_(tensor, a=0.0, b=1.0, generator=None):
    return _fill(tensor, _generator(generator).uniform(a, b, size=tensor.shape))


def normal_(tensor, mean=0.0, std=1.0, generator=None):
    return _fill(tensor, _generator(generator).normal(mean, std, size=tensor.shape))


def constant_(tensor, value):
    return _fill(tensor, np.full(tensor.shape, value))


def zeros_(tensor):
    return constant_(tensor, 0.0)


def ones_(tensor):
    return constant_(tensor, 1.0)


def bias_uniform_(bias, weight, generator=None):
    """PyTorch's default bias: U(−1/√fan_in, 1/√fan_in), fan_in taken from the layer's weight."""
    fan_in, _ = calculate_fan_in_and_fan_out(weight)
    bound = 1.0 / math.sqrt(fan_in) if fan_in > 0 else 0.0
    return uniform_(bias, -bound, bound, generator)
