"""Activation layers: ReLU, Sigmoid, Tanh, Softmax, LogSoftmax (each calls its op in
:mod:`minise.functional.activation`)."""
from ..functional.activation import log_softmax, relu, sigmoid, softmax, tanh
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


class Softmax(Module):
    """y = softmax(x) along ``dim``: each slice along it is positive and sums to 1."""

    def __init__(self, dim=None):
        super().__init__()
        self.dim = dim

    def forward(self, x):
        return softmax(x, self.dim)

    def extra_repr(self):
        return f"dim={self.dim}"


class LogSoftmax(Softmax):
    """y = log(softmax(x)) along ``dim``, computed without the overflow of taking the log of a softmax."""

    def forward(self, x):
        return log_softmax(x, self.dim)
