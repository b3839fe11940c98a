"""Batch normalisation (Ioffe & Szegedy, arXiv 1502.03167), with PyTorch's semantics.

Each channel is normalised over every other axis: over N for (N, C), over N, H, W for
(N, C, H, W), over m = N·H·W values in all. In training mode the batch's own mean and variance
are used, and the running statistics move towards them (in place):

    running_mean ← (1 − momentum)·running_mean + momentum·μ
    running_var  ← (1 − momentum)·running_var  + momentum·σ²·m/(m − 1)    (unbiased estimate)

In eval mode the running statistics stand in for μ and σ², so the layer is a fixed affine map.
"""
from __future__ import annotations

import numbers
from typing import Any

from ..backend import get_array_module
from ..function import Function
from ..parallel import chunked, sum_chunks
from ..tensor import Tensor


class BatchNorm2dFunction(Function):
    """y = γ · x̂ + β,  x̂ = (x − μ) / σ,  σ = √(σ² + ε), per channel c.

    Shapes   x (N, C, *) with * any spatial axes, running stats, γ, β (C,) -> y like x
    Sums below run over the m = N·(spatial size) values of one channel.

    Training μ = (1/m) Σ x,  σ² = (1/m) Σ (x − μ)²   (the batch's own statistics)
    Backward with gx̂ = gy · γ, and the three paths from xⱼ to x̂ᵢ (direct, via μ, via σ):
             ∂μ/∂xⱼ = 1/m,   ∂σ/∂xⱼ = (xⱼ − μ)/(m σ) = x̂ⱼ/m,
             ∂x̂ᵢ/∂xⱼ = ([i = j] − 1/m)/σ − (xᵢ − μ)/σ² · x̂ⱼ/m = (1/σ)([i = j] − 1/m − x̂ᵢ x̂ⱼ/m)
             gxⱼ = Σᵢ gx̂ᵢ ∂x̂ᵢ/∂xⱼ = (1/m) · (1/σ) · (m·gx̂ⱼ − Σᵢ gx̂ᵢ − x̂ⱼ · Σᵢ gx̂ᵢ x̂ᵢ)
    The last term (the path through σ) vanishes for an all-ones gy, since Σ x̂ = 0: a backward
    that forgets it passes a check with a constant upstream gradient, not one with a random gy.

    Eval     μ, σ² are the running statistics (constants), so
    Backward gx = gy · γ / σ

    Both     gγ = Σ gy · x̂,   gβ = Σ gy  (over all axes but C); no gradient for running stats.
    """

    def __init__(self, training, momentum, eps):
        self.training, self.momentum, self.eps = training, momentum, eps

    def forward(self, x, running_mean, running_var, weight, bias):
        xp, per_channel = get_array_module(x), _per_channel(x)
        m = x.size // x.shape[1]
        if self.training:
            mean = sum_chunks(channel_sum, x, blas=True) / m    # (C,)  μ, from per-chunk sums
            x_hat = xp.empty_like(x)                            # x − μ below, x̂ after
            var = sum_chunks(lambda x, x_hat: centre(x, mean, x_hat), x, x_hat, blas=True) / m   # (C,) biased
            if running_mean is not None:
                running_mean[...] = (1 - self.momentum) * running_mean + self.momentum * mean
            if running_var is not None:
                running_var[...] = (1 - self.momentum) * running_var + self.momentum * var * (m / (m - 1))
        else:
            mean, var = running_mean.astype(x.dtype), running_var.astype(x.dtype)
            x_hat = chunked(lambda x, out=None: xp.subtract(x, mean.reshape(per_channel), out=out), x)  # x − μ
        inv_std = 1 / xp.sqrt(var + self.eps)                   # (C,)  1/σ
        y = chunked(lambda x_hat, out=None: normalise(x_hat, inv_std, weight, bias, out), x_hat)   # like x
        self.save_for_backward(x_hat=x_hat, inv_std=inv_std, weight=weight)
        return y

    def backward(self, gy):
        x_hat, inv_std, weight = self.saved
        need_x, _, _, need_w, need_b = self.needs_input_grad
        m = x_hat.size // x_hat.shape[1]
        xp, per_channel = get_array_module(gy), _per_channel(gy)
        scale = inv_std if weight is None else weight * inv_std             # (C,)  γ/σ
        sums = self.training and need_x or need_w or need_b                 # (C,) gβ = Σ gy, gγ = Σ gy·x̂
        sum_gy, sum_gy_xhat = sum_chunks(gradient_sums, gy, x_hat, blas=True) if sums else (None, None)
        if not need_x:
            gx = None
        elif self.training:
            gx = chunked(lambda gy, x_hat, out=None: input_gradient(gy, x_hat, scale, sum_gy / m, sum_gy_xhat / m, out),
                         gy, x_hat)
        else:                                                               # gx = gy · γ/σ
            gx = chunked(lambda gy, out=None: xp.multiply(gy, scale.reshape(per_channel), out=out), gy)
        return gx, None, None, sum_gy_xhat if need_w else None, sum_gy if need_b else None


def centre(x, mean, out):
    """out = x − μ (for a chunk of images); returns Σ (x − μ)² per channel, (C,)."""
    get_array_module(x).subtract(x, mean.reshape(_per_channel(x)), out=out)
    return channel_sum_of_products(out, out)


def normalise(x_hat, inv_std, weight, bias, out=None):
    """x̂ = (x − μ)/σ, in place in the buffer holding x − μ; returns y = γ·x̂ + β, written into its
    own buffer (``out``, when given): two new arrays per call (x̂, kept for backward, and y), no
    temporaries, and x's dtype throughout (float32 stays float32)."""
    xp, per_channel = get_array_module(x_hat), _per_channel(x_hat)
    x_hat *= inv_std.reshape(per_channel)
    y = xp.empty_like(x_hat) if out is None else out
    if weight is not None:
        xp.multiply(x_hat, weight.reshape(per_channel), out=y)
    else:
        y[...] = x_hat
    if bias is not None:
        y += bias.reshape(per_channel)
    return y


def gradient_sums(gy, x_hat):
    """(Σ gy, Σ gy·x̂) per channel, for a chunk of images: gβ and gγ."""
    return channel_sum(gy), channel_sum_of_products(gy, x_hat)


def input_gradient(gy, x_hat, scale, mean_gy, mean_gy_xhat, out=None):
    """gx = (γ/σ) · (gy − gβ/m − x̂ · gγ/m), the three-term formula of the class docstring with
    Σ gx̂ = γ·gβ and Σ gx̂·x̂ = γ·gγ, computed in one buffer g (``out``, when given; no other
    temporaries)."""
    xp, per_channel = get_array_module(gy), _per_channel(gy)
    g = xp.empty_like(x_hat) if out is None else out
    xp.multiply(x_hat, mean_gy_xhat.reshape(per_channel), out=g)           # x̂ · gγ/m
    g += mean_gy.reshape(per_channel)                                       # + gβ/m
    xp.subtract(gy, g, out=g)                                               # gy − gβ/m − x̂·gγ/m
    g *= scale.reshape(per_channel)
    return g


def _per_channel(x):
    """(1, C, 1, 1) for x (N, C, H, W): the shape in which a per-channel (C,) array broadcasts over x."""
    return (1, x.shape[1]) + (1,) * (x.ndim - 2)


def channel_sum(a):
    """Σ over every axis but the channels (axis 1): ``a.sum(axis=(0, 2, 3))`` for (N, C, H, W),
    as a matrix-vector product with a vector of ones (BLAS: several accumulators, fast)."""
    rows = a.reshape(a.shape[0], a.shape[1], -1)                     # (N, C, L)
    ones = get_array_module(a).ones(rows.shape[2], dtype=a.dtype)
    return (rows @ ones).sum(axis=0)                                  # (N, C) -> (C,)


def channel_sum_of_products(a, b):
    """Σ over every axis but the channels of a·b, as N·C dot products: no a·b temporary."""
    N, C = a.shape[:2]
    rows, columns = a.reshape(N, C, 1, -1), b.reshape(N, C, -1, 1)    # (N, C, 1, L), (N, C, L, 1)
    return (rows @ columns).reshape(N, C).sum(axis=0)                 # (C,)


def batch_norm_backward_reference(gy, x_hat, inv_std, weight, training):
    """gx by the three-term formula of the BatchNorm2dFunction docstring, term by term, as derived; slower
    than BatchNorm2dFunction.backward (which uses Σ gx̂ = γ·gβ, Σ gx̂·x̂ = γ·gγ and one buffer), and kept as
    the readable definition that the tests hold the fast form to."""
    axes = (0,) + tuple(range(2, x_hat.ndim))                          # every axis but the channels
    per_channel = _per_channel(x_hat)
    g_xhat = gy if weight is None else gy * weight.reshape(per_channel)
    if not training:
        return g_xhat * inv_std.reshape(per_channel)
    m = x_hat.size // x_hat.shape[1]
    sum_g = g_xhat.sum(axis=axes, keepdims=True)                       # Σ gx̂      (1, C, 1, 1)
    sum_g_xhat = (g_xhat * x_hat).sum(axis=axes, keepdims=True)        # Σ gx̂·x̂   (1, C, 1, 1)
    return inv_std.reshape(per_channel) / m * (m * g_xhat - sum_g - x_hat * sum_g_xhat)


def _optional_tensor(v, name):
    if v is None or isinstance(v, Tensor):
        return v
    if not hasattr(v, "shape"):
        raise TypeError(f"batch_norm: {name} must be an array or a Tensor (updated in place), "
                        f"got {type(v).__name__}")
    return Tensor(v)


def batch_norm(input: Tensor, running_mean: Any, running_var: Any, weight: Tensor | None = None,
               bias: Tensor | None = None, training: bool = False, momentum: float = 0.1,
               eps: float = 1e-5) -> Tensor:
    """Normalise each channel of x = ``input``, (N, C) or (N, C, H, W), like torch.nn.functional.batch_norm.

    training=True uses the batch's statistics and updates running_mean / running_var in place
    (arrays or Tensors of shape (C,), or None to skip); training=False uses them instead.
    """
    x = input if isinstance(input, Tensor) else Tensor(input)
    named = {"running_mean": running_mean, "running_var": running_var, "weight": weight, "bias": bias}
    named = {k: _optional_tensor(v, k) for k, v in named.items()}
    check_batch_norm_inputs(x, named, training, momentum)
    return BatchNorm2dFunction(bool(training), float(momentum), eps)(x, *named.values())


def check_batch_norm_inputs(x, named, training, momentum):
    """Every way batch_norm's inputs can be wrong, each named with the shapes involved."""
    if x.ndim < 2:
        raise ValueError(f"batch_norm: x must be (N, C) or (N, C, H, W), got shape {x.shape}")
    if x.dtype.kind != "f":
        raise TypeError(f"batch_norm needs a floating-point x, got dtype {x.dtype}")
    channels = x.shape[1]
    for name, v in named.items():
        if v is not None and v.shape != (channels,):
            raise ValueError(f"batch_norm: {name} has shape {v.shape} but x of shape {x.shape} has {channels} "
                             f"channels; expected shape ({channels},)")
    if not training and (named["running_mean"] is None or named["running_var"] is None):
        raise ValueError("batch_norm: eval mode (training=False) needs running_mean and running_var")
    if training and x.size // max(channels, 1) < 2:
        raise ValueError(f"batch_norm: training needs more than one value per channel, got x of shape {x.shape}")
    for name in ("running_mean", "running_var"):
        v = named[name]
        if v is not None and v.dtype.kind != "f":
            raise TypeError(f"batch_norm: {name} must be floating point (it is updated in place), got dtype "
                            f"{v.dtype}; e.g. np.zeros({channels}, dtype=np.float32)")
    if isinstance(momentum, bool) or not isinstance(momentum, numbers.Real) or not 0 <= momentum <= 1:
        raise ValueError(f"batch_norm: momentum must be a number in [0, 1], got {momentum!r} (minise has no "
                         "cumulative average, PyTorch's momentum=None)")


BatchNorm = BatchNorm2dFunction          # the earlier name of the op class
