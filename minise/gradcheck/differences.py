"""Finite differences: the gradient with no calculus at all.

For one element xᵢ of an input, evaluate the function a step ε above and below and keep the whole
change of the outputs, Δy = f(x + ε·eᵢ) − f(x − ε·eᵢ). Every upstream gradient v then gets its
numerical gradient from the same two evaluations:

    ∂(Σ v·y)/∂xᵢ ≈ Σⱼ vⱼ · Δyⱼ / 2ε          error O(ε²) from the Taylor series

The output differences are taken element by element, *before* summing against v: outputs that xᵢ
does not touch are computed identically both times and cancel exactly, so only the outputs xᵢ
moves add round-off. That round-off is estimated too:

    round-off ≈ u · Σⱼ |vⱼ|·|yⱼ| / ε   over the outputs xᵢ moves   (u = 2.2e-16, float64's precision)

It grows as ε shrinks, while the Taylor error grows as ε grows; ε = 1e-6 balances them for values
of order one. The one-sided slopes (f(x + ε) − f(x)) / ε and (f(x) − f(x − ε)) / ε differ by
about ε·f'' where the function is smooth; a much larger gap, and one above the round-off, means xᵢ
sits on a kink (ReLU at 0, a tie in a max) where no derivative exists.
"""
import numpy as np

U = float(np.finfo(np.float64).eps)          # spacing of float64 numbers near 1


class Differences:
    """Central differences for the elements ``picked`` of one input, for every probe at once.

    numerical  (probes, picked)  Σ v·Δy / (actual step up + actual step down)
    roundoff   (probes, picked)  u · Σ |v|·|y| / ε over the outputs the element moves
    jump       (picked,)         |one-sided slope above − below| for the first probe
    """

    def __init__(self, evaluate, array, picked, probes, y0, eps):
        flat = array.reshape(-1)                           # a view: writes perturb ``array``
        count = len(picked)
        self.numerical = np.empty((len(probes), count))
        self.roundoff = np.empty((len(probes), count))
        self.jump = np.empty(count)
        magnitude = np.abs(probes) * np.abs(y0)            # (probes, outputs)
        for k, i in enumerate(picked):
            i = int(i)
            original = float(flat[i].item())
            flat[i] = original + eps
            step_up = float(flat[i].item()) - original     # the step actually taken, after rounding
            y_up = evaluate()
            flat[i] = original - eps
            step_down = original - float(flat[i].item())
            y_down = evaluate()
            flat[i] = original
            self.numerical[:, k] = probes @ (y_up - y_down) / (step_up + step_down)
            moved = (y_up != y0) | (y_down != y0)
            self.roundoff[:, k] = U * magnitude[:, moved].sum(axis=1) / eps
            slope_up = probes[0] @ (y_up - y0) / step_up
            slope_down = probes[0] @ (y0 - y_down) / step_down
            self.jump[k] = abs(slope_up - slope_down)


def pick_elements(size, max_elements, rng):
    """All flat indices, or a sorted random sample of ``max_elements`` of them."""
    if max_elements is None or size <= max_elements:
        return np.arange(size)
    return np.sort(rng.choice(size, size=max_elements, replace=False))
