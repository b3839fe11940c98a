"""gradcheck and check_backward: the two entry points, and the one procedure behind both.

The procedure, for a subject (see ``subjects``):

1. evaluate the outputs y at float64 copies of the inputs (a forward that changed an input is a
   failure: it is named);
2. draw two upstream gradients v₁, v₂ with random signs and magnitudes between 0.5 and 1.5 —
   random, so no error hides behind symmetry (an all-ones v passes a softmax backward without its
   Σ term); bounded away from 0, so a scalar output is never weighed by a tiny number;
3. call backward with v₁, v₂ and v₁ again, guarding every array it could write (``guarded``);
4. take central differences for every checked element (``differences``) and compare, for both
   upstream gradients, element by element:

       |analytic − numerical| ≤ atol·s + 4·round-off + rtol·|numerical|

   where s = the largest |numerical| of that input, clipped to [1e-8, 1]: below 1 the absolute
   tolerance shrinks with the gradient, so an op whose values are ~1e-6 is checked as strictly as
   one whose values are ~1, and the round-off term keeps the check honest when ε is small;
5. once everything agrees, run forward and backward again on strided and on float32 copies of
   the inputs (``variants``): the gradients must not change;
6. say why, when it can: kinks, a gradient below round-off, float32 inside, ε too small.
"""
from __future__ import annotations

import warnings
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np

from ..tensor import Tensor
from .differences import Differences, pick_elements
from .guarded import at, call_three_times, first_change
from .report import GradcheckReport, GradcheckWarning, InputCheck, raise_or_return
from .roundoff import FLOAT32_BACKWARD, eps_hint, fits_float32, forward_hint, ignores_small_changes, looks_float32
from .subjects import ArraySubject, TensorSubject
from .variants import try_variants

SMALLEST_SCALE = 1e-8        # below this, a gradient's absolute tolerance stops shrinking with it
ROUNDOFF_ALLOWANCE = 4       # finite differences may be off by this many times their estimated round-off


def _well_scaled(rng, shape):
    """Random signs, magnitudes uniform in [0.5, 1.5]: never near 0, never all alike."""
    return rng.choice([-1.0, 1.0], size=shape) * rng.uniform(0.5, 1.5, size=shape)


def _named(inputs):
    if isinstance(inputs, dict):
        return [str(k) for k in inputs], list(inputs.values())
    inputs = list(inputs)
    return [str(i) for i in range(len(inputs))], inputs


def _not_float64(names, dtypes):
    named = [f"{n} ({np.dtype(d).name})" for n, d in zip(names, dtypes) if d != np.float64]
    return [(f"gradcheck: inputs {', '.join(named)} are not float64; the check runs on float64 copies, since "
             "the rounding of lower precisions would swamp finite differences")] if named else []


def _refuse_kinds(names, dtypes):
    """Complex, boolean and non-numeric inputs get one clear error (the checker checks real functions)."""
    for name, d in zip(names, dtypes):
        kind = np.dtype(d).kind
        if kind == "c":
            raise TypeError(f"gradcheck: input {name} is complex ({np.dtype(d).name}); the checker checks "
                            "real-valued functions of real inputs: pass the real and imaginary parts as two inputs")
        if kind not in "fiu":
            raise TypeError(f"gradcheck: input {name} has dtype {np.dtype(d).name}; expected a floating-point "
                            "array (integers are converted to float64)")


def _empty(names, shapes):
    named = [f"{n} {tuple(s)}" for n, s in zip(names, shapes) if int(np.prod(s)) == 0]
    return [f"gradcheck: inputs {', '.join(named)} have no elements, so there is nothing to check for them"] \
        if named else []


def _kinks(d, tol, rtol, eps):
    n = np.abs(d.numerical[0])
    limit = np.maximum.reduce([tol[0] + rtol * n, 1e3 * eps * (1 + n), 16 * d.roundoff[0]])
    return [int(j) for j in np.flatnonzero(d.jump > limit)]


def _check_input(subject, pos, analytic, probes, y0, eps, atol, rtol, rng, max_elements, problems):
    """Finite differences for one checked input; returns (InputCheck, hint or None)."""
    k = subject.checked[pos]
    name, a = subject.names[k], subject.arrays[k]
    picked = pick_elements(a.size, max_elements, rng)
    d = Differences(subject.evaluate, a, picked, probes, y0, eps)
    numerical = d.numerical
    gradient = np.stack([analytic[p][pos].reshape(-1)[picked] for p in range(len(probes))])
    scale = float(np.clip(np.nan_to_num(np.abs(numerical)).max(initial=0.0), SMALLEST_SCALE, 1.0))
    roundoff = ROUNDOFF_ALLOWANCE * d.roundoff
    tol = atol * scale + roundoff
    with np.errstate(invalid="ignore", over="ignore"):         # NaN and inf are reported, not warned about
        check = InputCheck(name, a.shape, gradient, numerical, picked, tol, rtol, _kinks(d, tol, rtol, eps), problems)
    check.floor = None if check.all_zero else float(np.max(tol, initial=0.0))   # for the reruns (``variants``)
    hint = eps_hint(name, eps, roundoff, atol * scale, rtol * np.abs(numerical), check.all_zero)
    if looks_float32(gradient[0]):
        hint = FLOAT32_BACKWARD.format(name=name) if hint is None else hint
    return check, hint


def _forward_changes(subject):
    """Sentences for inputs the forward changed in place (restored afterwards)."""
    said = {}
    for name, a, p in zip(subject.names, subject.arrays, subject.pristine):
        change = first_change(p, a)
        if change:
            said[name] = [(f"forward changed this input in place (element {at(change[0], a.shape)} was "
                           f"{change[1]:.6g}, now {change[2]:.6g}); work on a copy")]
            a[...] = p
    return said


def _run(subject, eps, atol, rtol, seed, max_elements):
    """The whole procedure; returns (report, warning messages)."""
    rng = np.random.default_rng(seed)
    forward_problems = _forward_changes(subject)
    y0 = subject.evaluate()
    probes = _well_scaled(rng, (2, y0.size))
    analytic, general, per_input = call_three_times(subject.backward, subject.split, probes, subject.names,
                                                    subject.arrays, subject.pristine, subject.checked)
    checks, hints = [], []
    for pos, k in enumerate(subject.checked):
        name = subject.names[k]
        problems = forward_problems.get(name, []) + per_input[name]
        check, hint = _check_input(subject, pos, analytic, probes, y0, eps, atol, rtol, rng, max_elements, problems)
        checks.append(check)
        hints += [hint] if hint else []
    variants = _variants(subject, probes[0], analytic[0], checks, general, y0)
    responsive = any(c.checked and not c.all_zero for c in checks)
    insensitive = responsive and ignores_small_changes(
        subject.evaluate, [subject.arrays[k] for k in subject.checked],
        [subject.pristine[k] for k in subject.checked], y0)
    float32 = forward_hint(y0, insensitive, eps, fits_float32([subject.arrays[k] for k in subject.checked]))
    hints = ([float32] if float32 else []) + hints
    report = GradcheckReport(checks, atol, rtol, eps, general, hints, variants)
    if forward_problems:              # every evaluation changed the inputs again: the numbers mean nothing
        return report, []
    return report, _warnings(checks, hints, eps)


def _variants(subject, probe, analytic, checks, general, y0):
    """The strided and float32 runs (``variants``): their findings join the checks' problems.
    Skipped once something has failed already (the runs would only repeat it) and float32 near kinks."""
    if general or any(not c.passed for c in checks):
        return {}
    names = [c.name for c in checks]
    outputs = float(np.nan_to_num(np.abs(y0), posinf=0.0).max(initial=0.0)) * float(np.abs(probe).max(initial=0.0))
    typical = [outputs / max(float(np.abs(subject.arrays[k]).max(initial=0.0)), 1e-8) for k in subject.checked]
    said, ran = try_variants(subject, probe, analytic, names, [c.shape for c in checks],
                             list(zip([c.floor for c in checks], typical)), y0,
                                float32_too=not any(c.kinks for c in checks))
    for name, sentence in said:
        if name is None:
            general.append(sentence)
        else:
            check = checks[names.index(name)]
            check.problems.append(sentence)
            check.passed = False
    return ran


def _warnings(checks, hints, eps):
    said, float32 = [], any("float32" in h for h in hints)
    for c in checks:
        if c.kinks and not float32:                   # float32 round-off makes kinks everywhere
            said.append(f"gradcheck: input {c.name} has {len(c.kinks)} element(s) within eps={eps:g} of a kink "
                        f"(one-sided differences disagree by more than round-off), e.g. {c.kinks[0]}; keep "
                        "inputs away from non-differentiable points")
        if c.all_zero:
            said.append(f"gradcheck: the numerical gradient of input {c.name} is zero everywhere (no element "
                        "above the round-off of finite differences), so this check cannot tell a right backward "
                        "from a wrong one")
    return said + [f"gradcheck: {h}" for h in hints]


def gradcheck(fn: Callable[..., Tensor | tuple[Tensor, ...]], inputs: Sequence[Tensor] | Mapping[str, Tensor], *,
              eps: float = 1e-6, atol: float = 1e-5, rtol: float = 1e-3, seed: int | None = None,
              raise_exception: bool = True, max_elements: int | None = None) -> GradcheckReport:
    """Check the gradients of ``fn`` with respect to every input that has ``requires_grad=True``.

    fn           maps the input Tensors to a Tensor (or a tuple of Tensors)
    inputs       a list of Tensors, or a dict name -> Tensor (names show up in the report);
                 they are copied to float64, and the originals are left untouched
    eps          the finite-difference step; atol, rtol: the tolerance (see minise.gradcheck)
    seed         for the random upstream gradients (and the sample of elements)
    max_elements check a random sample of at most this many elements per input (large inputs)

    Backward runs three times over the recorded graph (upstream gradients v₁, v₂, v₁), on fresh
    copies of each upstream gradient; writing into them or into an input fails the check, and so
    does answering differently the second time. Then forward and backward run once more on strided
    and once on float32 copies of the inputs (skipped when ``fn`` raises there, say because it mixes
    in float64 arrays of its own); a different gradient fails. Returns a :class:`GradcheckReport`; raises
    :class:`GradcheckError` on any failure unless ``raise_exception=False``. Doubts (kinks, float32
    inside ``fn``, eps too small for the round-off) are :class:`GradcheckWarning`\\ s.
    """
    names, tensors = _named(inputs)
    if not all(isinstance(t, Tensor) for t in tensors):
        raise TypeError("gradcheck inputs must be Tensors (use minise.check_backward for raw arrays)")
    if not any(t.requires_grad for t in tensors):
        raise ValueError("gradcheck: no input has requires_grad=True, so there is nothing to check")
    wanted = [(n, t) for n, t in zip(names, tensors) if t.requires_grad]
    notes = _not_float64([n for n, _ in wanted], [t.dtype for _, t in wanted]) + \
        _empty([n for n, _ in wanted], [t.shape for _, t in wanted])
    report, said = _run(TensorSubject(fn, tensors, names), eps, atol, rtol, seed, max_elements)
    for message in notes + said:
        warnings.warn(message, GradcheckWarning, stacklevel=2)
    return raise_or_return(report, raise_exception)


def check_backward(forward: Callable[..., tuple[Any, Any]], backward: Callable[..., Any],
                   inputs: Sequence[Any] | Mapping[str, Any], *, eps: float = 1e-6, atol: float = 1e-5,
                   rtol: float = 1e-3, seed: int | None = None, raise_exception: bool = True,
                   max_elements: int | None = None) -> GradcheckReport:
    """Check a hand-written layer given as two array functions, the way courses write them::

        def forward(x, w):           return out, cache
        def backward(gout, cache):   return gx, gw        (one gradient per input)

    ``inputs`` is a list (or dict name -> array) of arrays; all of them are checked, on float64
    copies (with a warning for the others, as in :func:`gradcheck`). ``backward`` is called three
    times with the same ``cache`` (upstream gradients v₁, v₂, v₁), each time on a fresh ``gout``:
    a backward that writes into ``gout``, into an input or into its cache, or that is right only
    the first time, fails; so does one right only for contiguous or only for float64 arrays (see
    :func:`gradcheck`). A forward may return several outputs, ``((out1, out2), cache)``: backward
    then gets a tuple of upstream gradients. Returns a :class:`GradcheckReport` like :func:`gradcheck`.
    """
    names, arrays = _named(inputs)
    if not all(hasattr(a, "dtype") and hasattr(a, "shape") for a in arrays):
        raise TypeError("check_backward inputs must be arrays (use minise.gradcheck for Tensors)")
    _refuse_kinds(names, [a.dtype for a in arrays])
    notes = _not_float64(names, [a.dtype for a in arrays]) + _empty(names, [a.shape for a in arrays])
    report, said = _run(ArraySubject(forward, backward, arrays, names), eps, atol, rtol, seed, max_elements)
    for message in notes + said:
        warnings.warn(message, GradcheckWarning, stacklevel=2)
    return raise_or_return(report, raise_exception)
