"""Pooling layers: a fixed window (MaxPool2d, AvgPool2d) or a fixed output size (Adaptive…).

``AdaptiveAvgPool2d(1)`` is the squeeze of the SE block and the global pooling before a ResNet's
classifier: it turns (N, C, H, W) into (N, C, 1, 1) whatever H and W are.
"""
from ..functional.adaptive import adaptive_avg_pool2d, adaptive_max_pool2d
from ..functional.pooling import avg_pool2d, max_pool2d, refuse_unsupported_pooling
from .module import Module


class _Pool2d(Module):
    def __init__(self, kernel_size, stride=None, padding=0, ceil_mode=False):
        super().__init__()
        self.kernel_size = kernel_size
        self.stride = kernel_size if stride is None else stride
        self.padding = padding
        self.ceil_mode = bool(ceil_mode)

    def extra_repr(self):
        return (f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}"
                + (", ceil_mode=True" if self.ceil_mode else ""))


class MaxPool2d(_Pool2d):
    """y[n,c,i,j] = max of x over the window at (i·stride − padding, j·stride − padding).
    Shapes (N, C, H, W) -> (N, C, ⌊(H + 2·padding − kernel) / stride⌋ + 1, …) (⌈…⌉ with ``ceil_mode``).
    The arguments are PyTorch's, in its order; ``dilation`` other than 1 and ``return_indices`` are
    refused by name (minise's max pooling has neither)."""

    def __init__(self, kernel_size, stride=None, padding=0, dilation=1, return_indices=False, ceil_mode=False):
        refuse_unsupported_pooling("MaxPool2d", dilation=dilation, return_indices=return_indices)
        super().__init__(kernel_size, stride, padding, ceil_mode)

    def forward(self, x):
        return max_pool2d(x, self.kernel_size, self.stride, self.padding, ceil_mode=self.ceil_mode)


class AvgPool2d(_Pool2d):
    """y[n,c,i,j] = mean of x over the window; zero padding counted unless ``count_include_pad`` is
    False (PyTorch's arguments, in its order; ``divisor_override`` is refused by name)."""

    def __init__(self, kernel_size, stride=None, padding=0, ceil_mode=False, count_include_pad=True,
                 divisor_override=None):
        refuse_unsupported_pooling("AvgPool2d", divisor_override=divisor_override)
        super().__init__(kernel_size, stride, padding, ceil_mode)
        self.count_include_pad = bool(count_include_pad)

    def extra_repr(self):
        return super().extra_repr() + ("" if self.count_include_pad else ", count_include_pad=False")

    def forward(self, x):
        return avg_pool2d(x, self.kernel_size, self.stride, self.padding, self.ceil_mode, self.count_include_pad)


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
