"""``import minise.nn.functional as F``, as in PyTorch: the same functions as :mod:`minise.functional`."""
from ..functional import *
from ..functional import __all__  # noqa: F401
from ..pytorch_names import module_getattr as _module_getattr

__getattr__ = _module_getattr("minise.nn.functional")    # a PyTorch function minise lacks: what to write instead
