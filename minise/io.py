"""Saving and loading weights: ``.npz`` files, and importing PyTorch weights.

    minise.save(model.state_dict(), "model.npz")          # name -> array, written atomically
    model.load_state_dict(minise.load("model.npz"))
    minise.io.load_torch_state_dict(model, "resnet.safetensors")   # weights trained with PyTorch

Files never run code when loaded: ``.npz`` is read with ``allow_pickle=False`` (only plain number
arrays), and PyTorch's own ``.pt`` pickles are refused. A checkpoint may also be a nested dict
(``{"model": state, "epoch": 3, "optimizer": {...}}``): its arrays are stored under "/"-joined paths
and the numbers and strings in a JSON entry, so it comes back as the same nested dict.

A file is written to a temporary file in the same folder and then renamed over the target
(``os.replace`` is atomic), so a crash mid-write never leaves a half-written checkpoint behind.
"""
import json
import os
import struct
import tempfile
import zipfile

import numpy as np

from . import backend
from .tensor import Tensor

META = "__minise__"        # the JSON entry of nested checkpoints
SEPARATOR = "/"
_JSON_TYPES = (bool, int, float, str, type(None))


# -- writing ------------------------------------------------------------------------------------

def _is_array(value):
    return isinstance(value, (Tensor, np.ndarray, np.generic)) or backend.device_of(value) == "cuda" or \
        (hasattr(value, "detach") and hasattr(value, "cpu"))


def _host(value, name):
    from .nn.state import as_array
    array = backend.to_numpy(as_array(value, name))          # device arrays are copied to the host
    if array.dtype.kind not in "biufc":
        raise TypeError(f"save: {name!r} has dtype {array.dtype}; only number and bool arrays can be saved")
    return array


def _flatten(obj, prefix, arrays, values):
    for key, value in obj.items():
        if not isinstance(key, str) or not key or SEPARATOR in key:
            raise TypeError(f"save: keys must be non-empty strings without {SEPARATOR!r}, got {key!r} in "
                            f"{prefix or 'the top level'}")
        path = prefix + SEPARATOR + key if prefix else key
        if isinstance(value, dict):
            values[path] = {}                                 # records the (possibly empty) dict
            _flatten(value, path, arrays, values)
        elif _is_array(value):
            arrays[path] = _host(value, path)
        elif isinstance(value, _JSON_TYPES) or (isinstance(value, (list, tuple)) and
                                                all(isinstance(v, _JSON_TYPES) for v in value)):
            values[path] = value if not isinstance(value, tuple) else list(value)
        else:
            raise TypeError(f"save: {path!r} is of type {type(value).__name__}; a checkpoint holds arrays, dicts, "
                            "numbers, strings, None and lists of those")


def to_entries(obj):
    """The arrays to store (entry name -> NumPy array): a flat state dict as it is, or a nested dict
    flattened, with its non-array values in a JSON entry."""
    if not isinstance(obj, dict):
        hint = "; pass model.state_dict()" if hasattr(obj, "state_dict") else ""
        raise TypeError(f"save: expected a dict (a state dict), got {type(obj).__name__}{hint}")
    if META in obj:
        raise ValueError(f"save: the key {META!r} is reserved")
    arrays, values = {}, {}
    _flatten(obj, "", arrays, values)
    nested = any(isinstance(v, dict) for v in obj.values()) or len(arrays) < len(obj)
    if nested:
        arrays[META] = np.array(json.dumps({"format": 1, "values": values, "arrays": list(arrays)}))
    return arrays


def _write_entry(archive, name, array):
    with archive.open(name + ".npy", "w", force_zip64=True) as handle:
        np.lib.format.write_array(handle, np.asarray(array), allow_pickle=False)


def _umask():
    mask = os.umask(0)
    os.umask(mask)
    return mask


def save(obj, path):
    """Write a state dict (or nested checkpoint dict) to ``path`` as ``.npz``, atomically."""
    entries = to_entries(obj)
    path = os.fspath(path)
    folder = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(folder):
        raise FileNotFoundError(f"save: the folder {folder} does not exist; create it first "
                                f"(os.makedirs({folder!r}, exist_ok=True))")
    fd, temporary = tempfile.mkstemp(dir=folder, prefix="." + os.path.basename(path) + ".", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as handle:
            with zipfile.ZipFile(handle, "w", zipfile.ZIP_STORED) as archive:
                for name, array in entries.items():
                    _write_entry(archive, name, array)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(temporary, 0o666 & ~_umask())            # mkstemp makes it private (0600)
        os.replace(temporary, path)
    except BaseException:
        if os.path.exists(temporary):
            os.remove(temporary)
        raise


# -- reading ------------------------------------------------------------------------------------

def load(path):
    """Read a file written by :func:`save` (or any ``.npz`` of number arrays): name -> NumPy array,
    or the nested dict that was saved."""
    path = os.fspath(path)
    if not os.path.isfile(path):
        raise FileNotFoundError(f"load: no such file: {path!r}")
    if not zipfile.is_zipfile(path):
        raise ValueError(f"load: {path!r} is not a .npz file (not a zip archive); it may be truncated, or another "
                         "format (PyTorch .pt files are not read: export the weights as .npz or .safetensors)")
    try:
        with np.load(path, allow_pickle=False) as archive:
            entries = {name: archive[name] for name in archive.files}
    except ValueError as exc:
        if "pickle" in str(exc).lower():
            raise ValueError(f"load: {path!r} holds Python objects (pickled); only number arrays are loaded, "
                             "since unpickling can run code") from None
        raise ValueError(f"load: {path!r} is damaged or truncated ({exc})") from None
    except (zipfile.BadZipFile, EOFError, OSError) as exc:
        raise ValueError(f"load: {path!r} is damaged or truncated ({type(exc).__name__}: {exc})") from None
    if META not in entries:
        return entries
    return _unflatten(entries, path)


def _unflatten(entries, path):
    meta = json.loads(entries.pop(META).item())
    root = {}

    def place(key, value):
        *parents, leaf = key.split(SEPARATOR)
        node = root
        for part in parents:
            node = node.setdefault(part, {})
        node[leaf] = value

    for key, value in meta["values"].items():
        place(key, value)
    for key in meta["arrays"]:
        if key not in entries:
            raise ValueError(f"load: {path!r} lists the array {key!r} but does not contain it")
        place(key, entries[key])
    return root


def read_state_dict(source):
    """A flat state dict from a dict, a ``.npz`` file or a ``.safetensors`` file."""
    if isinstance(source, dict):
        return source
    if not isinstance(source, (str, bytes, os.PathLike)):
        raise TypeError(f"expected a state dict (a dict of name -> array) or the path of a .npz or .safetensors "
                        f"file, got {type(source).__name__}")
    path = os.fspath(source)
    if path.endswith(".safetensors"):
        return load_safetensors(path)
    if path.endswith((".pt", ".pth", ".ckpt", ".bin")):
        raise ValueError(f"{path!r} looks like a PyTorch pickle, which minise does not load (unpickling can run "
                         "code). Export it from PyTorch: np.savez('w.npz', **{k: v.numpy() for k, v in "
                         "model.state_dict().items()}), or save it as .safetensors")
    return load(path)



# -- PyTorch weights ----------------------------------------------------------------------------

_SAFETENSORS_DTYPES = {"F64": "<f8", "F32": "<f4", "F16": "<f2", "BF16": "<u2", "I64": "<i8", "I32": "<i4",
                       "I16": "<i2", "I8": "i1", "U64": "<u8", "U32": "<u4", "U16": "<u2", "U8": "u1", "BOOL": "?"}


def load_safetensors(path):
    """Read a ``.safetensors`` file: name -> NumPy array (bfloat16 becomes float32).

    The format: 8 bytes, a little-endian unsigned length n; n bytes of JSON mapping each name to
    {"dtype": "F32", "shape": [...], "data_offsets": [begin, end]} (plus an optional "__metadata__");
    then the raw little-endian data, offsets counted from its start.
    """
    path = os.fspath(path)
    if not os.path.isfile(path):
        raise FileNotFoundError(f"load_safetensors: no such file: {path!r}")
    with open(path, "rb") as handle:
        data = handle.read()

    def bad(why):
        return ValueError(f"load_safetensors: {path!r} is not a valid safetensors file: {why}")

    if len(data) < 8:
        raise bad(f"it has {len(data)} bytes, fewer than the 8-byte header length")
    (length,) = struct.unpack("<Q", data[:8])
    if length > len(data) - 8:
        raise bad(f"the header claims {length} bytes but only {len(data) - 8} follow (truncated?)")
    try:
        header = json.loads(data[8:8 + length].decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise bad(f"its header is not JSON ({exc})") from None
    if not isinstance(header, dict):
        raise bad("its header is not a JSON object")
    body = memoryview(data)[8 + length:]
    tensors = {}
    for name, info in header.items():
        if name == "__metadata__":
            continue
        try:
            code, shape, (begin, end) = _SAFETENSORS_DTYPES[info["dtype"]], tuple(info["shape"]), info["data_offsets"]
        except (KeyError, TypeError, ValueError):
            raise bad(f"entry {name!r} has an unknown dtype or lacks dtype/shape/data_offsets: {info!r}") from None
        count = int(np.prod(shape, dtype=np.int64))
        if not 0 <= begin <= end <= len(body) or end - begin != count * np.dtype(code).itemsize:
            raise bad(f"entry {name!r} ({info['dtype']}, shape {list(shape)}) has data_offsets [{begin}, {end}], "
                      f"which do not fit its size or the {len(body)} data bytes (truncated?)")
        array = np.frombuffer(body[begin:end], dtype=code)
        if info["dtype"] == "BF16":                   # bfloat16 = the top half of a float32
            array = (array.astype(np.uint32) << 16).view(np.float32)
        tensors[name] = array.astype(array.dtype.newbyteorder("="), copy=True).reshape(shape)
    return tensors


# Other SE layouts, mapped to minise's: timm's SqueezeExcite names its 1×1 convolutions conv_reduce /
# conv_expand, the original SENet release calls the block se_module. minise: se.fc1 / se.fc2.
_RENAMES = ((".conv_reduce.", ".fc1."), (".conv_expand.", ".fc2."), (".se_module.", ".se."))


def convert_torch_state_dict(model, state_dict):
    """A PyTorch state dict (torchvision names) adjusted to ``model``: values as NumPy arrays, a
    DataParallel "module." prefix removed, timm's SE names mapped to fc1/fc2, 1×1-convolution SE
    weights (hidden, C, 1, 1) reshaped to Linear weights (hidden, C), num_batches_tracked fitted."""
    from .nn.state import NUM_BATCHES, as_array
    targets = {k: tuple(v.shape) for k, v in model.state_dict().items()}
    source = {k: as_array(v, k) for k, v in read_state_dict(state_dict).items()}
    if source and all(k.startswith("module.") for k in source) and not any(k.startswith("module.") for k in targets):
        source = {k[len("module."):]: v for k, v in source.items()}
    converted = {}
    for key, value in source.items():
        if key not in targets:
            renamed = "." + key
            for old, new in _RENAMES:
                renamed = renamed.replace(old, new)
            if renamed[1:] in targets:
                key = renamed[1:]
        shape = targets.get(key)
        if key.rsplit(".", 1)[-1] == NUM_BATCHES:
            if shape is None or value.size != 1:
                continue                                  # the model keeps its own count
            value = value.reshape(shape)
        elif shape is not None and len(shape) == 2 and value.shape == shape + (1, 1):
            value = value.reshape(shape)                  # 1×1 conv (out, in, 1, 1) -> Linear (out, in)
        converted[key] = value
    return converted


def load_torch_state_dict(model, state_dict_or_path, strict=True):
    """Load PyTorch weights (a dict of arrays or tensors, a ``.npz`` export or a ``.safetensors`` file)
    into ``model``; see :func:`convert_torch_state_dict` for what is adjusted. Returns
    (missing_keys, unexpected_keys) like ``load_state_dict``."""
    return model.load_state_dict(convert_torch_state_dict(model, state_dict_or_path), strict=strict)
