"""One training step, and the checks that stop a run which has gone wrong.

    logits = model(x)                      (B, classes)
    loss   = loss_fn(logits, y)            mean cross-entropy over the batch
    loss.backward()                        every parameter's .grad = ∂loss/∂parameter
    optimizer.step()                       parameters move against their gradients

A run has *diverged* when its loss is NaN or infinite, when a batch's loss exceeds ``factor`` times
the first batch's loss of the run (at least 1), or when a weight or a buffer (batch norm's running
variance, say) stops being finite. Loss checks happen before the step is applied; the weight check
right after it. Either way training stops with :class:`DivergenceError`, which names the step, and
no checkpoint is written from the diverged state.
"""
import math
from collections import namedtuple

import numpy as np

from ..backend import get_array_module, to_device
from ..tensor import Tensor


class Where(namedtuple("Where", "epoch batch kept label", defaults=(None,))):
    """The step being taken (1-based epoch and batch), what an error says about checkpoints, and
    optionally the words for the place (the validation after an epoch)."""

    @property
    def text(self):
        return self.label or f"epoch {self.epoch}, batch {self.batch}"


class DivergenceError(FloatingPointError):
    """Training diverged; ``epoch`` and ``batch`` (1-based) say at which step."""

    def __init__(self, message, epoch, batch):
        super().__init__(message)
        self.epoch, self.batch = epoch, batch


class NonFiniteLossError(DivergenceError):
    """The loss became NaN or infinite."""


def batch_stats(logits, y, loss):
    """(sum of the batch's losses, number of correct predictions) as Python numbers: one sync each."""
    xp = get_array_module(logits.data)
    correct = (xp.argmax(logits.data, axis=1) == y).sum().item()
    return loss.item() * y.shape[0], int(correct)


def first_non_finite(model):
    """The name of the first parameter or floating buffer that holds NaN or infinity (None if all are finite).

    One sum per array and one device sync in all (about 1 ms per step for se_resnet20 on a CPU, a
    few per cent of the step): a sum is finite exactly when every element is, unless the values
    are near the largest float, which is divergence as well.
    """
    arrays = [a.data for a in model.parameters()] + [b for b in model.buffers() if b is not None]
    arrays = [a for a in arrays if a.dtype.kind == "f" and a.size]
    if not arrays:
        return None
    xp = get_array_module(arrays[0])
    if bool(xp.isfinite(xp.stack([a.sum() for a in arrays])).all()):
        return None
    return next(name for name, a in model.state_dict().items()
                if a.dtype.kind == "f" and not bool(xp.isfinite(a).all()))


def check_loss(mean_loss, first_loss, factor, where, what="the loss", before="applying that step", inputs=None):
    """Raise (before the step is applied) if a mean loss is not finite or has exploded. ``inputs``:
    the batch, named as the cause when it holds NaN or infinity itself."""
    if not math.isfinite(mean_loss):
        xp = get_array_module(inputs) if inputs is not None else np
        if inputs is not None and getattr(inputs, "dtype", np.dtype(int)).kind == "f" and \
                not bool(xp.isfinite(inputs).all()):
            advice = "The batch's inputs hold NaN or infinity: check the data."
        elif first_loss is None:
            advice = ("No step had been taken yet, so the learning rate is not the cause: check the data and "
                      "the model's initial weights.")
        else:
            advice = "Try a lower learning rate."
        raise NonFiniteLossError(f"{what} became {mean_loss} at {where.text}; training stopped before {before}"
                                 f"{where.kept}. {advice}", where.epoch, where.batch)
    if factor is not None and first_loss is not None and mean_loss > factor * max(first_loss, 1.0):
        raise DivergenceError(f"training diverged at {where.text}: {what} was {mean_loss:.4g}, more than {factor:g} "
                              f"times the first batch's {first_loss:.4g}; training stopped before {before}"
                              f"{where.kept}. Try a lower learning rate.", where.epoch, where.batch)


def _array(batch):
    """A loader's batch as an array: minise's DataLoader yields Tensors, other iterables may give arrays."""
    return batch.data if isinstance(batch, Tensor) else batch


def train_step(model, x, y, loss_fn, optimizer, device, where, first_loss=None, factor=None):
    """One step on the batch (x, y); returns (sum of its losses, correct predictions).

    Raises DivergenceError (naming ``where``) instead of applying a step whose loss is not finite
    or has exploded, or after a step that left a weight or buffer non-finite.
    """
    x, y = to_device(_array(x), device), to_device(_array(y), device)
    optimizer.zero_grad()
    # NumPy's overflow warnings are not shown: a diverging run ends in the clear message instead
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
        logits = model(Tensor(x))                                   # (B, classes)
        loss = loss_fn(logits, Tensor(y))
        batch_loss, correct = batch_stats(logits, y, loss)
        check_loss(batch_loss / y.shape[0], first_loss, factor, where, inputs=x)
        loss.backward()
        optimizer.step()
    bad = first_non_finite(model)
    if bad is not None:
        raise DivergenceError(f"training diverged at {where.text}: after that step {bad} holds NaN or infinity; "
                              f"training stopped{where.kept}. Try a lower learning rate.", where.epoch, where.batch)
    return batch_loss, correct
