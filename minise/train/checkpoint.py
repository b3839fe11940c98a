"""Checkpoints: everything a run needs to continue, in one ``.npz`` file written atomically.

A checkpoint is a nested dict (model weights, optimizer state, schedule, epoch, data-loader and
random-generator state, settings). Saving splits it in two:

* every array goes into the ``.npz`` under its path in the dict (``model/layer1.0.conv1.weight``,
  ``optimizer/state/3/momentum_buffer``), as NumPy data;
* everything else (numbers, strings, lists) becomes one JSON document, stored in the same ``.npz``
  as the uint8 array ``__meta__.json``; arrays appear there as ``{"__array__": "<key>"}``.

One file means one atomic write: it is first written to a hidden temporary file in the same folder
and then moved over the old one with ``os.replace``, so a crash leaves either the old checkpoint
or the new one, never half of each. Loading uses ``np.load(allow_pickle=False)``: a checkpoint
holds data only, never code.
"""
import json
import os
import zipfile

import numpy as np

from ..backend import to_numpy

FORMAT = "minise-checkpoint"
VERSION = 1
META_KEY = "__meta__.json"


class CheckpointError(ValueError):
    """A file that is not a readable minise checkpoint, or one that does not fit."""


def _is_array(value):
    return hasattr(value, "shape") and hasattr(value, "dtype") and not isinstance(value, np.generic)


def flatten(tree, arrays, prefix=""):
    """Copy ``tree`` with every array replaced by ``{"__array__": key}``; arrays land in ``arrays``."""
    if _is_array(tree):
        arrays[prefix] = np.ascontiguousarray(to_numpy(tree))
        return {"__array__": prefix}
    if isinstance(tree, dict):
        return {str(k): flatten(v, arrays, f"{prefix}/{k}" if prefix else str(k)) for k, v in tree.items()}
    if isinstance(tree, (list, tuple)):
        return [flatten(v, arrays, f"{prefix}/{i}") for i, v in enumerate(tree)]
    if isinstance(tree, np.generic):
        return tree.item()
    if tree is None or isinstance(tree, (bool, int, float, str)):
        return tree
    raise TypeError(f"cannot store {type(tree).__name__} at {prefix!r} in a checkpoint; "
                    "use arrays, numbers, strings, lists and dicts")


def unflatten(tree, arrays):
    """Undo :func:`flatten`: put the arrays back in place of their ``{"__array__": key}`` markers."""
    if isinstance(tree, dict):
        if set(tree) == {"__array__"}:
            return arrays[tree["__array__"]]
        return {k: unflatten(v, arrays) for k, v in tree.items()}
    if isinstance(tree, list):
        return [unflatten(v, arrays) for v in tree]
    return tree


def atomic_write(path, write):
    """Call ``write(file)`` on a temporary file next to ``path``, then move it onto ``path``."""
    path = os.fspath(path)
    folder = os.path.dirname(os.path.abspath(path))
    os.makedirs(folder, exist_ok=True)
    temporary = os.path.join(folder, f".{os.path.basename(path)}.{os.getpid()}.tmp")
    try:
        with open(temporary, "wb") as f:
            write(f)
            f.flush()
            os.fsync(f.fileno())
        os.replace(temporary, path)
    except BaseException:
        if os.path.exists(temporary):
            os.remove(temporary)
        raise


def save_checkpoint(state, path):
    """Write the nested dict ``state`` to ``path`` (a ``.npz`` file), atomically."""
    arrays = {}
    meta = {"format": FORMAT, "version": VERSION, "state": flatten(state, arrays)}
    if META_KEY in arrays:
        raise ValueError(f"{META_KEY!r} is reserved")
    arrays[META_KEY] = np.frombuffer(json.dumps(meta).encode("utf-8"), dtype=np.uint8)
    atomic_write(path, lambda f: np.savez(f, **arrays))
    return path


def load_checkpoint(path):
    """Read a checkpoint written by :func:`save_checkpoint`; arrays come back as NumPy arrays.

    Raises FileNotFoundError for a missing file and :class:`CheckpointError` for anything that
    is not an intact minise checkpoint.
    """
    path = os.fspath(path)
    if not os.path.isfile(path):
        raise FileNotFoundError(f"no checkpoint at {path}")
    if not zipfile.is_zipfile(path):
        raise CheckpointError(f"{path} is not a readable checkpoint (not an .npz archive: damaged, cut short, or "
                              "another kind of file); use another checkpoint, e.g. best.npz instead of last.npz")
    try:
        with np.load(path, allow_pickle=False) as data:
            arrays = {key: data[key] for key in data.files}
        meta = json.loads(arrays.pop(META_KEY).tobytes().decode("utf-8"))
    except KeyError:
        raise CheckpointError(f"{path} is an .npz file but not a minise checkpoint (it has no {META_KEY}); "
                              "to load bare weights use model.load_state_dict(path)") from None
    except (OSError, ValueError, zipfile.BadZipFile, EOFError, UnicodeDecodeError) as exc:
        why = "it holds Python objects, which are never unpickled" if "pickle" in str(exc) else str(exc)
        raise CheckpointError(f"{path} is not a readable checkpoint (damaged, or not written by minise: {why}); "
                              "use another checkpoint, e.g. best.npz instead of last.npz") from None
    if not isinstance(meta, dict) or meta.get("format") != FORMAT:
        raise CheckpointError(f"{path} is not a minise checkpoint")
    if meta.get("version", 0) > VERSION:
        raise CheckpointError(f"{path} was written by a newer minise (checkpoint format {meta['version']}); "
                              "upgrade minise to read it")
    try:
        return unflatten(meta["state"], arrays)
    except KeyError as exc:
        raise CheckpointError(f"{path} is damaged: the array {exc} is missing") from None
