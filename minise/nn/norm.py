"""BatchNorm2d: normalise each channel over the batch, then scale and shift it.

Training mode (``model.train()``) uses the statistics of the batch and updates running averages;
evaluation mode (``model.eval()``) uses those running averages, so one image gives the same
output alone as inside a batch. The math and its backward live in :mod:`minise.functional.norm`.
"""
import numpy as np

from .. import backend
from ..arguments import positive_int
from ..functional.norm import batch_norm
from . import init
from .layers import new_parameter
from .module import InputShapeError, Module


class BatchNorm2d(Module):
    """``BatchNorm2d(num_features, eps=1e-5, momentum=0.1)`` (Ioffe & Szegedy, arXiv 1502.03167).

    Shapes   x (N, C, H, W) -> y (N, C, H, W); weight γ, bias β, running_mean, running_var: (C,)
    Forward  y = γ · (x − μ) / √(σ² + eps) + β, with μ, σ² per channel over (N, H, W) in training
             (then running = (1 − momentum)·running + momentum·batch statistic, σ² unbiased there)
             and μ = running_mean, σ² = running_var in evaluation
    Buffers  running_mean (zeros), running_var (ones), num_batches_tracked (int64 count): torchvision's names
    Init     γ = 1, β = 0
    """

    def __init__(self, num_features, eps=1e-5, momentum=0.1):
        super().__init__()
        self.num_features = positive_int(num_features, "num_features", "BatchNorm2d")
        self.eps, self.momentum = float(eps), float(momentum)
        self.weight = new_parameter(num_features)
        self.bias = new_parameter(num_features)
        xp = backend.default_module()
        self.register_buffer("running_mean", xp.zeros(num_features, dtype=np.float32))
        self.register_buffer("running_var", xp.ones(num_features, dtype=np.float32))
        self.register_buffer("num_batches_tracked", xp.zeros((), dtype=np.int64))
        self.reset_parameters()

    def reset_running_stats(self):
        self.running_mean[...] = 0
        self.running_var[...] = 1
        self.num_batches_tracked[...] = 0

    def reset_parameters(self):
        self.reset_running_stats()
        init.ones_(self.weight)
        init.zeros_(self.bias)

    def forward(self, x):
        if x.ndim != 4 or x.shape[1] != self.num_features:
            got = f"{x.shape[1]} channels" if x.ndim == 4 else f"{x.ndim} dimensions"
            raise InputShapeError(self, f"{self.one_line()} expects an input of shape (N, {self.num_features}, H, W), "
                                        f"got shape {x.shape} ({got})")
        if self.training:
            self.num_batches_tracked += 1
        return batch_norm(x, self.running_mean, self.running_var, self.weight, self.bias,
                          training=self.training, momentum=self.momentum, eps=self.eps)

    def extra_repr(self):
        return f"{self.num_features}, eps={self.eps:g}, momentum={self.momentum:g}"
