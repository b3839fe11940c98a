"""The fully connected layer: y = x wᵀ + b, the excitation's two small layers in an SE block.

The weight is laid out (out_features, in_features), as in PyTorch, so a row of w is one output
unit's weights. Leading axes of x are batch axes: (N, in), (N, T, in) or just (in,) all work.
"""
from __future__ import annotations

from ..arguments import check_float_dtypes, check_ndim
from ..function import Function
from ..tensor import Tensor


class LinearFunction(Function):
    """y = x wᵀ + b.

    Shapes   x (…, in) · w (out, in) + b (out,) -> y (…, out)
    Forward  y[…, o] = Σ_i x[…, i] · w[o, i] + b[o]
    Backward gx[…, i] = Σ_o gy[…, o] · w[o, i]           gx = gy w        (…, in)
             gw[o, i] = Σ_… gy[…, o] · x[…, i]           gw = gyᵀ x       (out, in), summed over
                                                                          every batch position
             gb[o]    = Σ_… gy[…, o]                                      (out,)
    Each weight is used once per batch position, so its gradient is a sum over all of them.
    """

    def forward(self, x, w, b):
        self.save_for_backward(x=x, w=w)
        y = x @ w.T                                              # (…, out)
        if b is not None:
            y = y + b
        return y

    def backward(self, gy):
        x, w = self.saved
        out_features, in_features = w.shape
        need_x, need_w, need_b = self.needs_input_grad
        gy_rows = gy.reshape(-1, out_features)                   # (positions, out)
        gx = gy @ w if need_x else None                          # (…, in)
        gw = gy_rows.T @ x.reshape(-1, in_features) if need_w else None   # (out, in)
        gb = gy_rows.sum(axis=0) if need_b else None             # (out,)
        return gx, gw, gb


def linear(input: Tensor, weight: Tensor, bias: Tensor | None = None) -> Tensor:
    """y = x wᵀ + b for x = ``input``, w = ``weight`` of shape (out_features, in_features) and
    b = ``bias``, like torch.nn.functional.linear."""
    x, w = (v if isinstance(v, Tensor) else Tensor(v) for v in (input, weight))
    b = bias if bias is None or isinstance(bias, Tensor) else Tensor(bias)
    check_linear_inputs(x, w, b)
    return LinearFunction()(x, w, b)


def check_linear_inputs(x, w, b):
    """Every way linear's inputs can be wrong, each named with the shapes involved."""
    check_ndim(w, "(out_features, in_features)", "w", "linear")
    if x.ndim == 0:
        raise ValueError(f"linear: x must have at least one axis (…, in_features), got a 0-d tensor; "
                         f"w has shape {w.shape}")
    if x.shape[-1] != w.shape[1]:
        raise ValueError(f"linear: x of shape {x.shape} has {x.shape[-1]} features on its last axis, but w of "
                         f"shape {w.shape} expects in_features = {w.shape[1]}")
    if b is not None and b.shape != (w.shape[0],):
        raise ValueError(f"linear: b must have shape ({w.shape[0]},) to match w of shape {w.shape}, "
                         f"got {b.shape}")
    check_float_dtypes("linear", x=x, w=w, b=b)
