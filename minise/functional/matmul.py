"""Matrix products: y = a @ b, with NumPy's rules for vectors and batches.

The gradient of a product is a product: ga = gy @ bᵀ and gb = aᵀ @ gy, with a vector operand
treated as a one-row (or one-column) matrix and broadcast batch dimensions summed back
(:func:`~minise.functional.arithmetic.sum_to`). Derived in tutorials/01_autograd.py.
"""
import numpy as np

from ..backend import get_array_module
from ..function import Function
from ..tensor import Tensor
from .arithmetic import sum_to


class MatMulFunction(Function):
    """y = a @ b, with NumPy's rules (1-D operands are promoted; leading axes broadcast).

    Shapes   a (…, n, k) @ b (…, k, m) -> y (…, n, m)
    Backward ga = gy @ bᵀ   (…, n, k)
             gb = aᵀ @ gy   (…, k, m)     each summed back over broadcast batch axes
    """

    def forward(self, a, b):
        self.save_for_backward(a=a, b=b)
        return a @ b

    def backward(self, gy):
        a, b = self.saved
        xp = get_array_module(a, b)
        a2 = a[None, :] if a.ndim == 1 else a                 # (1, k) for a vector
        b2 = b[:, None] if b.ndim == 1 else b                 # (k, 1) for a vector
        if a.ndim == 1 and b.ndim == 1:
            gy = gy.reshape(1, 1)                             # a dot product
        elif a.ndim == 1:
            gy = xp.expand_dims(gy, -2)
        elif b.ndim == 1:
            gy = xp.expand_dims(gy, -1)                       # gy now (…, n, m)
        ga = gb = None
        if self.needs_input_grad[0]:
            ga = sum_to(gy @ xp.swapaxes(b2, -1, -2), a2.shape).reshape(a.shape)
        if self.needs_input_grad[1]:
            gb = sum_to(xp.swapaxes(a2, -1, -2) @ gy, b2.shape).reshape(b.shape)
        return ga, gb


def matmul(a, b):
    """a @ b with NumPy's rules: 1-D operands are promoted, leading (batch) dimensions broadcast."""
    a, b = (v if isinstance(v, Tensor) else Tensor(v) for v in (a, b))
    _check(a, b)
    return MatMulFunction()(a, b)


def _check(a, b):
    if a.ndim == 0 or b.ndim == 0:
        raise ValueError(f"matmul needs at least 1-D operands, got shapes {a.shape} and {b.shape}")
    k_a, k_b = a.shape[-1], b.shape[0] if b.ndim == 1 else b.shape[-2]
    if k_a != k_b:
        raise ValueError(f"matmul: shapes {a.shape} and {b.shape} do not fit: the last axis of the first "
                         f"({k_a}) must equal the {'only' if b.ndim == 1 else 'second-to-last'} axis of the "
                         f"second ({k_b})")
    try:
        np.broadcast_shapes(a.shape[:-2], b.shape[:-2])
    except ValueError:
        raise ValueError(f"matmul: batch axes {a.shape[:-2]} and {b.shape[:-2]} do not broadcast") from None


MatMul = MatMulFunction          # its name before the ``…Function`` convention
