"""BatchNorm2d and BatchNorm1d: normalise each channel over the batch, then scale and shift it.

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
    """``BatchNorm2d(num_features, eps=1e-5, momentum=0.1, affine=True, track_running_stats=True)``
    (Ioffe & Szegedy, arXiv 1502.03167).

    Shapes   x (N, C, H, W) -> y (N, C, H, W); weight γ, bias β, running_mean, running_var: (C,)
    Forward  y = γ · (x − μ) / √(σ² + eps) + β, with μ, σ² per channel over (N, H, W) in training
             (then running = (1 − momentum)·running + momentum·batch statistic, σ² unbiased there)
             and μ = running_mean, σ² = running_var in evaluation
    Buffers  running_mean (zeros), running_var (ones), num_batches_tracked (int64 count): torchvision's names
    Init     γ = 1, β = 0
    As in PyTorch, ``affine=False`` leaves out γ and β, and ``track_running_stats=False`` keeps no
    running statistics: the batch's own are used in evaluation too.
    """

    def __init__(self, num_features, eps=1e-5, momentum=0.1, affine=True, track_running_stats=True):
        super().__init__()
        name = type(self).__name__
        self.num_features = positive_int(num_features, "num_features", name)
        self.eps, self.momentum = float(eps), float(momentum)
        self.affine, self.track_running_stats = bool(affine), bool(track_running_stats)
        self.register_parameter("weight", new_parameter(num_features) if affine else None)
        self.register_parameter("bias", new_parameter(num_features) if affine else None)
        xp = backend.default_module()
        if track_running_stats:
            self.register_buffer("running_mean", xp.zeros(num_features, dtype=np.float32))
            self.register_buffer("running_var", xp.ones(num_features, dtype=np.float32))
            self.register_buffer("num_batches_tracked", xp.zeros((), dtype=np.int64))
        else:
            for buffer in ("running_mean", "running_var", "num_batches_tracked"):
                self.register_buffer(buffer, None)
        self.reset_parameters()

    def reset_running_stats(self):
        if self.track_running_stats:
            self.running_mean[...] = 0
            self.running_var[...] = 1
            self.num_batches_tracked[...] = 0

    def reset_parameters(self):
        self.reset_running_stats()
        if self.affine:
            init.ones_(self.weight)
            init.zeros_(self.bias)

    def check_input(self, x):
        if x.ndim != 4 or x.shape[1] != self.num_features:
            got = f"{x.shape[1]} channels" if x.ndim == 4 else f"{x.ndim} dimensions"
            raise InputShapeError(self, f"{self.one_line()} expects an input of shape (N, {self.num_features}, H, W), "
                                        f"got shape {x.shape} ({got})")

    def forward(self, x):
        self.check_input(x)
        if self.training and self.track_running_stats:
            self.num_batches_tracked += 1
        return batch_norm(x, self.running_mean, self.running_var, self.weight, self.bias,
                          training=self.training or not self.track_running_stats, momentum=self.momentum,
                          eps=self.eps)

    def extra_repr(self):
        text = f"{self.num_features}, eps={self.eps:g}, momentum={self.momentum:g}"
        if not self.affine:
            text += ", affine=False"
        if not self.track_running_stats:
            text += ", track_running_stats=False"
        return text


class BatchNorm1d(BatchNorm2d):
    """``BatchNorm1d(num_features, ...)``: the same normalisation for features x (N, C) or sequences
    x (N, C, L), each channel over the batch (and the length); the same arguments as BatchNorm2d."""

    def check_input(self, x):
        if x.ndim not in (2, 3) or x.shape[1] != self.num_features:
            got = f"{x.shape[1]} channels" if x.ndim in (2, 3) else f"{x.ndim} dimensions"
            raise InputShapeError(self, f"{self.one_line()} expects an input of shape (N, {self.num_features}) or "
                                        f"(N, {self.num_features}, L), got shape {x.shape} ({got})")
