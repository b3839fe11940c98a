"""Zero channels appended: the parameter-free shortcut "A" of the CIFAR ResNets (He et al. 2016,
Sec. 4.2), where a stage that doubles the channels pads its input with zeros instead of learning
a 1×1 projection.
"""
from ..arguments import check_ndim, is_int
from ..backend import get_array_module
from ..function import Function
from ..tensor import Tensor


class PadChannelsFunction(Function):
    """y = x with ``extra`` channels of zeros appended.

    Shapes   x (N, C, H, W) -> y (N, C + extra, H, W)
    Forward  y[:, :C] = x,  y[:, C:] = 0
    Backward gx = gy[:, :C]          (the zero channels depend on nothing)
    """

    def __init__(self, extra):
        self.extra = extra

    def forward(self, x):
        xp, (N, C, H, W) = get_array_module(x), x.shape
        y = xp.zeros((N, C + self.extra, H, W), dtype=x.dtype)                 # (N, C + extra, H, W)
        y[:, :C] = x
        self.save_for_backward(channels=C)
        return y

    def backward(self, gy):
        return (gy[:, :self.saved.channels],)                                   # (N, C, H, W)


def pad_channels(x, extra):
    """x (N, C, H, W) with ``extra`` ≥ 0 zero channels appended -> (N, C + extra, H, W)."""
    x = x if isinstance(x, Tensor) else Tensor(x)
    check_ndim(x, "(N, C, H, W)", "x", "pad_channels")
    if not is_int(extra) or extra < 0:
        raise ValueError(f"pad_channels: extra must be an int ≥ 0 (channels to append), got {extra!r}")
    return PadChannelsFunction(int(extra))(x)
