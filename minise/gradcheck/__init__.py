"""Gradient checking: is an analytic backward right? Ask finite differences.

For a function f and an upstream gradient v, the analytic backward gives ∂(Σ v·f)/∂x. Central
differences estimate the same number from two evaluations per element, with no calculus at all:

    ∂L/∂x[i] ≈ (L(x + ε·eᵢ) − L(x − ε·eᵢ)) / 2ε          error O(ε²), computed in float64

The checker is built so that a wrong backward has nowhere to hide:

* two random upstream gradients (random signs, magnitudes in [0.5, 1.5]), so symmetric errors
  (softmax, batch norm) show and a scalar output is never weighed by a tiny number;
* a tolerance relative to the gradient's own size, so an op whose values are ~1e-6 is checked
  as strictly as one of size 1, plus an allowance for the round-off it estimates;
* backward called three times (v₁, v₂, v₁) on fresh copies, with everything it could write kept
  pristine beside it: writing into the upstream gradient or an input (then or in a later call),
  answering differently the second time, or returning NaN are failures that name the array and
  the element;
* forward and backward once more on strided (non-contiguous) and on float32 copies: a backward
  right only for contiguous float64 arrays fails.

The report gives, per input, the largest absolute and relative errors and the worst element with
both values; warnings name the likely cause when the check cannot be trusted (a kink, a gradient
below round-off, float32 inside the function, eps too small). Tutorial: tutorials/02_gradcheck.py.

Files: ``check`` (the procedure and the two entry points), ``subjects`` (a function of Tensors, or
a forward/backward pair on arrays), ``guarded`` (calling backward), ``differences`` (finite
differences and their round-off), ``variants`` (the strided and float32 reruns), ``roundoff``
(naming the cause), ``report``.
"""
from .check import check_backward, gradcheck
from .report import GradcheckError, GradcheckReport, GradcheckWarning, InputCheck

__all__ = ["GradcheckError", "GradcheckReport", "GradcheckWarning", "InputCheck", "check_backward", "gradcheck"]
