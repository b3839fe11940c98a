"""``import minise.nn.functional as F``, as in PyTorch: the same functions as :mod:`minise.functional`."""
from ..functional import *  # noqa: F401,F403  (the whole functional API, re-exported)
from ..functional import __all__  # noqa: F401
