"""Reading ``.safetensors`` files (the format PyTorch users share weights in) without torch.

The format: 8 bytes, a little-endian unsigned length n; n bytes of JSON mapping each name to
{"dtype": "F32", "shape": [...], "data_offsets": [begin, end]} (plus an optional "__metadata__");
then the raw little-endian data, offsets counted from its start. Nothing in it is executable.
"""
import json
import os
import struct

import numpy as np

_SAFETENSORS_DTYPES = {"F64": "<f8", "F32": "<f4", "F16": "<f2", "BF16": "<u2", "I64": "<i8", "I32": "<i4",
                       "I16": "<i2", "I8": "i1", "U64": "<u8", "U32": "<u4", "U16": "<u2", "U8": "u1", "BOOL": "?"}


def load_safetensors(path):
    """Read a ``.safetensors`` file: name -> NumPy array (bfloat16 becomes float32)."""
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
