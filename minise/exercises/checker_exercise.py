"""The gradient checker as an exercise: the student writes ``check_gradient``, the grader feeds it right
and planted-wrong gradients and sees whether it tells them apart.

    check_gradient(forward, inputs, gout, grads) -> True or False

``forward(*inputs)`` returns (out, cache), like every exercise's; ``grads`` claims the gradients of
L = Σ out · gout with respect to each input. A checker must accept the right gradients (computed
here by minise) and reject each planted mistake: one element 1% off (three such claims per input,
each at another element: a checker that samples a few elements misses one of them), the sign of one
input's gradient flipped, every gradient doubled, one gradient zero, and a gradient computed for an
all-ones gout instead of the given one.
"""
import numpy as np

from ..functional.activation import tanh
from ..functional.matmul import matmul
from .cases import Case, Exercise, dims
from .checks import CheckFailed

OFF_CLAIMS = 3       # claims with one element off, per input and case: a checker that samples is caught


def checker_case(rng):
    n, d, k = dims(rng, 3, 2, 5)
    return Case(["x", "w"], [rng.standard_normal((n, d)), rng.standard_normal((d, k)) / np.sqrt(d)], [True, True])


def _claims(ctx, case):
    """(gout, the right gradients, {mistake: wrong gradients}) for ``case``: each mistake in each input."""
    out = ctx.exercise.output(case)
    gout = ctx.rng.standard_normal(out.shape)
    _, right = ctx.exercise.reference(case, gout)
    _, ones = ctx.exercise.reference(case, np.ones_like(gout))
    wrong = {"every gradient doubled": [2 * g for g in right], "computed for an all-ones gout": ones}
    for which, name in enumerate(case.names):
        for element in ctx.rng.choice(right[which].size, size=OFF_CLAIMS, replace=False):
            off = [g.copy() for g in right]
            value = off[which].flat[element]                   # moved away from 0: never back onto itself
            off[which].flat[element] = value * 1.01 + np.copysign(1e-3, value)
            wrong[f"element {int(element)} of g{name} 1% off"] = off
        wrong[f"g{name} negated"] = [-g if i == which else g for i, g in enumerate(right)]
        wrong[f"g{name} all zero"] = [np.zeros_like(g) if i == which else g for i, g in enumerate(right)]
    return gout, right, wrong


def check_accepts(ctx):
    if not ctx.passed.get("rejects"):
        raise CheckFailed("not credited: a checker that says yes to everything accepts the right gradients too")
    for _ in range(3):
        case = checker_case(ctx.rng)
        gout, right, _ = _claims(ctx, case)
        if not ctx.solution.check(case.arrays, gout, right):
            raise CheckFailed(f"accepts ({case.describe()}): your checker rejected the right gradients")
    return "accepts the right gradients on 3 random cases"


def check_rejects(ctx):
    missed = []
    for _ in range(2):
        case = checker_case(ctx.rng)
        gout, right, wrong = _claims(ctx, case)
        if not ctx.solution.check(case.arrays, gout, right):
            raise CheckFailed("not credited: your checker rejected the right gradients too "
                              f"({case.describe()}): it must tell right from wrong")
        missed += [f"{mistake} ({case.describe()})" for mistake, grads in wrong.items()
                   if ctx.solution.check(case.arrays, gout, grads)]
    if missed:
        raise CheckFailed("rejects: your checker accepted wrong gradients: " + "; ".join(missed))
    return "rejects every planted mistake (one element 1% off, a sign, a factor 2, a zero, an all-ones gout)"


CHECKER_CHECKS = [("rejects", check_rejects, True), ("accepts", check_accepts, True)]

CHECKER = Exercise("gradient_checker", "the gradient checker itself: tell right gradients from wrong ones",
                   lambda x, w: tanh(matmul(x, w)), lambda rng: [checker_case(rng)], None, checks=CHECKER_CHECKS)
