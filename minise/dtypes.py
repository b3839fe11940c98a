"""PyTorch's dtype names as NumPy dtypes: ``minise.float32``, ``minise.long``, ``minise.bool``, ...

A minise Tensor's dtype is its array's NumPy dtype, so ``dtype=minise.long`` and
``dtype=np.int64`` mean the same thing.
"""
import numpy as np

float16 = half = np.dtype("float16")
float32 = float = np.dtype("float32")
float64 = double = np.dtype("float64")
int32 = int = np.dtype("int32")
int64 = long = np.dtype("int64")
uint8 = np.dtype("uint8")
bool = np.dtype("bool")

__all__ = ["bool", "double", "float", "float16", "float32", "float64", "half", "int", "int32", "int64", "long",
           "uint8"]
