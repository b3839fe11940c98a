"""Gradient checking: is an analytic backward right? Ask finite differences.

For a function f and an upstream gradient v (random, so no error can hide behind symmetry),
the analytic backward gives ∂(Σ v·f)/∂x. Central differences estimate the same number from two
evaluations per element, with no calculus at all:

    ∂L/∂x[i] ≈ (L(x + ε·eᵢ) − L(x − ε·eᵢ)) / 2ε          error O(ε²), computed in float64

An element agrees when |analytic − numerical| ≤ atol + rtol·|numerical|. The report gives, for
each input, the largest absolute error, the largest relative error |a − n| / max(1e-8, |a| + |n|)
(the form CS231n uses) and the worst element with both values. It also warns when the check
cannot be trusted: float32 inputs, an element sitting on a kink (the two one-sided differences
disagree, as for ReLU at 0), or a numerical gradient that is zero everywhere (a check that
cannot discriminate). Tutorial: tutorials/02_gradcheck.py.
"""
import warnings

import numpy as np

from .backend import device_of, get_array_module, to_device, to_numpy
from .function import no_grad
from .tensor import Tensor


class GradcheckError(AssertionError):
    """An analytic gradient disagrees with finite differences."""


class GradcheckWarning(UserWarning):
    """The check ran, but something makes it less trustworthy."""


class InputCheck:
    """The comparison for one input: errors, the worst element and both values there."""

    def __init__(self, name, shape, analytic, numerical, checked, atol, rtol, kinks):
        diff = np.abs(analytic - numerical)
        rel = diff / np.maximum(1e-8, np.abs(analytic) + np.abs(numerical))
        excess = diff - (atol + rtol * np.abs(numerical))
        failing = checked.size and excess.max() > 0
        worst = int(np.argmax(excess if failing else diff)) if checked.size else 0
        self.name, self.shape = name, tuple(shape)
        self.checked = int(checked.size)
        self.max_abs_error = float(diff.max()) if diff.size else 0.0
        self.max_rel_error = float(rel.max()) if rel.size else 0.0
        self.mismatches = int((excess > 0).sum())
        self.passed = self.mismatches == 0
        flat = int(checked[worst]) if checked.size else 0
        self.worst_index = tuple(int(i) for i in np.unravel_index(flat, shape)) if shape else ()
        self.analytic = float(analytic[worst]) if checked.size else 0.0
        self.numerical = float(numerical[worst]) if checked.size else 0.0
        self.kinks = [tuple(int(i) for i in np.unravel_index(int(checked[k]), shape)) for k in kinks]
        self.all_zero = bool(checked.size) and float(np.abs(numerical).max()) <= atol   # an all-zero backward passes

    def describe(self):
        return (f"input {self.name} (shape {self.shape}): at element {self.worst_index} the analytic gradient "
                f"is {self.analytic:.6g} but finite differences give {self.numerical:.6g} "
                f"(abs error {abs(self.analytic - self.numerical):.3g}); {self.mismatches} of {self.checked} "
                "checked elements disagree")


class GradcheckReport:
    """What gradcheck found; truthy when every checked element agrees. ``str()`` prints a table."""

    def __init__(self, inputs, atol, rtol, eps):
        self.inputs, self.atol, self.rtol, self.eps = inputs, atol, rtol, eps
        self.passed = all(c.passed for c in inputs)

    def __bool__(self):
        return self.passed

    def __getitem__(self, name):
        for c in self.inputs:
            if c.name == name:
                return c
        raise KeyError(name)

    def __str__(self):
        lines = [f"gradcheck {'passed' if self.passed else 'FAILED'} (float64 central differences, eps={self.eps:g}, "
                 f"atol={self.atol:g}, rtol={self.rtol:g}, random upstream gradient)",
                 f"{'input':<12}{'shape':<18}{'checked':>8}{'max abs err':>13}{'max rel err':>13}  worst element"]
        for c in self.inputs:
            lines.append(f"{str(c.name):<12}{str(c.shape):<18}{c.checked:>8}{c.max_abs_error:>13.2e}"
                         f"{c.max_rel_error:>13.2e}  {c.worst_index}: analytic {c.analytic:.6g}, "
                         f"numerical {c.numerical:.6g}{'' if c.passed else '  <-- MISMATCH'}")
        return "\n".join(lines)

    __repr__ = __str__


def _float64_copy(a):
    """A float64, C-ordered copy: finite differences perturb it in place through ``reshape(-1)``,
    which is a view only of a C-ordered array (of a transposed input it would be a copy)."""
    return a.astype(np.float64, order="C", copy=True)


def _upstream(outputs, rng):
    """A random upstream gradient for each output, on that output's device."""
    return [to_device(rng.standard_normal(o.shape), device_of(o)) for o in outputs]


def _pick_elements(size, max_elements, rng):
    if max_elements is None or size <= max_elements:
        return np.arange(size)
    return np.sort(rng.choice(size, size=max_elements, replace=False))


def _compare(loss, arrays, analytic, names, eps, atol, rtol, max_elements, rng, raise_exception):
    """Finite differences of ``loss(arrays)`` for each array in ``arrays`` (perturbed in place)."""
    base = loss(arrays)
    checks = []
    for name, a, g in zip(names, arrays, analytic):
        flat = a.reshape(-1)                                  # a view: writes perturb ``a``
        picked = _pick_elements(a.size, max_elements, rng)
        numerical = np.empty(len(picked))
        kinks = []
        for k, i in enumerate(picked):
            i = int(i)
            original = flat[i].item()
            flat[i] = original + eps
            up = loss(arrays)
            flat[i] = original - eps
            down = loss(arrays)
            flat[i] = original
            numerical[k] = (up - down) / (2 * eps)
            jump = abs((up - base) - (base - down)) / eps     # one-sided slopes disagree: a kink
            if jump > max(atol + rtol * abs(numerical[k]), 1e3 * eps * (1 + abs(numerical[k]))):
                kinks.append(k)
        g = np.zeros(a.shape) if g is None else to_numpy(g).astype(np.float64)
        checks.append(InputCheck(name, a.shape, g.reshape(-1)[picked], numerical, picked, atol, rtol, kinks))

    for c in checks:
        if c.kinks:
            warnings.warn(f"gradcheck: input {c.name} has {len(c.kinks)} element(s) within eps={eps:g} of a kink "
                          f"(one-sided differences disagree), e.g. {c.kinks[0]}; keep inputs away from "
                          "non-differentiable points", GradcheckWarning, stacklevel=3)
        if c.all_zero:
            warnings.warn(f"gradcheck: the numerical gradient of input {c.name} is zero everywhere (no element above "
                          f"atol={atol:g}), so this check cannot tell a right backward from a wrong one", GradcheckWarning, stacklevel=3)
    report = GradcheckReport(checks, atol, rtol, eps)
    if raise_exception and not report:
        failed = [c for c in checks if not c.passed]
        raise GradcheckError("gradcheck failed for " + "; ".join(c.describe() for c in failed) + "\n" + str(report))
    return report


def _warn_if_not_float64(names):
    """Warn (at the caller of gradcheck / check_backward) that these inputs are checked as float64 copies."""
    if names:
        warnings.warn(f"gradcheck: inputs {names} are not float64; the check runs on float64 copies, since "
                      "float32 rounding would swamp finite differences", GradcheckWarning, stacklevel=3)


def _named(inputs):
    if isinstance(inputs, dict):
        return list(inputs.keys()), list(inputs.values())
    inputs = list(inputs)
    return [str(i) for i in range(len(inputs))], inputs


def gradcheck(fn, inputs, *, eps=1e-6, atol=1e-5, rtol=1e-3, seed=None, raise_exception=True,
              max_elements=None):
    """Check the gradients of ``fn`` with respect to every input that has ``requires_grad=True``.

    fn           maps the input Tensors to a Tensor (or a tuple of Tensors)
    inputs       a list of Tensors, or a dict name -> Tensor (names show up in the report);
                 they are copied to float64, and the originals are left untouched
    max_elements check a random sample of at most this many elements per input (large inputs)
    Returns a :class:`GradcheckReport`; raises :class:`GradcheckError` on disagreement unless
    ``raise_exception=False``.
    """
    names, tensors = _named(inputs)
    if not all(isinstance(t, Tensor) for t in tensors):
        raise TypeError("gradcheck inputs must be Tensors (use minise.check_backward for raw arrays)")
    _warn_if_not_float64([n for n, t in zip(names, tensors) if t.requires_grad and t.dtype != np.float64])
    copies = [Tensor(_float64_copy(t.data), requires_grad=t.requires_grad) if t.data.dtype.kind == "f"
              else t for t in tensors]
    checked = [k for k, t in enumerate(copies) if t.requires_grad]
    if not checked:
        raise ValueError("gradcheck: no input has requires_grad=True, so there is nothing to check")
    rng = np.random.default_rng(seed)

    def outputs_of(ts):
        out = fn(*ts)
        return [o for o in (out if isinstance(out, (tuple, list)) else (out,)) if o.dtype.kind == "f"]

    outputs = outputs_of(copies)
    upstream = _upstream([o.data for o in outputs], rng)
    with_grad = [(o, v) for o, v in zip(outputs, upstream) if o.requires_grad]
    if with_grad:
        from .autograd import run_backward
        run_backward([o for o, _ in with_grad], [v for _, v in with_grad])
    analytic = [copies[k].grad for k in checked]

    def loss(arrays):
        with no_grad():
            return sum(float(get_array_module(o.data).sum(o.data * v).item())
                       for o, v in zip(outputs_of(copies), upstream))

    return _compare(loss, [copies[k].data for k in checked], analytic, [names[k] for k in checked],
                    eps, atol, rtol, max_elements, rng, raise_exception)


def check_backward(forward, backward, inputs, *, eps=1e-6, atol=1e-5, rtol=1e-3, seed=None,
                   raise_exception=True, max_elements=None):
    """Check a hand-written layer given as two array functions, the way courses write them::

        def forward(x, w):           return out, cache
        def backward(gout, cache):   return gx, gw        (one gradient per input)

    ``inputs`` is a list (or dict name -> array) of arrays; all of them are checked, on float64
    copies (with a warning for the others, as in :func:`gradcheck`). Returns a
    :class:`GradcheckReport` like :func:`gradcheck`.
    """
    names, arrays = _named(inputs)
    _warn_if_not_float64([n for n, a in zip(names, arrays) if a.dtype != np.float64])
    copies = [_float64_copy(a) for a in arrays]
    rng = np.random.default_rng(seed)
    out, cache = forward(*copies)
    (upstream,) = _upstream([out], rng)
    grads = backward(upstream, cache)
    grads = list(grads) if isinstance(grads, (tuple, list)) else [grads]
    if len(grads) != len(copies):
        raise TypeError(f"backward returned {len(grads)} gradient(s) for {len(copies)} input(s)")
    for name, g, a in zip(names, grads, copies):
        if g is not None and tuple(g.shape) != a.shape:
            raise ValueError(f"backward returned a gradient of shape {tuple(g.shape)} for input {name} of shape {a.shape}")

    def loss(arrs):
        out = forward(*arrs)[0]
        return float(get_array_module(out).sum(out * upstream).item())

    return _compare(loss, copies, grads, names, eps, atol, rtol, max_elements, rng, raise_exception)
