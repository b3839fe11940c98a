"""Saving and loading: minise's ``.npz`` format, atomic writes, and weights trained with PyTorch.

    minise.save(model.state_dict(), "model.npz")          # name -> array, written atomically
    model.load_state_dict(minise.load("model.npz"))
    minise.save({"model": model.state_dict(), "optimizer": opt.state_dict(), "epoch": 3}, "ckpt.npz")
    minise.io.load_torch_state_dict(model, "resnet.safetensors")   # weights trained with PyTorch

Files never run code when loaded (no pickle), and a crash mid-write never leaves half a file.

    npz.py          the format: flat state dicts and nested checkpoints, checked before reading
    atomic.py       the one atomic writer (temporary file, fsync, rename)
    arrays.py       what counts as an array (NumPy, CuPy, Tensor, torch.Tensor)
    safetensors.py  reading .safetensors without torch
    torch.py        PyTorch state dicts adjusted to minise's models
"""
from .arrays import NUM_BATCHES, as_array
from .atomic import atomic_write, copy_file, remove_stale_temporaries
from .npz import FileFormatError, load, save
from .safetensors import load_safetensors
from .torch import convert_torch_state_dict, load_torch_state_dict, read_state_dict

__all__ = ["save", "load", "FileFormatError", "atomic_write", "copy_file", "remove_stale_temporaries",
           "load_safetensors", "read_state_dict", "convert_torch_state_dict", "load_torch_state_dict",
           "as_array", "NUM_BATCHES"]
