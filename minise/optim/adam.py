"""Adam and AdamW (PyTorch's rules), with optional AMSGrad.

For a parameter w with gradient g, at step t = 1, 2, ... (learning rate η, betas β₁ β₂, ε,
weight decay λ):

    Adam   g  = g + λ·w                   weight decay added to the gradient (L2 penalty)
    AdamW  w  ← w − η·λ·w                 weight decay applied to w directly ("decoupled",
                                          Loshchilov & Hutter 2019), g left alone
    mₜ = β₁·mₜ₋₁ + (1 − β₁)·g             first moment  (m₀ = 0)
    vₜ = β₂·vₜ₋₁ + (1 − β₂)·g²            second moment (v₀ = 0)
    v̂ₜ = max(v̂ₜ₋₁, vₜ)  (amsgrad)  else  v̂ₜ = vₜ
    w  ← w − (η / (1 − β₁ᵗ)) · mₜ / (√v̂ₜ / √(1 − β₂ᵗ) + ε)

The two (1 − βᵗ) factors are the bias correction: m and v start at zero, so early on they
underestimate the moments; dividing by 1 − βᵗ undoes that. The last line is Kingma & Ba's
w ← w − η·m̂/(√v̂ + ε) with m̂ = mₜ/(1 − β₁ᵗ) and v̂ = vₜ/(1 − β₂ᵗ), arranged as PyTorch computes it.
"""
import math

from ..backend import get_array_module
from .optimizer import Optimizer


class Adam(Optimizer):
    """``Adam(params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0, amsgrad=False)``.

    State per parameter: ``step`` (a number), ``exp_avg`` (m), ``exp_avg_sq`` (v) and, with
    amsgrad, ``max_exp_avg_sq`` (v̂).
    """

    decoupled = False

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0, amsgrad=False):
        super().__init__(params, dict(lr=lr, betas=tuple(betas), eps=eps, weight_decay=weight_decay,
                                      amsgrad=amsgrad))

    def check_hyperparameters(self, group):
        super().check_hyperparameters(group)
        betas = tuple(group["betas"])
        if len(betas) != 2 or not all(0.0 <= b < 1.0 for b in betas):
            raise ValueError(f"betas must be two numbers in [0, 1); got {group['betas']}")
        if not group["eps"] >= 0:
            raise ValueError(f"eps must be >= 0; got {group['eps']}")

    def update(self, w, g, state, group):
        xp = get_array_module(w)
        lr, (beta1, beta2), eps = group["lr"], group["betas"], group["eps"]
        weight_decay = group["weight_decay"]
        if not state:
            state["step"] = 0
            state["exp_avg"] = xp.zeros_like(w)
            state["exp_avg_sq"] = xp.zeros_like(w)
            if group["amsgrad"]:
                state["max_exp_avg_sq"] = xp.zeros_like(w)
        state["step"] += 1
        t = state["step"]
        if weight_decay and self.decoupled:
            w *= 1 - lr * weight_decay                          # AdamW: shrink w itself
        elif weight_decay:
            g = g + weight_decay * w                            # Adam: L2 term in the gradient
        m, v = state["exp_avg"], state["exp_avg_sq"]
        m *= beta1
        m += (1 - beta1) * g
        v *= beta2
        v += (1 - beta2) * (g * g)
        if group["amsgrad"]:
            v_hat = state["max_exp_avg_sq"]
            xp.maximum(v_hat, v, out=v_hat)
        else:
            v_hat = v
        step_size = lr / (1 - beta1 ** t)
        denominator = xp.sqrt(v_hat) / math.sqrt(1 - beta2 ** t) + eps
        w -= step_size * (m / denominator)                      # in place, on w's own device


class AdamW(Adam):
    """``AdamW(params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=1e-2, amsgrad=False)``:
    Adam with decoupled weight decay, w ← w − η·λ·w before the Adam step."""

    decoupled = True

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=1e-2, amsgrad=False):
        super().__init__(params, lr=lr, betas=betas, eps=eps, weight_decay=weight_decay, amsgrad=amsgrad)
