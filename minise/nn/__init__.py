"""Layers and models as objects that own their parameters (PyTorch's ``torch.nn``, in small)."""
from . import functional, init
from .activation import ReLU, Sigmoid, Tanh
from .container import ModuleList, Sequential
from .dropout import Dropout
from .layers import Conv2d, Flatten, Identity, Linear
from .loss import CrossEntropyLoss, NLLLoss
from .module import IncompatibleKeys, InputShapeError, Module, Parameter
from .norm import BatchNorm2d
from .pooling import AdaptiveAvgPool2d, AdaptiveMaxPool2d, AvgPool2d, MaxPool2d
from .se import SEBlock, SEWrapper
from .state import StateDictError

__all__ = ["Module", "Parameter", "Sequential", "ModuleList", "Conv2d", "Linear", "BatchNorm2d", "ReLU",
           "Sigmoid", "Tanh", "MaxPool2d", "AvgPool2d", "AdaptiveAvgPool2d", "AdaptiveMaxPool2d", "Flatten",
           "Identity", "Dropout", "CrossEntropyLoss", "NLLLoss", "functional", "SEBlock", "SEWrapper",
           "StateDictError", "InputShapeError", "IncompatibleKeys", "init"]
