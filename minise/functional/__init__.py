"""Every op of minise as a function, with PyTorch's names (``import minise.functional as F``)."""
from .arithmetic import add, cast, div, exp, log, matmul, mul, neg, pow, sub, sum_to
from .reduction import max, mean, sum
from .shape import flatten, getitem, reshape, to_device, transpose
