"""The same forward and backward once more, on inputs laid out or stored another way.

Finite differences run on float64, C-contiguous copies of the inputs, so a backward that is right
only there passes them. In a network it meets other arrays: a transposed activation is strided in
memory, an upstream gradient comes out of another op's backward in whatever layout that op made,
and training runs in float32. So after the three checked calls the checker runs forward and
backward twice more, with the first upstream gradient v₁:

    strided   float64 copies of the inputs and of v₁ that are views with a gap between elements
              (every other element of a buffer): the answer must be the contiguous one, up to
              the order of summation. A backward that reads memory as if it were contiguous
              (``as_strided`` with strides computed from the shape, ``frombuffer``) fails here.
    float32   float32 copies of the inputs and of v₁: where the forward agrees with float64 to
              1e-3 of its size, the gradient must agree to 1e-2 of its size. A backward that is
              right only for float64 (a branch on the dtype, a constant cast the wrong way) fails
              here; an ill-conditioned function, whose float32 forward already drifts, is not judged.

Each disagreement is a sentence naming the input and the element.
"""
import numpy as np

from ..backend import get_array_module, to_numpy
from .guarded import at, first_change

STRIDED_RTOL = 1e-8          # the same numbers in another layout: equal up to summation order
FLOAT32_FORWARD_RTOL = 1e-3  # a forward this close in float32 is well-conditioned enough to judge
FLOAT32_RTOL = 1e-2          # and its float32 gradient must then be this close to the float64 one,
FLOAT32_TYPICAL = 1e-4       # give or take this much of the typical gradient size |y|·|v|/|x|


def strided(a):
    """A copy of ``a`` that is not contiguous: every other element of a buffer twice as long."""
    if a.ndim == 0 or a.size == 0:
        return a.copy()
    xp = get_array_module(a)
    buffer = xp.zeros(a.shape[:-1] + (2 * a.shape[-1],), dtype=a.dtype)
    view = buffer[..., ::2]                                           # a.shape, strided
    view[...] = a
    return view


def float32(a):
    return a.astype(np.float32)


VARIANTS = (("strided", strided), ("float32", float32))


def _numpy(values):
    return np.array(to_numpy(values), dtype=np.float64, copy=True)


def _largest(a):
    return float(np.nan_to_num(np.abs(a), posinf=0.0).max(initial=0.0))


def _first_off(g0, g, tolerance):
    """The first flat index where ``g`` is further than ``tolerance`` from ``g0`` (NaN vs a number
    counts), or None."""
    with np.errstate(invalid="ignore"):
        off = ~(np.abs(g - g0) <= tolerance) & ~(np.isnan(g) & np.isnan(g0))
    return int(np.argmax(off.reshape(-1))) if off.any() else None


def strided_problems(y0, y, analytic, grads, names, shapes, floors):
    """[(input name or None, sentence)] for the strided run. An input whose finite differences are
    all below their tolerance (``floors`` is None there) is not judged: its gradient is round-off,
    and the order of a sum (NumPy's differs for strided arrays) changes round-off."""
    i = _first_off(y0, y, STRIDED_RTOL * _largest(y0))
    if i is not None:
        return [(None, f"forward gives other outputs for strided (non-contiguous) inputs (output element {i}: "
                       f"{y0[i]:.6g} for contiguous inputs, {y[i]:.6g} for strided ones); it reads memory as if it "
                       "were contiguous")]
    return _gradients_off(names, analytic, grads, shapes, floors,
                          lambda g0, floor, typical: STRIDED_RTOL * _largest(g0) + 1e-3 * floor,
                          "backward gives another gradient when the inputs and the upstream gradient are strided "
                          "(non-contiguous) arrays (element {at}: {then:.6g} for contiguous ones, {now:.6g} for "
                          "strided ones); it reads memory as if it were contiguous")


def float32_problems(y0, y, analytic, grads, names, shapes, floors):
    """[(input name, sentence)] for the float32 run; none when the forward itself drifts in float32.
    An input whose finite differences are all below their tolerance (``floors`` is None there) is not
    judged: a gradient that is zero up to round-off is all round-off in float32. Nor is a gradient
    that is small only because large terms cancel (batch norm's input gradient on a batch of two):
    the tolerance has a part relative to the gradient a function of that input's and the outputs'
    sizes would typically have, |y|·|v|/|x|, since float32 rounds the terms, not their sum."""
    if np.abs(y - y0).max(initial=0.0) > FLOAT32_FORWARD_RTOL * _largest(y0):
        return []
    return _gradients_off(names, analytic, grads, shapes, floors,
                          lambda g0, floor, typical: FLOAT32_RTOL * _largest(g0) + FLOAT32_TYPICAL * typical + floor,
                          "backward is wrong in float32 (element {at}: {then:.6g} in float64, {now:.6g} in float32, "
                          f"while the float32 forward agrees with the float64 one to {FLOAT32_FORWARD_RTOL:g} of its "
                          "size); it is right only for float64 inputs")


def _gradients_off(names, analytic, grads, shapes, floors, tolerance, sentence):
    """[(input name, sentence)] for each input whose rerun gradient is further than ``tolerance(g0,
    floor, typical)`` from the first one; inputs whose floor is None (all round-off) are skipped."""
    said = []
    for name, g0, g, shape, (floor, typical) in zip(names, analytic, grads, shapes, floors):
        i = None if floor is None else _first_off(g0, g, tolerance(g0, floor, typical))
        if i is not None:
            said.append((name, sentence.format(at=at(i, shape), then=g0.reshape(-1)[i], now=g.reshape(-1)[i])))
    return said


JUDGES = {"strided": strided_problems, "float32": float32_problems}


def try_variants(subject, probe, analytic, names, shapes, floors, y0, float32_too=True):
    """Run each variant (float32 only when ``float32_too``: not near kinks, where float32's rounding
    may cross one). ``floors``: per input, (the finite differences' absolute tolerance, None where
    they are all below it; the typical gradient size |y|·|v|/|x|); returns
    ([(input name or None, sentence)], {variant: what became of it}).

    A variant that raises is skipped, and the report says so: a function may mix its inputs with
    float64 arrays of its own, and an error is loud where a wrong gradient is silent."""
    said, ran, handed_out = [], {}, []
    for kind, convert in VARIANTS:
        if kind == "float32" and not float32_too:
            ran[kind] = "skipped (kinks)"
            continue
        try:
            with np.errstate(all="ignore"):     # what the function warns about, it said in the first runs;
                y, raw = subject.rerun(convert, probe)      # BLAS may flag a strided product spuriously
        except Exception as error:  # noqa: BLE001 -- a function may well refuse float32
            ran[kind] = f"skipped ({type(error).__name__})"
            continue
        ran[kind] = "checked"
        grads = [np.zeros(s) if g is None else _numpy(g) for g, s in zip(raw, shapes)]
        handed_out += [(name, g, kept) for name, g, kept in zip(names, raw, grads) if g is not None]
        said += JUDGES[kind](y0, _numpy(y), analytic, grads, names, shapes, floors)
    for name, g, kept in handed_out:          # a fresh graph each time: the gradients went out as they were
        change = first_change(kept, g)
        if change:
            said.append((name, f"a gradient it had handed out was changed by a later backward (element "
                               f"{at(change[0], kept.shape)} was {change[1]:.6g}, now {change[2]:.6g}); backward "
                               "keeps the array it returns and writes into it again"))
            break
    return said, ran
