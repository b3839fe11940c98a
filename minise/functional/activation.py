"""Activations: ReLU, sigmoid, tanh, softmax and log-softmax.

Each backward is written with the forward's output y where that is simplest (σ' = y(1 − y),
tanh' = 1 − y²). All of them stay finite for any finite input, however large:

* sigmoid never evaluates e^(+|x|): with e = e^(−|x|) ≤ 1 it is 1/(1 + e) for x ≥ 0 and
  e/(1 + e) for x < 0 (the same function, rearranged);
* softmax and log-softmax subtract the row maximum first, which leaves the result unchanged
  (the factor e^(−max) cancels) and makes every exponent ≤ 0.
Very negative exponents round to 0, which is the right answer in floating point.
"""
from __future__ import annotations

from ..arguments import dim_or_axis, is_int
from ..backend import get_array_module
from ..function import Function
from ..parallel import chunked
from ..tensor import Tensor


class ReLUFunction(Function):
    """y = max(x, 0).

    Shapes   x (…) -> y (…)
    Backward gx = gy · [x > 0]
    Kink     at x = 0 ReLU has no derivative; we use 0 there, as PyTorch does (the subgradient
             at 0 can be anything in [0, 1]). Gradient checks keep inputs away from 0.
    Both passes run on chunks of the leading axis in parallel (minise.parallel).
    """

    def forward(self, x):
        y = chunked(relu_reference, x)
        self.save_for_backward(y=y)     # y > 0 exactly where x > 0; y is kept anyway (it is the output),
        return y                        # so saving it costs nothing, where a mask x > 0 would be a new array

    def backward(self, gy):
        return (chunked(relu_backward_reference, gy, self.saved.y),)


def relu_reference(x, out=None):
    return get_array_module(x).maximum(x, 0, out=out)


def relu_backward_reference(gy, y, out=None):
    return get_array_module(gy).multiply(gy, y > 0, out=out)                # gy · [y > 0]


class SigmoidFunction(Function):
    """y = σ(x) = 1 / (1 + e^(−x)).

    Shapes   x (…) -> y (…)
    Forward  with e = e^(−|x|):  y = 1/(1 + e) where x ≥ 0,  y = e/(1 + e) where x < 0
    Backward σ'(x) = e^(−x)/(1 + e^(−x))² = σ(x)(1 − σ(x)),  so  gx = gy · y · (1 − y)
    """

    def forward(self, x):
        y = chunked(sigmoid_reference, x)
        self.save_for_backward(y=y)
        return y

    def backward(self, gy):
        return (chunked(sigmoid_backward_reference, gy, self.saved.y),)


def sigmoid_reference(x, out=None):
    xp = get_array_module(x)
    e = xp.exp(-xp.abs(x))                                   # in (0, 1]: never overflows
    return xp.divide(xp.where(x >= 0, 1, e), 1 + e, out=out)    # 1/(1 + e) where x ≥ 0, e/(1 + e) elsewhere


def sigmoid_backward_reference(gy, y, out=None):
    return get_array_module(gy).multiply(gy * y, 1 - y, out=out)          # gy · y · (1 − y)


class TanhFunction(Function):
    """y = tanh(x) = (eˣ − e^(−x)) / (eˣ + e^(−x)).

    Shapes   x (…) -> y (…)
    Backward tanh'(x) = 1 − tanh²(x),  so  gx = gy · (1 − y²)
    """

    def forward(self, x):
        y = get_array_module(x).tanh(x)
        self.save_for_backward(y=y)
        return y

    def backward(self, gy):
        y = self.saved.y
        return (gy * (1 - y * y),)


class SoftmaxFunction(Function):
    """y = softmax(x) along ``dim``: yᵢ = e^(xᵢ − m) / Σⱼ e^(xⱼ − m),  m = maxⱼ xⱼ.

    Shapes   x (…) -> y (…), each slice along ``dim`` sums to 1
    Backward ∂yᵢ/∂xⱼ = yᵢ([i = j] − yⱼ), so
             gxⱼ = Σᵢ gyᵢ yᵢ([i = j] − yⱼ) = yⱼ · (gyⱼ − Σᵢ gyᵢ yᵢ)
    Both factors matter. Forget the leading yⱼ (gxⱼ = gyⱼ − Σᵢ gyᵢ yᵢ) and an all-ones gy still
    gets the right answer, 0 (Σᵢ yᵢ = 1), which is why gradient checks use a random gy.
    """

    def __init__(self, dim):
        self.dim = dim

    def forward(self, x):
        xp = get_array_module(x)
        e = xp.exp(x - x.max(axis=self.dim, keepdims=True))      # (…), exponents ≤ 0
        y = e / e.sum(axis=self.dim, keepdims=True)
        self.save_for_backward(y=y)
        return y

    def backward(self, gy):
        y = self.saved.y
        return (y * (gy - (gy * y).sum(axis=self.dim, keepdims=True)),)


class LogSoftmaxFunction(Function):
    """y = log softmax(x) along ``dim``: yᵢ = (xᵢ − m) − log Σⱼ e^(xⱼ − m),  m = maxⱼ xⱼ.

    Shapes   x (…) -> y (…)
    Backward ∂yᵢ/∂xⱼ = [i = j] − pⱼ with p = softmax(x) = eʸ, so
             gxⱼ = gyⱼ − pⱼ · Σᵢ gyᵢ
    """

    def __init__(self, dim):
        self.dim = dim

    def forward(self, x):
        xp = get_array_module(x)
        shifted = x - x.max(axis=self.dim, keepdims=True)        # (…), all ≤ 0, one 0 per slice
        y = shifted - xp.log(xp.exp(shifted).sum(axis=self.dim, keepdims=True))
        self.save_for_backward(y=y)
        return y

    def backward(self, gy):
        xp = get_array_module(gy)
        p = xp.exp(self.saved.y)
        return (gy - p * gy.sum(axis=self.dim, keepdims=True),)


def _tensor(x, name):
    x = x if isinstance(x, Tensor) else Tensor(x)
    if x.dtype.kind != "f":
        raise TypeError(f"{name} needs a floating-point tensor, got dtype {x.dtype}")
    return x


def _check_dim(x, dim, name):
    """The axis to normalise over, as a non-negative int, or a clear error."""
    if dim is None:
        raise TypeError(f"{name}: give the axis to normalise over, e.g. {name}(x, dim=1)")
    if not is_int(dim):
        raise TypeError(f"{name}: dim must be an int (an axis of x, shape {x.shape}), got {dim!r}")
    if not -x.ndim <= dim < max(x.ndim, 1) or x.ndim == 0:
        raise ValueError(f"{name}: dim {dim} is out of range for x of shape {x.shape}")
    return int(dim) % x.ndim


def relu(input: Tensor, inplace: bool = False) -> Tensor:
    """max(x, 0), element-wise, for x = ``input``; gradient 0 at x = 0 (as PyTorch). ``inplace`` is
    accepted for PyTorch code and changes nothing: minise's ops never overwrite their input
    (backward needs it), so use the returned tensor."""
    return ReLUFunction()(_tensor(input, "relu"))


def sigmoid(input: Tensor) -> Tensor:
    """1 / (1 + e^(−x)), element-wise, for x = ``input``; computed without overflow for any x."""
    return SigmoidFunction()(_tensor(input, "sigmoid"))


def tanh(input: Tensor) -> Tensor:
    """tanh(x), element-wise, for x = ``input``."""
    return TanhFunction()(_tensor(input, "tanh"))


def softmax(input: Tensor, dim: int | None = None, *, axis: int | None = None) -> Tensor:
    """e^(x) normalised to sum to 1 along ``dim``, for x = ``input`` (max-subtracted: stable for
    large |x|). ``axis`` is accepted for ``dim`` (NumPy's name)."""
    x = _tensor(input, "softmax")
    return SoftmaxFunction(_check_dim(x, dim_or_axis(dim, axis, "softmax"), "softmax"))(x)


def log_softmax(input: Tensor, dim: int | None = None, *, axis: int | None = None) -> Tensor:
    """log(softmax(x, dim)) for x = ``input``, computed without forming softmax (stable for large
    |x|). ``axis`` is accepted for ``dim`` (NumPy's name)."""
    x = _tensor(input, "log_softmax")
    return LogSoftmaxFunction(_check_dim(x, dim_or_axis(dim, axis, "log_softmax"), "log_softmax"))(x)


Softmax, LogSoftmax = SoftmaxFunction, LogSoftmaxFunction    # the earlier names of these op classes
