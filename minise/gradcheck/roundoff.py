"""Naming the likely cause when round-off, not the backward, is what disagrees.

Two causes are recognised:

* **float32 inside the function.** A float64 → float32 → float64 round trip leaves values whose
  mantissa fits in float32's 24 bits, and a function that rounds its inputs to float32 does not
  notice a change of one part in 10¹⁰. Its round-off (≈ 6e-8 relative) divided by ε = 1e-6 is a
  6 % error in every finite difference: the check fails however right the backward is.
* **ε too small.** The round-off of a finite difference is about u·|y|/ε (see ``differences``):
  at ε = 1e-12 it is ~1e-4 for outputs of order one. The checker allows for that round-off (so a
  linear function does not fail, nor look like a kink) and says the check is the blunter for it.
"""
import numpy as np

from ..backend import device_of, get_array_module, to_device, to_numpy

FLOAT32_BITS, SHORT_BITS = 24, 12


def looks_float32(values):
    """True when every value with a long mantissa would survive a round trip through float32
    (and there are at least two such values): the function computed them in float32."""
    v = np.asarray(values, dtype=np.float64).reshape(-1)
    v = v[np.isfinite(v) & (v != 0)]
    mantissa = np.frexp(v)[0]
    fits32 = np.ldexp(mantissa, FLOAT32_BITS) == np.round(np.ldexp(mantissa, FLOAT32_BITS))
    short = np.ldexp(mantissa, SHORT_BITS) == np.round(np.ldexp(mantissa, SHORT_BITS))  # 0.5, 3.0: anyone's
    return int((~short).sum()) >= 2 and bool(fits32[~short].all())


def ignores_small_changes(evaluate, arrays, pristine, y0):
    """Move every input element by about one part in 2³³ (far below float32's resolution, far above float64's)
    and report whether the outputs stay bit for bit the same."""
    rng = np.random.default_rng(0)                        # random signs and sizes: no cancelling moves
    for a, p in zip(arrays, pristine):
        xp = get_array_module(a)
        step = rng.choice([-1.0, 1.0], size=a.shape) * rng.uniform(1.0, 2.0, size=a.shape) * 2.0 ** -33
        a += xp.maximum(xp.abs(p), 1e-3) * to_device(step, device_of(a))
    try:
        return bool(np.array_equal(evaluate(), y0))
    finally:
        for a, p in zip(arrays, pristine):
            a[...] = p


FLOAT32_FORWARD = ("the function seems to compute in float32 (its outputs {why}); a float64 → float32 → "
                   "float64 round trip leaves round-off of ~6e-8 relative, which eps={eps:g} turns into errors "
                   "of ~{err:.0e} in every finite difference; compute in float64 to check it")
FLOAT32_BACKWARD = ("the analytic gradient of input {name} seems computed in float32 (every value fits "
                    "float32's 24-bit mantissa); expect errors of ~6e-8 relative from it")
EPS_TOO_SMALL = ("finite differences of input {name} carry round-off of up to ~{err:.1g} (float64's "
                 "precision × |outputs| / eps){because}, above the absolute tolerance; the check allows for "
                 "it and is blunter for it{advice}")


def fits_float32(arrays):
    """True when every value of every array survives a round trip through float32 (float16 or
    float32 data copied to float64): then outputs that fit float32 say nothing about the function."""
    return all(np.array_equal(np.asarray(to_numpy(a)).astype(np.float32).astype(np.float64), to_numpy(a))
               for a in arrays)


def forward_hint(y0, insensitive, eps, short_inputs=False):
    """The float32 sentence for the outputs ``y0``, or None (``short_inputs``: the inputs themselves
    fit float32, so only the insensitivity to small changes is evidence)."""
    if looks_float32(y0) and not short_inputs:
        why = "all fit float32's 24-bit mantissa"
    elif insensitive:
        why = "do not change when the inputs move by one part in 1e10"
    else:
        return None
    return FLOAT32_FORWARD.format(why=why, eps=eps, err=6e-8 / eps)


def eps_hint(name, eps, roundoff, absolute, relative, all_zero):
    """The round-off sentence for one input, or None.

    With a small eps (below 1e-8) it speaks when the round-off exceeds the absolute tolerance
    (``absolute`` = atol·s) at most elements; otherwise only when it exceeds the whole tolerance
    (``absolute + relative``), i.e. when round-off, not the tolerance, decides what passes."""
    small = eps < 1e-8
    over = roundoff > (absolute if small else absolute + relative)
    if all_zero or over.size == 0 or over.mean() <= 0.5:
        return None
    because = f" with eps={eps:g}" if small else ", as the outputs are large beside this gradient"
    advice = "; use eps ≈ 1e-6 (round-off grows as eps shrinks)" if small else ""
    return EPS_TOO_SMALL.format(name=name, err=float(roundoff.max()), because=because, advice=advice)
