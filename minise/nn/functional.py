"""``import minise.nn.functional as F``, as in PyTorch: the same functions as :mod:`minise.functional`."""
from ..functional import *
from ..functional import __all__  # noqa: F401
