"""Element-wise arithmetic with NumPy broadcasting: + − × ÷ power, exp, log, cast.

Broadcasting copies an input along new or size-1 axes, so its gradient must be summed back along
those axes (:func:`sum_to`): an input of shape (1, 4) added to one of shape (3, 4) receives the
sum of three rows of gradient. Derived in tutorials/01_autograd.py.
"""
import numpy as np

from ..backend import get_array_module
from ..function import Function
from ..tensor import Tensor


def sum_to(g, shape):
    """Sum ``g`` over the axes that broadcasting added or stretched, so it takes ``shape``."""
    if tuple(g.shape) == tuple(shape):
        return g
    lead = g.ndim - len(shape)
    stretched = tuple(lead + i for i, n in enumerate(shape) if n == 1 and g.shape[lead + i] != 1)
    g = g.sum(axis=tuple(range(lead)) + stretched, keepdims=True)      # (1,…,1, *shape)
    return g.reshape(shape)


def _operands(a, b, op_name):
    """Make Tensors of both operands; a Python number takes the other operand's dtype."""
    if not isinstance(a, Tensor) and not isinstance(b, Tensor):
        raise TypeError(f"{op_name} needs at least one Tensor")
    like = a if isinstance(a, Tensor) else b
    a, b = (_constant(v, like) for v in (a, b))
    try:
        np.broadcast_shapes(a.shape, b.shape)
    except ValueError:
        raise ValueError(f"{op_name}: shapes {a.shape} and {b.shape} do not broadcast; each axis, counted "
                         "from the right, must be equal or 1") from None
    return a, b


def _constant(v, like):
    if isinstance(v, Tensor):
        return v
    if isinstance(v, (int, float, bool)):
        xp = get_array_module(like.data)
        dtype = like.dtype if like.dtype.kind == "f" else np.result_type(like.dtype, v)
        return Tensor._from_op(xp.asarray(v, dtype=dtype), False)
    return Tensor(v)


class AddFunction(Function):
    """y = a + b.   Backward: ga = gy, gb = gy (summed back to each input's shape)."""

    def forward(self, a, b):
        self.save_for_backward(a_shape=a.shape, b_shape=b.shape)
        return a + b

    def backward(self, gy):
        a_shape, b_shape = self.saved
        return sum_to(gy, a_shape), sum_to(gy, b_shape)


class SubFunction(Function):
    """y = a − b.   Backward: ga = gy, gb = −gy."""

    def forward(self, a, b):
        self.save_for_backward(a_shape=a.shape, b_shape=b.shape)
        return a - b

    def backward(self, gy):
        a_shape, b_shape = self.saved
        return sum_to(gy, a_shape), sum_to(-gy, b_shape)


class MulFunction(Function):
    """y = a · b.   Backward: ga = gy · b, gb = gy · a."""

    def forward(self, a, b):
        self.save_for_backward(a=a, b=b)
        return a * b

    def backward(self, gy):
        a, b = self.saved
        ga = sum_to(gy * b, a.shape) if self.needs_input_grad[0] else None
        gb = sum_to(gy * a, b.shape) if self.needs_input_grad[1] else None
        return ga, gb


class DivFunction(Function):
    """y = a / b.   Backward: ga = gy / b, gb = −gy · a / b²."""

    def forward(self, a, b):
        self.save_for_backward(a=a, b=b)
        return a / b

    def backward(self, gy):
        a, b = self.saved
        ga = sum_to(gy / b, a.shape) if self.needs_input_grad[0] else None
        gb = sum_to(-gy * a / (b * b), b.shape) if self.needs_input_grad[1] else None
        return ga, gb


class NegFunction(Function):
    """y = −x.   Backward: gx = −gy."""

    def forward(self, x):
        return -x

    def backward(self, gy):
        return (-gy,)


class PowConstantFunction(Function):
    """y = x^c for a fixed number c.   Backward: gx = gy · c · x^(c−1)."""

    def __init__(self, c):
        self.c = c

    def forward(self, x):
        self.save_for_backward(x=x)
        return x ** self.c

    def backward(self, gy):
        x = self.saved.x
        return (gy * self.c * x ** (self.c - 1),)


class PowFunction(Function):
    """y = a^b, both tensors.   Backward: ga = gy · b · a^(b−1),  gb = gy · a^b · ln a  (a > 0)."""

    def forward(self, a, b):
        y = a ** b
        self.save_for_backward(a=a, b=b, y=y)
        return y

    def backward(self, gy):
        a, b, y = self.saved
        xp = get_array_module(a, b)
        ga = sum_to(gy * b * a ** (b - 1), a.shape) if self.needs_input_grad[0] else None
        gb = sum_to(gy * y * xp.log(a), b.shape) if self.needs_input_grad[1] else None
        return ga, gb


class ExpFunction(Function):
    """y = eˣ.   Backward: gx = gy · y."""

    def forward(self, x):
        y = get_array_module(x).exp(x)
        self.save_for_backward(y=y)
        return y

    def backward(self, gy):
        return (gy * self.saved.y,)


class LogFunction(Function):
    """y = ln x.   Backward: gx = gy / x."""

    def forward(self, x):
        self.save_for_backward(x=x)
        return get_array_module(x).log(x)

    def backward(self, gy):
        return (gy / self.saved.x,)


class CastFunction(Function):
    """y = x converted to another dtype.   Backward: gx = gy converted back."""

    def __init__(self, dtype):
        self.dtype = np.dtype(dtype)

    def forward(self, x):
        self.save_for_backward(dtype=x.dtype)
        return x.astype(self.dtype)

    def backward(self, gy):
        return (gy.astype(self.saved.dtype),)


def add(a, b):
    return AddFunction()(*_operands(a, b, "add"))


def sub(a, b):
    return SubFunction()(*_operands(a, b, "sub"))


def mul(a, b):
    return MulFunction()(*_operands(a, b, "mul"))


def div(a, b):
    return DivFunction()(*_operands(a, b, "div"))


def neg(x):
    return NegFunction()(x)


def pow(a, b):
    if isinstance(a, Tensor) and isinstance(b, (int, float)):
        return PowConstantFunction(b)(a)
    return PowFunction()(*_operands(a, b, "pow"))


def exp(x):
    return ExpFunction()(x)


def log(x):
    return LogFunction()(x)


def cast(x, dtype):
    return CastFunction(dtype)(x)



# The names these ops had before the ``…Function`` convention; no nn Module uses them.
Add, Sub, Mul, Div, Neg, Pow, PowConstant = (AddFunction, SubFunction, MulFunction, DivFunction, NegFunction,
                                             PowFunction, PowConstantFunction)
Exp, Log, Cast = ExpFunction, LogFunction, CastFunction
