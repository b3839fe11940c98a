"""minise: Squeeze-and-Excitation networks from scratch, on NumPy (CPU) and CuPy (GPU).

Every op has a readable forward and backward on arrays, and ``minise.gradcheck`` proves each
backward right against finite differences.
"""
__version__ = "0.1.0"

from . import allocator, backend
from .backend import use_backend
from .tensor import Tensor
from .function import Function, enable_grad, inference_mode, is_grad_enabled, no_grad, set_grad_enabled
from . import functional
from .tensor_methods import install as _install_tensor_methods
_install_tensor_methods(Tensor)         # Tensor's operators and op methods (+, @, .sum(), .relu(), ...)
from .tensor_inplace import install as _install_inplace_methods
_install_inplace_methods(Tensor)        # x -= lr * g, x.zero_(), x[mask] = 0: outside the graph
from .creation import (arange, empty, empty_like, eye, from_numpy, full, full_like, linspace, ones, ones_like, rand,
                       rand_like, randint, randn, randn_like, tensor, zeros, zeros_like)
from .devices import accelerator, backends, cuda, device
from .dtypes import bool, double, float, float16, float32, float64, half, int, int32, int64, long, uint8  # noqa: F401
# bool, float, int, max, min and sum are minise.<name> as in torch, and stay out of __all__ so that
# `from minise import *` does not hide Python's builtins.
from .functional import (argmax, argmin, cat, exp, flatten, log, log_softmax, matmul, max, mean, min,  # noqa: F401
                         pow, relu, sigmoid, softmax, stack, sum, tanh)
from .gradcheck import GradcheckError, GradcheckReport, GradcheckWarning, check_backward, gradcheck
from .rng import manual_seed
from . import rng, nn, io, models, optim, data, train
from .io import save, load
from .models import summary
from .pytorch_names import module_getattr as _module_getattr
__getattr__ = _module_getattr("minise")  # a PyTorch name minise lacks: the error says what to write instead

__all__ = ["Tensor", "Function", "no_grad", "is_grad_enabled", "gradcheck", "check_backward",
           "GradcheckError", "GradcheckReport", "GradcheckWarning", "functional", "backend", "use_backend",
           "manual_seed", "rng", "allocator", "nn", "io", "models", "optim", "data", "train", "save", "load", "summary",
           "__version__", "tensor", "zeros", "ones", "rand", "randn", "randint", "arange", "from_numpy", "cat",
           "stack", "argmax", "exp", "flatten", "log", "matmul", "mean", "relu", "sigmoid", "softmax", "tanh",
           "argmin", "log_softmax", "pow", "full", "empty", "eye", "linspace", "zeros_like", "ones_like",
           "full_like", "empty_like", "rand_like", "randn_like", "enable_grad", "set_grad_enabled",
           "inference_mode", "device", "cuda", "accelerator", "backends",
           "double", "float16", "float32", "float64", "half", "int32", "int64", "long", "uint8"]
# Also minise.sum, .max, .min, .bool, .float and .int, as in PyTorch; left out of __all__ so that
# `from minise import *` never hides Python's built-ins.
