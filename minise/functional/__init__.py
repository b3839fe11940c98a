"""Every op of minise as a function, with PyTorch's names (``import minise.functional as F``).

Each function wraps one :class:`minise.Function` subclass whose forward and backward sit side by
side in the module named after its family (``conv.py``, ``pooling.py``, ``norm.py``, ...).
"""
from .arithmetic import add, cast, div, exp, log, matmul, mul, neg, pow, sub, sum_to
from .reduction import max, mean, sum
from .shape import flatten, getitem, reshape, to_device, transpose
from .conv import Conv2dFunction, Convolution2d, conv2d
from .pooling import avg_pool2d, max_pool2d
from .adaptive import adaptive_avg_pool2d, adaptive_max_pool2d
from .linear import linear
from .activation import log_softmax, relu, sigmoid, softmax, tanh
from .scale import scale_channels
from .norm import batch_norm
from .loss import cross_entropy, nll_loss
