"""Activation layers: ReLU, Sigmoid, Tanh (each calls its op in :mod:`minise.functional.activation`)."""
from ..functional.activation import relu, sigmoid, tanh
from .module import Module


class ReLU(Module):
    """y = max(x, 0). ``inplace`` is accepted for PyTorch code and ignored (autograd keeps x)."""

    def __init__(self, inplace=False):
        super().__init__()
        self.inplace = bool(inplace)

    def forward(self, x):
        return relu(x)

    def extra_repr(self):
        return "inplace=True" if self.inplace else ""


class Sigmoid(Module):
    """y = σ(x) = 1 / (1 + e^(−x)), in (0, 1): the gate of the SE block."""

    def forward(self, x):
        return sigmoid(x)


class Tanh(Module):
    """y = tanh(x), in (−1, 1)."""

    def forward(self, x):
        return tanh(x)
