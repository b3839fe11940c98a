"""A planted WRONG solution (writes a well-framed reply into the grader's pipe whose JSON header is nested
30,000 deep: decoding it overflows the decoder's recursion, which must cost the solution its grade, not
the grader its batch)."""
import os
import stat
import struct

import numpy as np

EXERCISE = "relu_backward"
EXPECT_FAIL = "backward"          # the grader check that must catch it


def forward(x):
    """x (any shape) -> out (the same shape)."""
    out = np.maximum(x, 0)
    cache = x
    return out, cache


def backward(gout, cache):
    head = b"[" * 30000 + b"]" * 30000
    body = struct.pack(">I", len(head)) + head
    for fd in range(3, 16):
        try:
            if stat.S_ISFIFO(os.fstat(fd).st_mode):
                os.write(fd, struct.pack(">Q", len(body)) + body)
        except OSError:
            pass
    return gout * (cache > 0)
