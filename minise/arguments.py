"""Checks of the plain arguments that ops, layers and models take, one copy of each.

A bad value gets the same clear error wherever it enters (``F.conv2d``, ``nn.Conv2d``, a model's
constructor, the summary): the message names the function, the argument, what it expected and what
it got. Everything here works on Python values and shapes only, so any module may import it
(it imports nothing from minise).

    is_int(2), is_int(np.int64(2)), is_int(True)      True, True, False (a bool is not a count)
    positive_int(0, "out_channels", "Conv2d")         ValueError: Conv2d: out_channels must be a
                                                      positive integer, got 0
    pair(3, "kernel_size", "conv2d", minimum=1)       (3, 3)
    one_of("median", SQUEEZES, "squeeze", "SEBlock")  ValueError naming the choices
    conv_output_size(32, 3, stride=2, padding=1)      16
    check_ndim(x, "(N, C, H, W)", "x", "conv2d")       ValueError unless x has 4 axes
    check_float_dtypes("linear", x=x, w=w, b=None)    TypeError unless x and w share a float dtype
"""
import numbers

SQUEEZES = ("avg", "max")       # how an SE block squeezes each channel to one number


def _prefix(where):
    return f"{where}: " if where else ""


def is_int(value):
    """A Python or NumPy integer, not a bool."""
    return isinstance(value, numbers.Integral) and not isinstance(value, bool)


def positive_int(value, name, where=None):
    """``value`` as an int ≥ 1; otherwise a ValueError naming ``name`` (and ``where``)."""
    if not is_int(value) or value < 1:
        raise ValueError(f"{_prefix(where)}{name} must be a positive integer, got {value!r}")
    return int(value)


def pair(value, name, where=None, minimum=None, allow_none=False):
    """An int or a pair of ints -> (rows, columns), each ≥ ``minimum`` when one is given.

    With ``allow_none`` an entry of a pair may be None (adaptive pooling: keep that axis's size).
    TypeError for anything that is not an int or a pair; ValueError for a value below ``minimum``.
    """
    def fits(v):
        return is_int(v) or (allow_none and v is None)
    entries = (value, value) if is_int(value) else value
    if not isinstance(entries, (tuple, list)) or len(entries) != 2 or not all(fits(v) for v in entries):
        hint = " (None keeps the input size)" if allow_none else ""
        raise TypeError(f"{_prefix(where)}{name} must be an int or a pair of ints{hint}, got {value!r}")
    result = tuple(None if v is None else int(v) for v in entries)
    if minimum is not None and any(v is not None and v < minimum for v in result):
        raise ValueError(f"{_prefix(where)}{name} must be ≥ {minimum}, got {value!r}")
    return result


def one_of(value, choices, name, where=None):
    """``value`` if it is one of ``choices``; otherwise a ValueError listing them."""
    if value not in choices:
        raise ValueError(f"{_prefix(where)}{name} must be one of {', '.join(map(repr, choices))}, got {value!r}")
    return value


def dim_or_axis(dim, axis, where=None):
    """The axis an op works along, given as PyTorch's ``dim`` or as NumPy's ``axis`` (an alias)."""
    if axis is None:
        return dim
    if dim is not None and dim != axis:
        raise TypeError(f"{_prefix(where)}dim={dim!r} and axis={axis!r} name the same argument; give one")
    return axis


def conv_output_size(size, kernel, stride=1, padding=0, dilation=1):
    """How many positions a window of ``kernel`` taps, ``dilation`` apart, takes along an axis of
    length ``size`` padded by ``padding`` on both sides, moving ``stride`` at a time:

        out = ⌊(size + 2·padding − dilation·(kernel − 1) − 1) / stride⌋ + 1

    (convolution's rule, and pooling's with dilation 1). Less than 1 when the window does not fit.
    """
    return (size + 2 * padding - dilation * (kernel - 1) - 1) // stride + 1


def check_ndim(a, layout, name, where):
    """``a`` (an array or Tensor) must have one axis per name in ``layout``, e.g. "(N, C, H, W)"."""
    ndim = len(layout.strip("()").split(","))
    if a.ndim != ndim:
        raise ValueError(f"{_prefix(where)}{name} must be {ndim}-D {layout}, got shape {tuple(a.shape)}")


def check_float_dtypes(where, **arrays):
    """The arrays given by name (None ones skipped) must share one floating-point dtype."""
    given = {name: a for name, a in arrays.items() if a is not None}
    first = next(iter(given.values()))
    if first.dtype.kind != "f" or any(a.dtype != first.dtype for a in given.values()):
        names, got = list(given), ", ".join(f"{name} {a.dtype} {tuple(a.shape)}" for name, a in given.items())
        raise TypeError(f"{_prefix(where)}{', '.join(names[:-1])} and {names[-1]} must share one floating dtype, "
                        f"got {got}; convert one, e.g. {names[-1]}.astype({names[0]}.dtype)")
