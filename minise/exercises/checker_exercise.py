"""The gradient checker as an exercise: the student writes ``check_gradient``, the grader feeds it right
and planted-wrong gradients and sees whether it tells them apart.

    check_gradient(forward, inputs, gout, grads) -> True or False

``forward(*inputs)`` returns (out, cache), like every exercise's; ``grads`` claims the gradients of
L = Σ out · gout with respect to each input. The forward is the file's own (tanh(x @ w)) in one case
of each check, and in the others a function the file has never seen: x @ w through a random chain of
tanh(a·z), z·σ(a·z) and exp(−a·z²) with random a, evaluated in the solution's process by
``program_forward`` (minise/exercises/sandbox.py; :func:`program_op` is its minise twin). A checker
that computes one function's gradient by hand instead of measuring tells nothing apart there.

A checker must accept the right gradients (computed here by minise) and reject each planted mistake:
one element 1% off (three such claims per input, each at another element: a checker that samples a
few elements misses one of them), the sign of one input's gradient flipped, every gradient doubled,
one gradient zero, and a gradient computed for an all-ones gout instead of the given one.
"""
import numpy as np

from ..functional.activation import sigmoid, tanh
from ..functional.arithmetic import exp
from ..functional.matmul import matmul
from .cases import Case, Exercise, dims
from .checks import CheckFailed

OFF_CLAIMS = 3       # claims with one element off, per input and case: a checker that samples is caught
TANH, SWISH, BUMP = 0, 1, 2


def program_op(x, w, program=None):
    """minise's twin of the sandbox's ``program_forward``: no program, the file's forward tanh(x @ w);
    else z = x @ w, then each row (op, a) of the program: tanh(a·z), z·σ(a·z) or exp(−a·z²)."""
    z = matmul(x, w)                                                  # (N, K)
    if program is None:
        return tanh(z)
    for op, a in program:
        z = tanh(z * a) if op == TANH else z * sigmoid(z * a) if op == SWISH else exp(z * z * -a)
    return z


def random_program(rng):
    """2 to 4 rows (op, a): a function of x and w no checker file can know in advance."""
    return [[int(rng.integers(0, 3)), round(float(rng.uniform(0.5, 2.0)), 2)] for _ in range(int(rng.integers(2, 5)))]


def checker_case(rng, unseen=False):
    """x, w; ``unseen``: the forward is a random program, not the file's own."""
    n, d, k = dims(rng, 3, 2, 5)
    return Case(["x", "w"], [rng.standard_normal((n, d)), rng.standard_normal((d, k)) / np.sqrt(d)], [True, True],
                {"program": random_program(rng)} if unseen else {}, "a function your file has not seen" if unseen
                else "your file's forward")


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
    for unseen in (False, True, True):
        case = checker_case(ctx.rng, unseen)
        gout, right, _ = _claims(ctx, case)
        if not _verdict(ctx, case, gout, right):
            raise CheckFailed(f"accepts ({case.describe()}): your checker rejected the right gradients")
    return "accepts the right gradients on 3 random cases (your forward, and two functions it has not seen)"


def _verdict(ctx, case, gout, grads):
    return ctx.solution.check(case.arrays, gout, grads, case.kwargs.get("program"))


def check_rejects(ctx):
    missed = []
    for unseen in (False, True):
        case = checker_case(ctx.rng, unseen)
        gout, right, wrong = _claims(ctx, case)
        if not _verdict(ctx, case, gout, right):
            raise CheckFailed("not credited: your checker rejected the right gradients too "
                              f"({case.describe()}): it must tell right from wrong")
        missed += [f"{mistake} ({case.describe()})" for mistake, grads in wrong.items()
                   if _verdict(ctx, case, gout, grads)]
    if missed:
        raise CheckFailed("rejects: your checker accepted wrong gradients: " + "; ".join(missed))
    return ("rejects every planted mistake (one element 1% off, a sign, a factor 2, a zero, an all-ones gout), for "
            "your forward and for a function it has not seen")


CHECKER_CHECKS = [("rejects", check_rejects, True), ("accepts", check_accepts, True)]

CHECKER = Exercise("gradient_checker", "the gradient checker itself: tell right gradients from wrong ones",
                   program_op, lambda rng: [checker_case(rng)], None, checks=CHECKER_CHECKS)
