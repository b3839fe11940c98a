"""minise's one file format: ``.npz`` archives of number arrays, for state dicts and checkpoints.

    minise.save(model.state_dict(), "model.npz")
    minise.save({"model": model.state_dict(), "optimizer": opt.state_dict(), "epoch": 3}, "ckpt.npz")
    state = minise.load("ckpt.npz")                       # the same nested dict, int keys included

A flat state dict (name -> array) is stored as a plain ``.npz``: one ``.npy`` entry per name, so
``numpy.load`` reads it too. Anything else (nested dicts, numbers, strings, lists, tuples, keys that
are not strings) adds one JSON document, the entry ``__meta__.json`` (UTF-8 bytes as a uint8
array)::

    {"format": "minise-checkpoint", "version": 2, "state": <the tree>}

In the tree every array is replaced by ``{"__array__": "<entry name>"}``, a tuple by
``{"__tuple__": [...]}`` and a dict whose keys are not all strings by ``{"__items__": [[key,
value], ...]}``, so loading gives back exactly what was saved. Files are written atomically
(:mod:`minise.io.atomic`) and read without pickle: a file holds data, never code. Every entry's
header is checked against the bytes it really holds before anything is allocated, so a damaged or
hostile file is refused with a one-line error instead of a MemoryError.
"""
from __future__ import annotations

import json
import os
import zipfile
from collections.abc import Mapping
from typing import Any

import numpy as np

from .. import backend
from .arrays import is_array, to_host
from .atomic import atomic_write

META = "__meta__.json"
FORMAT = "minise-checkpoint"
VERSION = 2
_ARRAY, _TUPLE, _ITEMS = "__array__", "__tuple__", "__items__"
_SCALARS = (bool, int, float, str, type(None))
_DEFLATE_MAX_RATIO = 1040                  # deflate cannot shrink data more than ~1032:1


# -- writing ------------------------------------------------------------------------------------

def _is_flat(obj):
    return all(isinstance(k, str) and k and k != META for k in obj) and all(is_array(v) for v in obj.values())


def _is_key(key):
    return isinstance(key, _SCALARS) or (isinstance(key, tuple) and all(isinstance(k, _SCALARS) for k in key))


def _encode(value, path, arrays):
    """``value`` as JSON data; its arrays are added to ``arrays`` under a name derived from ``path``."""
    if is_array(value):
        name = path or "array"
        while name in arrays or name == META:
            name += "_"
        arrays[name] = to_host(value, name)
        return {_ARRAY: name}
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, _SCALARS):
        return value
    if isinstance(value, (list, tuple)):
        items = [_encode(v, f"{path}/{i}", arrays) for i, v in enumerate(value)]
        return items if isinstance(value, list) else {_TUPLE: items}
    if isinstance(value, dict):
        return _encode_dict(value, path, arrays)
    raise TypeError(f"save: {path or 'the value'!r} is of type {type(value).__name__}; a file holds arrays, dicts, "
                    "lists, tuples, numbers, strings and None")


def _encode_dict(value, path, arrays):
    def child(key):
        return f"{path}/{key}" if path else str(key)
    if all(isinstance(k, str) for k in value) and not {_ARRAY, _TUPLE, _ITEMS} & set(value):
        return {k: _encode(v, child(k), arrays) for k, v in value.items()}
    for key in value:
        if not _is_key(key):
            raise TypeError(f"save: the key {key!r} in {path or 'the top level'!r} is of type {type(key).__name__}; "
                            "keys are strings, numbers, bools, None or tuples of those")
    return {_ITEMS: [[_encode(k, "", {}), _encode(v, child(k), arrays)] for k, v in value.items()]}


def to_entries(obj):
    """The arrays to store, entry name -> NumPy array (with ``__meta__.json`` unless ``obj`` is flat)."""
    if not isinstance(obj, dict):
        hint = ("; pass model.state_dict()" if hasattr(obj, "state_dict") else
                "; name what you save: save({'x': x}, path), as in a checkpoint dict")
        raise TypeError(f"save: expected a dict (a state dict or checkpoint), got {type(obj).__name__}{hint}")
    if _is_flat(obj):
        return {name: to_host(value, name) for name, value in obj.items()}
    arrays = {}
    tree = _encode(obj, "", arrays)
    meta = json.dumps({"format": FORMAT, "version": VERSION, "state": tree})
    arrays[META] = np.frombuffer(meta.encode("utf-8"), dtype=np.uint8)
    return arrays


def _write_entry(archive, name, array):
    with archive.open(name + ".npy", "w", force_zip64=True) as handle:
        np.lib.format.write_array(handle, array, allow_pickle=False)


def save(obj: Mapping[str, Any], path: str | os.PathLike) -> str | os.PathLike:
    """Write a state dict or a nested checkpoint dict to ``path`` (``.npz``), atomically."""
    entries = to_entries(obj)
    with atomic_write(path) as handle, zipfile.ZipFile(handle, "w", zipfile.ZIP_STORED) as archive:
        for name, array in entries.items():
            _write_entry(archive, name, array)
    return path


# -- reading ------------------------------------------------------------------------------------

class FileFormatError(ValueError):
    """A file that is not a readable minise ``.npz`` (damaged, cut short, pickled, or not a zip)."""


_HEADER_READERS = {(1, 0): np.lib.format.read_array_header_1_0, (2, 0): np.lib.format.read_array_header_2_0,
                   (3, 0): np.lib.format.read_array_header_2_0}


def _check_entry(archive, info, path):
    """Refuse an entry whose header promises more (or fewer) bytes than it holds, before reading it."""
    name = info.filename[:-len(".npy")]
    stored = info.compress_type == zipfile.ZIP_STORED
    if (stored and info.file_size != info.compress_size) or \
            info.file_size > _DEFLATE_MAX_RATIO * info.compress_size + 1024:
        raise FileFormatError(f"{path!r} is damaged: entry {name!r} claims {info.file_size} bytes but holds "
                              f"{info.compress_size}")
    with archive.open(info) as handle:
        version = np.lib.format.read_magic(handle)
        if version not in _HEADER_READERS:
            raise FileFormatError(f"{path!r}: entry {name!r} has an unknown .npy version {version}")
        shape, _, dtype = _HEADER_READERS[version](handle)
        header = handle.tell()
    if dtype.hasobject:
        raise FileFormatError(f"{path!r} holds Python objects (pickled) in {name!r}; only number arrays are loaded, "
                              "since unpickling can run code")
    declared = int(np.prod(shape, dtype=np.float64)) * dtype.itemsize
    if declared != info.file_size - header:
        raise FileFormatError(f"{path!r} is damaged: entry {name!r} declares shape {shape} of {dtype} "
                              f"({declared:,} bytes) but holds {info.file_size - header:,} bytes")
    return name


def read_entries(path):
    """Entry name -> NumPy array, every entry checked first; FileFormatError for a bad file."""
    path = os.fspath(path)
    if not os.path.isfile(path):
        raise FileNotFoundError(f"load: no such file: {path!r}")
    if not zipfile.is_zipfile(path):
        raise FileFormatError(f"{path!r} is not a .npz file (not a zip archive); it may be truncated, or another "
                              "format (PyTorch .pt files are not read: export the weights as .npz or .safetensors)")
    try:
        with zipfile.ZipFile(path) as archive:
            entries = {}
            for info in archive.infolist():
                if info.filename.endswith(".npy"):
                    name = _check_entry(archive, info, path)
                    with archive.open(info) as handle:
                        entries[name] = np.lib.format.read_array(handle, allow_pickle=False)
            return entries
    except FileFormatError:
        raise
    except (ValueError, zipfile.BadZipFile, EOFError, OSError, MemoryError) as error:
        raise FileFormatError(f"{path!r} is damaged or truncated ({type(error).__name__}: {error})") from None


def _decode(tree, arrays, path):
    if isinstance(tree, list):
        return [_decode(v, arrays, path) for v in tree]
    if not isinstance(tree, dict):
        return tree
    if len(tree) == 1 and _ARRAY in tree:
        if tree[_ARRAY] not in arrays:
            raise FileFormatError(f"{path!r} is damaged: it lists the array {tree[_ARRAY]!r} but does not contain it")
        return arrays[tree[_ARRAY]]
    if len(tree) == 1 and _TUPLE in tree:
        return tuple(_decode(tree[_TUPLE], arrays, path))
    if len(tree) == 1 and _ITEMS in tree:
        return {_hashable(_decode(k, arrays, path)): _decode(v, arrays, path) for k, v in tree[_ITEMS]}
    return {k: _decode(v, arrays, path) for k, v in tree.items()}


def _hashable(key):
    return tuple(key) if isinstance(key, list) else key


def read_meta(entries, path):
    """The JSON document of a nested file (None for a flat state dict), its format checked."""
    if META not in entries:
        return None
    try:
        meta = json.loads(entries.pop(META).tobytes().decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as error:
        raise FileFormatError(f"{path!r} is damaged: its {META} is not JSON ({error})") from None
    if not isinstance(meta, dict) or meta.get("format") != FORMAT or "state" not in meta:
        raise FileFormatError(f"{path!r} has a {META} entry that was not written by minise")
    if not isinstance(meta.get("version"), int) or meta["version"] > VERSION:
        raise FileFormatError(f"{path!r} was written by a newer minise (format version {meta.get('version')!r}); "
                              "upgrade minise to read it")
    return meta


def _device(map_location):
    """torch's map_location, the forms that make sense here: None (as saved: the host), 'cpu', 'cuda'."""
    if map_location is None:
        return None
    if callable(map_location) or isinstance(map_location, dict):
        raise TypeError("load: map_location may be None, 'cpu' or 'cuda' (functions and dicts are not supported)")
    device = str(map_location).split(":")[0]
    if device not in ("cpu", "cuda"):
        raise ValueError(f"load: map_location must be None, 'cpu' or 'cuda', got {map_location!r}")
    return device


def _to(tree, device):
    if isinstance(tree, dict):
        return {k: _to(v, device) for k, v in tree.items()}
    if isinstance(tree, (list, tuple)):
        return type(tree)(_to(v, device) for v in tree)
    return backend.to_device(tree, device) if isinstance(tree, np.ndarray) else tree


def load(path: str | os.PathLike, map_location: str | None = None, weights_only: bool | None = None) -> dict:
    """Read a file written by :func:`save` (or any ``.npz`` of number arrays).

    Returns name -> NumPy array for a flat state dict, else the nested dict that was saved.
    ``map_location`` ('cpu', 'cuda' or None, as in torch.load) puts the arrays on that device;
    ``weights_only`` is accepted for torch's sake and changes nothing: nothing is ever unpickled.
    """
    device = _device(map_location)
    entries = read_entries(path)
    meta = read_meta(entries, os.fspath(path))
    if meta is None:
        result = entries
    else:
        try:
            result = _decode(meta["state"], entries, os.fspath(path))
        except (TypeError, ValueError) as error:
            if isinstance(error, FileFormatError):
                raise
            raise FileFormatError(f"{os.fspath(path)!r} is damaged: its {META} is malformed ({error})") from None
    return _to(result, device) if device is not None else result
