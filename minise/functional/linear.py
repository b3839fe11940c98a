"""The fully connected layer: y = x wᵀ + b, the excitation's two small layers in an SE block.

The weight is laid out (out_features, in_features), as in PyTorch, so a row of w is one output
unit's weights. Leading axes of x are batch axes: (N, in), (N, T, in) or just (in,) all work.
"""
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
        self.saved = (x, w)
        y = x @ w.T                                              # (…, out)
        if b is not None:
            y = y + b
        return y

    def backward(self, gy):
        x, w = self.saved
        out_features, in_features = w.shape
        gx = gw = gb = None
        if self.needs_input_grad[0]:
            gx = gy @ w                                          # (…, in)
        gy_rows = gy.reshape(-1, out_features)                   # (positions, out)
        if self.needs_input_grad[1]:
            gw = gy_rows.T @ x.reshape(-1, in_features)          # (out, in)
        if self.needs_input_grad[2]:
            gb = gy_rows.sum(axis=0)                             # (out,)
        return gx, gw, gb


def linear(x, w, b=None):
    """y = x wᵀ + b with w of shape (out_features, in_features), like torch.nn.functional.linear."""
    x, w = (v if isinstance(v, Tensor) else Tensor(v) for v in (x, w))
    if b is not None and not isinstance(b, Tensor):
        b = Tensor(b)
    if w.ndim != 2:
        raise ValueError(f"linear: w must be 2-D (out_features, in_features), got shape {w.shape}")
    if x.ndim == 0:
        raise ValueError(f"linear: x must have at least one axis (…, in_features), got a 0-d tensor; "
                         f"w has shape {w.shape}")
    if x.shape[-1] != w.shape[1]:
        raise ValueError(f"linear: x of shape {x.shape} has {x.shape[-1]} features on its last axis, but w of "
                         f"shape {w.shape} expects in_features = {w.shape[1]}")
    if b is not None and b.shape != (w.shape[0],):
        raise ValueError(f"linear: b must have shape ({w.shape[0]},) to match w of shape {w.shape}, "
                         f"got {b.shape}")
    if x.dtype.kind != "f" or x.dtype != w.dtype or (b is not None and b.dtype != x.dtype):
        got = f"x {x.dtype} {x.shape}, w {w.dtype} {w.shape}" + ("" if b is None else f", b {b.dtype} {b.shape}")
        raise TypeError(f"linear: x, w and b must share one floating dtype, got {got}; convert one, "
                        "e.g. x.astype(w.dtype)")
    return LinearFunction()(x, w, b)
