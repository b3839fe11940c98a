"""minise: Squeeze-and-Excitation networks from scratch, on NumPy (CPU) and CuPy (GPU).

Every op has a readable forward and backward on arrays, and ``minise.gradcheck`` proves each
backward right against finite differences.
"""
__version__ = "0.1.0"

from . import backend
from .backend import use_backend
from .tensor import Tensor
from .function import Function, no_grad, is_grad_enabled
from . import functional
from .gradcheck import GradcheckError, GradcheckReport, GradcheckWarning, check_backward, gradcheck

__all__ = ["Tensor", "Function", "no_grad", "is_grad_enabled", "gradcheck", "check_backward",
           "GradcheckError", "GradcheckReport", "GradcheckWarning", "functional", "backend", "use_backend",
           "__version__"]
