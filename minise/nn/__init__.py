"""Layers and models as objects that own their parameters (PyTorch's ``torch.nn``, in small)."""
from ..pytorch_names import module_getattr as _module_getattr
from . import functional, init, utils
from .activation import LogSoftmax, ReLU, Sigmoid, Softmax, Tanh
from .container import ModuleDict, ModuleList, Sequential
from .dropout import Dropout
from .layers import Conv2d, Flatten, Identity, Linear
from .loss import CrossEntropyLoss, NLLLoss
from .module import IncompatibleKeys, InputShapeError, Module, Parameter
from .norm import BatchNorm1d, BatchNorm2d
from .pooling import AdaptiveAvgPool2d, AdaptiveMaxPool2d, AvgPool2d, MaxPool2d
from .se import SEBlock, SEWrapper
from .state import StateDictError

__all__ = ["Module", "Parameter", "Sequential", "ModuleList", "ModuleDict", "Conv2d", "Linear", "BatchNorm1d",
           "BatchNorm2d", "ReLU", "Sigmoid", "Tanh", "Softmax", "LogSoftmax", "MaxPool2d", "AvgPool2d",
           "AdaptiveAvgPool2d", "AdaptiveMaxPool2d", "Flatten", "Identity", "Dropout", "CrossEntropyLoss", "NLLLoss",
           "functional", "SEBlock", "SEWrapper", "StateDictError", "InputShapeError", "IncompatibleKeys", "init",
           "utils"]
__getattr__ = _module_getattr("minise.nn")    # a PyTorch layer minise lacks: the error says what to use instead
