"""Pooling layers: a fixed window (MaxPool2d, AvgPool2d) or a fixed output size (Adaptive…).

``AdaptiveAvgPool2d(1)`` is the squeeze of the SE block and the global pooling before a ResNet's
classifier: it turns (N, C, H, W) into (N, C, 1, 1) whatever H and W are.
"""
from ..functional.adaptive import adaptive_avg_pool2d, adaptive_max_pool2d
from ..functional.pooling import avg_pool2d, max_pool2d
from .module import Module


class _Pool2d(Module):
    def __init__(self, kernel_size, stride=None, padding=0):
        super().__init__()
        self.kernel_size = kernel_size
        self.stride = kernel_size if stride is None else stride
        self.padding = padding

    def extra_repr(self):
        return f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}"


class MaxPool2d(_Pool2d):
    """y[n,c,i,j] = max of x over the window at (i·stride − padding, j·stride − padding).
    Shapes (N, C, H, W) -> (N, C, ⌊(H + 2·padding − kernel) / stride⌋ + 1, …)."""

    def forward(self, x):
        return max_pool2d(x, self.kernel_size, self.stride, self.padding)


class AvgPool2d(_Pool2d):
    """y[n,c,i,j] = mean of x over the window (zero padding counted, as PyTorch's default)."""

    def forward(self, x):
        return avg_pool2d(x, self.kernel_size, self.stride, self.padding)


class _AdaptivePool2d(Module):
    def __init__(self, output_size):
        super().__init__()
        self.output_size = output_size

    def extra_repr(self):
        return f"output_size={self.output_size}"


class AdaptiveAvgPool2d(_AdaptivePool2d):
    """(N, C, H, W) -> (N, C, *output_size), averaging over windows that tile the input."""

    def forward(self, x):
        return adaptive_avg_pool2d(x, self.output_size)


class AdaptiveMaxPool2d(_AdaptivePool2d):
    """(N, C, H, W) -> (N, C, *output_size), the maximum over windows that tile the input."""

    def forward(self, x):
        return adaptive_max_pool2d(x, self.output_size)
