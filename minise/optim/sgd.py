"""Stochastic gradient descent, with momentum, Nesterov momentum and weight decay (PyTorch's rule).

For a parameter w with gradient g, at step t (learning rate η, momentum μ, dampening τ, weight
decay λ):

    d   = g + λ·w                         weight decay is added to the gradient (L2 penalty ½λ‖w‖²)
    b₁  = d                               the momentum buffer starts as the first step's d
    bₜ  = μ·bₜ₋₁ + (1 − τ)·d              ... and is an exponential sum of the d's after that
    d   = d + μ·bₜ    (nesterov)          look one step ahead
    d   = bₜ          (otherwise)
    w   ← w − η·d

With μ = 0 this is plain gradient descent, w ← w − η·(g + λ·w). Note that the learning rate
multiplies the buffer, not the gradient inside it (Sutskever et al. 2013 put it inside), so
changing η mid-training does not rescale the accumulated velocity.
"""
from .optimizer import Optimizer


class SGD(Optimizer):
    """``SGD(params, lr=0.001, momentum=0, dampening=0, weight_decay=0, nesterov=False)`` (PyTorch's defaults).

    State per parameter: ``momentum_buffer`` (an array shaped like the parameter), when μ > 0.
    """

    def __init__(self, params, lr=0.001, momentum=0.0, dampening=0.0, weight_decay=0.0, nesterov=False):
        super().__init__(params, dict(lr=lr, momentum=momentum, dampening=dampening,
                                      weight_decay=weight_decay, nesterov=nesterov))

    def check_hyperparameters(self, group):
        super().check_hyperparameters(group)
        if not group["momentum"] >= 0:
            raise ValueError(f"momentum must be >= 0; got {group['momentum']}")
        if group["nesterov"] and (group["momentum"] <= 0 or group["dampening"] != 0):
            raise ValueError("nesterov=True needs momentum > 0 and dampening = 0; got "
                             f"momentum={group['momentum']}, dampening={group['dampening']}")

    def update(self, w, g, state, group):
        lr, mu, tau = group["lr"], group["momentum"], group["dampening"]
        weight_decay = group["weight_decay"]
        d = g + weight_decay * w if weight_decay else g
        if mu:
            buffer = state.get("momentum_buffer")
            if buffer is None:
                buffer = state["momentum_buffer"] = d.copy()
            else:
                buffer *= mu
                buffer += (1 - tau) * d
            d = d + mu * buffer if group["nesterov"] else buffer
        w -= lr * d                                             # in place, on w's own device
