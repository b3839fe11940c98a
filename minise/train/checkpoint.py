"""Checkpoints: everything a run needs to continue, in one ``.npz`` file written atomically.

A checkpoint is a nested dict (model weights, optimizer state, schedule, epoch, data-loader and
random-generator state, settings), stored in minise's one file format (:mod:`minise.io.npz`):
arrays as ``.npy`` entries, the rest as one JSON document. Writing goes through the one atomic
writer, so a crash leaves either the old checkpoint or the new one, never half of each; reading
never unpickles.

:func:`load_checkpoint` also checks the checkpoint's fields (``epoch`` an int, ``partial`` a dict
of numbers, ...), so a damaged or hand-edited file is refused with one line that names the field.
"""
import numbers
import os

from ..io import FileFormatError, load, save


class CheckpointError(ValueError):
    """A file that is not a readable minise checkpoint, or one that does not fit."""


_NUMBER = (numbers.Real,)
_OPTIONAL_NUMBER = (numbers.Real, type(None))
_OPTIONAL_DICT = (dict, type(None))
# field -> the types it may hold (bool is refused where an int or number is wanted)
FIELDS = {"model": (dict,), "optimizer": (dict,), "epoch": (int,), "epochs": (int,), "scheduler": _OPTIONAL_DICT,
          "partial": _OPTIONAL_DICT, "loader": _OPTIONAL_DICT, "rng": _OPTIONAL_DICT, "config": _OPTIONAL_DICT,
          "best_accuracy": _OPTIONAL_NUMBER, "best_loss": _OPTIONAL_NUMBER, "best_epoch": (int, type(None)),
          "first_loss": _OPTIONAL_NUMBER, "kinds": _OPTIONAL_DICT}
REQUIRED = ("model", "epoch")
PARTIAL_COUNTS, PARTIAL_NUMBERS = ("correct", "seen", "steps"), ("loss", "time")


def save_checkpoint(state, path):
    """Write the nested dict ``state`` to ``path`` (a ``.npz`` file), atomically."""
    save(state, path)
    return path


def _type_error(path, field, value, wanted):
    names = " or ".join("None" if t is type(None) else "a number" if t is numbers.Real else t.__name__
                        for t in wanted)
    return CheckpointError(f"{path} is damaged: its {field!r} is {type(value).__name__} {value!r:.60}, expected "
                           f"{names}; use another checkpoint, e.g. best.npz instead of last.npz")


def check_fields(state, path):
    """Raise CheckpointError unless ``state`` has the fields of a checkpoint, each of the right type."""
    if not isinstance(state, dict) or not all(key in state for key in REQUIRED):
        raise CheckpointError(f"{path} is an .npz file but not a minise checkpoint (it lacks "
                              f"{', '.join(REQUIRED)}); to load bare weights use model.load_state_dict(path)")
    for field, wanted in FIELDS.items():
        value = state.get(field)
        if (field in state or field in REQUIRED) and (not isinstance(value, wanted) or isinstance(value, bool)):
            raise _type_error(path, field, value, wanted)
    partial = state.get("partial") or {}
    for field in (PARTIAL_COUNTS + PARTIAL_NUMBERS) if partial else ():
        value, count = partial.get(field), field in PARTIAL_COUNTS
        if not isinstance(value, int if count else numbers.Real) or isinstance(value, bool) or (count and value < 0):
            raise _type_error(path, f"partial.{field}", value, (int,) if count else _NUMBER)


def load_checkpoint(path):
    """Read a checkpoint written by :func:`save_checkpoint`; arrays come back as NumPy arrays.

    Raises FileNotFoundError for a missing file and :class:`CheckpointError` for anything that
    is not an intact minise checkpoint.
    """
    path = os.fspath(path)
    if not os.path.isfile(path):
        raise FileNotFoundError(f"no checkpoint at {path}")
    try:
        state = load(path)
    except FileFormatError as error:
        raise CheckpointError(f"{path} is not a readable checkpoint ({error}); use another checkpoint, "
                              "e.g. best.npz instead of last.npz") from None
    check_fields(state, path)
    return state
