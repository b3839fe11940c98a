"""PyTorch's dtype names as NumPy dtypes: ``minise.float32``, ``minise.long``, ``minise.bool``, ...

A minise Tensor's dtype is its array's NumPy dtype, so ``dtype=minise.long`` and
``dtype=np.int64`` mean the same thing.
"""
import numpy as np

float16 = half = np.dtype("float16")
float32 = float = np.dtype("float32")           # noqa: A001  (PyTorch's names, on purpose)
float64 = double = np.dtype("float64")
int32 = int = np.dtype("int32")                 # noqa: A001
int64 = long = np.dtype("int64")
uint8 = np.dtype("uint8")
bool = np.dtype("bool")                         # noqa: A001

__all__ = ["float16", "half", "float32", "float", "float64", "double", "int32", "int", "int64", "long", "uint8",
           "bool"]
