"""Every op of minise as a function, with PyTorch's names (``import minise.functional as F``, or
``import minise.nn.functional as F`` as in PyTorch).

Each function wraps one :class:`minise.Function` subclass (``<Name>Function``) whose forward and
backward sit side by side in the module named after its family (``conv.py``, ``pooling.py``, ...).
"""
from .arithmetic import add, cast, div, exp, log, matmul, mul, neg, pow, sub, sum_to
from .reduction import all, amax, amin, any, argmax, argmin, max, mean, min, sum
from .shape import (clone, flatten, getitem, permute, reshape, squeeze, swapaxes, to_device, transpose,
                    unsqueeze)
from .conv import Conv2dFunction, Convolution2d, conv2d
from .pooling import avg_pool2d, max_pool2d
from .adaptive import adaptive_avg_pool2d, adaptive_max_pool2d
from .linear import linear
from .activation import log_softmax, relu, sigmoid, softmax, tanh
from .scale import scale_channels
from .norm import batch_norm
from .loss import cross_entropy, nll_loss
from .join import cat, stack
from .dropout import dropout

__all__ = ["add", "cast", "div", "exp", "log", "matmul", "mul", "neg", "pow", "sub", "sum_to",
           "all", "amax", "amin", "any", "argmax", "argmin", "max", "mean", "min", "sum",
           "clone", "flatten", "getitem", "permute", "reshape", "squeeze", "swapaxes", "to_device", "transpose",
           "unsqueeze", "Convolution2d", "conv2d", "avg_pool2d", "max_pool2d", "adaptive_avg_pool2d",
           "adaptive_max_pool2d", "linear", "log_softmax", "relu", "sigmoid", "softmax", "tanh", "scale_channels",
           "batch_norm", "cross_entropy", "nll_loss", "cat", "stack", "dropout"]
