"""What a saved value can be: an array of numbers, from NumPy, CuPy, a minise Tensor or PyTorch.

``as_array`` turns any of them into an array without importing torch; ``to_host`` gives the NumPy
copy that goes into a file.
"""
import numpy as np

from ..backend import to_numpy
from ..tensor import Tensor

NUM_BATCHES = "num_batches_tracked"      # BatchNorm's step count; older checkpoints lack it


def is_torch_tensor(value):
    return hasattr(value, "detach") and hasattr(value, "cpu") and hasattr(value, "numpy")


def is_array(value):
    """True for Tensors, NumPy and device arrays and PyTorch tensors (not for NumPy scalars)."""
    if isinstance(value, (Tensor, np.ndarray)) or is_torch_tensor(value):
        return True
    return hasattr(value, "shape") and hasattr(value, "dtype") and not isinstance(value, np.generic)


def as_array(value, name="value"):
    """A state-dict value as an array: Tensors give their data, PyTorch tensors a NumPy copy."""
    if isinstance(value, Tensor):
        return value.data
    if is_torch_tensor(value):
        value = value.detach().cpu()
        if str(value.dtype) == "torch.bfloat16":                      # NumPy has no bfloat16
            value = value.float()
        return value.numpy()
    if hasattr(value, "dtype") and hasattr(value, "shape"):
        return value
    if isinstance(value, (int, float, bool, np.generic)):
        return np.asarray(value)
    raise TypeError(f"state dict entry {name!r} is a {type(value).__name__}; expected an array or Tensor")


def to_host(value, name):
    """The NumPy array to store for ``value`` (device arrays are copied to the host)."""
    array = np.asarray(to_numpy(as_array(value, name)), order="C")
    if array.dtype.kind not in "biufc":
        raise TypeError(f"save: {name!r} has dtype {array.dtype}; only number and bool arrays can be saved")
    return array
