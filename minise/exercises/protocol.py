"""The messages between the grader and a solution's process: length-prefixed, no pickle, no code.

A message is an 8-byte length, a 4-byte header length, a JSON header, then the raw bytes of the
arrays the header lists (dtype and shape each). Both sides use these functions; the grader
checks every message it receives (sizes, dtypes, shapes) and trusts nothing else in it.
"""
import json
import struct

import numpy as np

MAX_HEADER = 1 << 16          # bytes of JSON header: a few hundred in every message either side sends
ARRAY_DTYPES = frozenset(np.dtype(t).str for t in
                         ("f2", "f4", "f8", "i1", "i2", "i4", "i8", "u1", "u2", "u4", "u8", "?"))


def pack(meta, arrays=()):
    arrays = [np.asarray(a) for a in arrays]
    meta = dict(meta, arrays=[[a.dtype.str, list(a.shape)] for a in arrays])
    head = json.dumps(meta).encode()
    body = b"".join([struct.pack(">I", len(head)), head] + [a.tobytes() for a in arrays])
    return struct.pack(">Q", len(body)) + body


def unpack(body):
    """(meta, arrays) from a message body; arrays are read-only views of it. ValueError (or
    UnicodeDecodeError, a kind of it) if malformed, whatever the bytes."""
    if len(body) < 4:
        raise ValueError("a message too short")
    size = struct.unpack(">I", body[:4])[0]
    if size > MAX_HEADER:
        raise ValueError(f"a header of {size} bytes")
    try:
        meta = json.loads(body[4:4 + size].decode())
    except RecursionError:                            # nested deeper than any real header
        raise ValueError("a header nested too deep") from None
    if not isinstance(meta, dict) or not isinstance(meta.get("arrays"), list):
        raise ValueError("a message without its header")
    arrays, offset = [], 4 + size
    for item in meta.pop("arrays"):
        if not (isinstance(item, list) and len(item) == 2 and item[0] in ARRAY_DTYPES and isinstance(item[1], list)
                and len(item[1]) <= 8 and all(type(d) is int and 0 <= d < 1 << 31 for d in item[1])):
            raise ValueError(f"an array of an unexpected kind: {str(item)[:80]}")
        dtype, shape = np.dtype(item[0]), tuple(item[1])
        count = int(np.prod(shape, dtype=np.int64))
        if offset + count * dtype.itemsize > len(body):
            raise ValueError("a message shorter than its header says")
        arrays.append(np.frombuffer(body, dtype, count, offset).reshape(shape))
        offset += count * dtype.itemsize
    if offset != len(body):
        raise ValueError("a message longer than its header says")
    return meta, arrays


def read_message(read):
    """The next message's body via ``read(n)``, or None at the end of the stream."""
    head = read(8)
    if len(head) < 8:
        return None
    return read(struct.unpack(">Q", head)[0])


def as_array(value, what):
    """A numeric NumPy array, or a ValueError naming what the solution returned instead."""
    if isinstance(value, np.ndarray) and value.dtype.str in ARRAY_DTYPES:
        return np.asarray(value)
    if isinstance(value, (int, float, np.generic)) and not isinstance(value, bool) \
            and np.asarray(value).dtype.str in ARRAY_DTYPES:
        return np.asarray(value)
    kind = type(value).__name__ if not isinstance(value, np.ndarray) else f"an array of dtype {value.dtype}"
    raise ValueError(f"{what} is {kind}, expected a NumPy array of numbers")
