"""minise: Squeeze-and-Excitation networks from scratch, on NumPy (CPU) and CuPy (GPU).

Every op has a readable forward and backward on arrays, and ``minise.gradcheck`` proves each
backward right against finite differences.
"""
__version__ = "0.1.0"

from .allocator import tune_malloc
tune_malloc()                   # keep freed memory for reuse (glibc); see minise/allocator.py

from . import backend
from .backend import use_backend
from .tensor import Tensor
from .function import Function, no_grad, is_grad_enabled
from . import functional
from .gradcheck import GradcheckError, GradcheckReport, GradcheckWarning, check_backward, gradcheck
from .rng import manual_seed
from . import rng, nn, io, models, optim, data, train
from .io import save, load
from .models import summary

__all__ = ["Tensor", "Function", "no_grad", "is_grad_enabled", "gradcheck", "check_backward",
           "GradcheckError", "GradcheckReport", "GradcheckWarning", "functional", "backend", "use_backend",
           "manual_seed", "rng", "nn", "io", "models", "optim", "data", "train", "save", "load", "summary",
           "__version__"]
