"""Weights trained with PyTorch: read from a dict, an ``.npz`` export or a ``.safetensors`` file.

    minise.io.load_torch_state_dict(model, "resnet.safetensors")

PyTorch's own ``.pt`` files are pickles, and unpickling can run code: they are refused, with the
one line that exports them instead.
"""
import os

from .arrays import NUM_BATCHES, as_array
from .npz import load
from .safetensors import load_safetensors


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


# Other SE layouts, mapped to minise's: timm's SqueezeExcite names its 1×1 convolutions conv_reduce /
# conv_expand, the original SENet release calls the block se_module. minise: se.fc1 / se.fc2.
_RENAMES = ((".conv_reduce.", ".fc1."), (".conv_expand.", ".fc2."), (".se_module.", ".se."))


def convert_torch_state_dict(model, state_dict):
    """A PyTorch state dict (torchvision names) adjusted to ``model``: values as NumPy arrays, a
    DataParallel "module." prefix removed, timm's SE names mapped to fc1/fc2, 1×1-convolution SE
    weights (hidden, C, 1, 1) reshaped to Linear weights (hidden, C), num_batches_tracked fitted."""
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
