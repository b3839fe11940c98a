"""Checking and copying a state dict (name -> array) into a model's parameters and buffers.

``Module.load_state_dict`` compares the names and shapes of a checkpoint with those of the model
and reports *every* problem in one error, so a mismatched checkpoint is fixed in one go rather
than one key per run. Values are then written into the existing arrays, in place: each keeps its
device (CPU or GPU) and dtype, and optimizers holding the Parameters keep working.
"""
import numpy as np

from .. import backend
from ..io import NUM_BATCHES, as_array


class StateDictError(KeyError, ValueError):
    """A state dict does not fit a model: missing keys, unexpected keys, or shape mismatches.

    A KeyError (keys are wrong) and a ValueError (shapes are wrong); ``missing_keys``,
    ``unexpected_keys`` and ``mismatched`` (name, checkpoint shape, model shape) hold the details.
    """

    def __init__(self, message, missing_keys=(), unexpected_keys=(), mismatched=()):
        super().__init__(message)
        self.message = message
        self.missing_keys, self.unexpected_keys, self.mismatched = list(missing_keys), list(unexpected_keys), \
            list(mismatched)

    def __str__(self):            # KeyError would print the message in quotes
        return self.message


def _shape(value):
    return tuple(getattr(value, "shape", ()))


def _fits(name, model_shape, checkpoint_shape):
    if model_shape == checkpoint_shape:
        return True
    return name.rsplit(".", 1)[-1] == NUM_BATCHES and int(np.prod(model_shape)) == int(np.prod(checkpoint_shape)) == 1


def _listing(names):
    return ", ".join(names)


def check_state_dict(targets, state_dict, strict, model_name):
    """Compare names and shapes; raise StateDictError listing all problems. Returns (missing, unexpected)."""
    missing = [k for k in targets if k not in state_dict and k.rsplit(".", 1)[-1] != NUM_BATCHES]
    unexpected = [k for k in state_dict if k not in targets]
    mismatched = [(k, _shape(state_dict[k]), _shape(targets[k])) for k in targets
                  if k in state_dict and not _fits(k, _shape(targets[k]), _shape(state_dict[k]))]
    problems = []
    if strict and missing:
        problems.append(f"missing keys ({len(missing)}), in the model but not in the state dict: {_listing(missing)}")
    if strict and unexpected:
        problems.append(f"unexpected keys ({len(unexpected)}), in the state dict but not in the model: "
                        f"{_listing(unexpected)}")
    if mismatched:
        problems.append(f"shape mismatches ({len(mismatched)}): " + "; ".join(
            f"{k}: state dict {c}, model {m}" for k, c, m in mismatched))
    if problems:
        hint = "" if not (missing or unexpected) or not strict else \
            "\n  (load_state_dict(..., strict=False) ignores missing and unexpected keys, never shape mismatches)"
        raise StateDictError(f"Error(s) in loading state_dict for {model_name}:\n  " + "\n  ".join(problems) + hint,
                             missing, unexpected, mismatched)
    return missing, unexpected


def copy_state_into(target, value, name):
    """Write ``value`` into the array ``target`` in place, on target's device and in its dtype."""
    value = as_array(value, name)
    value = backend.to_device(value, backend.device_of(target))
    if value.dtype != target.dtype:
        value = value.astype(target.dtype)
    target[...] = value.reshape(target.shape)
    return target
