"""Every op of minise as a function, with PyTorch's names (``import minise.functional as F``, or
``import minise.nn.functional as F`` as in PyTorch).

Each function wraps one :class:`minise.Function` subclass (``<Name>Function``) whose forward and
backward sit side by side in the module named after its family (``conv.py``, ``pooling.py``, ...).
"""
from .activation import log_softmax, relu, sigmoid, softmax, tanh
from .adaptive import adaptive_avg_pool2d, adaptive_max_pool2d
from .arithmetic import add, cast, div, exp, log, mul, neg, pow, sub, sum_to
from .conv import Conv2dFunction, Convolution2d, conv2d
from .dropout import dropout
from .join import cat, stack
from .linear import linear
from .loss import cross_entropy, nll_loss
from .matmul import matmul
from .norm import batch_norm
from .pad import pad_channels
from .pooling import avg_pool2d, max_pool2d
from .reduction import all, amax, amin, any, argmax, argmin, max, mean, min, sum
from .scale import scale_channels
from .shape import clone, flatten, getitem, permute, reshape, squeeze, swapaxes, to_device, transpose, unsqueeze

__all__ = ["Conv2dFunction", "Convolution2d", "adaptive_avg_pool2d", "adaptive_max_pool2d", "add", "all",
           "amax", "amin", "any", "argmax", "argmin", "avg_pool2d", "batch_norm", "cast", "cat", "clone",
           "conv2d", "cross_entropy", "div", "dropout", "exp", "flatten", "getitem", "linear", "log",
           "log_softmax", "matmul", "max", "max_pool2d", "mean", "min", "mul", "neg", "nll_loss",
           "pad_channels", "permute", "pow", "relu", "reshape", "scale_channels", "sigmoid", "softmax",
           "squeeze", "stack", "sub", "sum", "sum_to", "swapaxes", "tanh", "to_device", "transpose",
           "unsqueeze"]
