"""PyTorch's ``torch.nn.utils`` for training loops: clipping gradients before ``optimizer.step()``.

    loss.backward()
    nn.utils.clip_grad_norm_(model.parameters(), max_norm=1.0)     # the whole gradient at most 1 long
    optimizer.step()

Gradients are arrays (``p.grad``), changed in place: the optimizer then reads the clipped ones.
"""
import math

from .. import backend

__all__ = ["clip_grad_norm_", "clip_grad_value_"]


def _gradients(parameters):
    if hasattr(parameters, "grad"):                  # one tensor, as PyTorch also accepts
        parameters = [parameters]
    return [p.grad for p in parameters if p.grad is not None]


def clip_grad_norm_(parameters, max_norm, norm_type=2.0):
    """Scale every gradient by min(1, max_norm / (‖g‖ + 1e-6)), where ‖g‖ is the norm of all the
    gradients together (as one vector); returns ‖g‖ before clipping, as a Python float.

        ‖g‖₂ = (Σ_p Σ_i g_{p,i}²)^½        ‖g‖_∞ = max_{p,i} |g_{p,i}|
    """
    grads = _gradients(parameters)
    if not grads:
        return 0.0
    if norm_type in (math.inf, "inf"):
        total = max(float(backend.get_array_module(g).abs(g).max()) for g in grads)
    else:
        norm_type = float(norm_type)
        xp = backend.get_array_module(grads[0])
        total = sum(float((xp.abs(g.astype(xp.float64)) ** norm_type).sum()) for g in grads) ** (1 / norm_type)
    scale = max_norm / (total + 1e-6)
    if scale < 1:
        for g in grads:
            g *= g.dtype.type(scale)
    return total


def clip_grad_value_(parameters, clip_value):
    """Clip every gradient element into [−clip_value, clip_value], in place."""
    for g in _gradients(parameters):
        backend.get_array_module(g).clip(g, -clip_value, clip_value, out=g)
