"""What a module holds, taken as a whole: its state dict (saved, loaded), the device and dtype of
its arrays, its mode (train or eval) and its gradients.

:class:`ModuleState` is a part of :class:`~minise.nn.module.Module` kept in a file of its own: the
methods here act on everything the module tree holds, found through ``modules()``,
``parameters()`` and ``named_modules()``, which ``module.py`` defines. Loading checks and copies
through ``state.py``: every mismatch reported at once, values written in place.
"""
from collections import namedtuple
from collections.abc import Mapping

from .. import backend
from ..devices import device_name
from ..io import read_state_dict
from ..tensor import Tensor
from .state import check_state_dict, copy_state_into


class IncompatibleKeys(namedtuple("IncompatibleKeys", ["missing_keys", "unexpected_keys"])):
    """What ``load_state_dict`` returns: the keys it missed and the ones it did not know (PyTorch's)."""

    def __repr__(self):
        if not self.missing_keys and not self.unexpected_keys:
            return "<All keys matched successfully>"
        return super().__repr__()


class ModuleState:
    """The whole-module methods of :class:`~minise.nn.module.Module` (see the module docstring)."""

    # -- modes, gradients, devices --------------------------------------------------------------
    def train(self, mode=True):
        """Training mode (BatchNorm uses batch statistics) for this module and all below it."""
        if not isinstance(mode, bool):
            raise TypeError(f"train(mode) takes a bool, got {type(mode).__name__}")
        for m in self.modules():
            object.__setattr__(m, "training", mode)
        return self

    def eval(self):
        """Evaluation mode (BatchNorm uses its running statistics); same as ``train(False)``."""
        return self.train(False)

    def zero_grad(self, set_to_none=True):
        """Forget the gradients of every parameter (``grad = None``, or zeros with set_to_none=False)."""
        for p in self.parameters():
            if p.grad is None:
                continue
            if set_to_none:
                p.grad = None
            else:
                p.grad = backend.get_array_module(p.grad).zeros_like(p.grad)

    def requires_grad_(self, requires_grad=True):
        for p in self.parameters():
            p.requires_grad_(requires_grad)
        return self

    def to(self, device=None, dtype=None):
        """Move every parameter and buffer to ``device`` ('cpu' or 'cuda') and/or cast floating ones to
        ``dtype``, in place: the Parameter objects stay the same (optimizers holding them keep working),
        only their ``.data`` (and ``.grad``) are replaced. ``model.to("cuda")``, ``model.to(dtype="float64")``.
        """
        if device is not None and not isinstance(getattr(device, "type", device), str):     # model.to(np.float64)
            device, dtype = None, device
        if device is not None:
            device = device_name(device)                    # 'cpu', 'cuda', 'cuda:0', minise.device(...)

        def convert(a):
            if a is None:
                return None
            if device is not None:
                a = backend.to_device(a, device)
            if dtype is not None and a.dtype.kind == "f":
                a = a.astype(dtype, copy=False)
            return a

        for m in self.modules():
            for p in m._parameters.values():
                if p is not None:
                    p.data, p.grad = convert(p.data), convert(p.grad)
            for name, b in m._buffers.items():
                m._buffers[name] = convert(b)
        return self

    def cpu(self):
        return self.to("cpu")

    def cuda(self):
        return self.to("cuda")

    def float(self):
        return self.to(dtype="float32")

    def double(self):
        return self.to(dtype="float64")

    # -- state -----------------------------------------------------------------------------------
    def state_dict(self):
        """Every parameter and buffer by dotted name -> its array (NumPy or device), not a copy:
        ``{name: a.copy() for name, a in model.state_dict().items()}`` snapshots it. Shared
        parameters appear under every name (as in PyTorch)."""
        state = {}
        for prefix, module in self.named_modules(remove_duplicate=False):
            for store in (module._parameters, module._buffers):
                for name, value in store.items():
                    if value is not None:
                        state[f"{prefix}.{name}" if prefix else name] = value.data if isinstance(value, Tensor) \
                            else value
        return state

    def load_state_dict(self, state_dict, strict=True):
        """Copy arrays from ``state_dict`` into this module's parameters and buffers, in place, keeping
        each one's device and dtype. Raises :class:`~minise.nn.state.StateDictError` that lists every
        missing key, unexpected key and shape mismatch at once (missing and unexpected keys are
        tolerated with ``strict=False``; shape mismatches never are). Returns (missing_keys,
        unexpected_keys). A file path is accepted too (``.npz`` or ``.safetensors``)."""
        if isinstance(state_dict, Mapping) and not isinstance(state_dict, dict):
            state_dict = dict(state_dict)                # an open np.load(...) archive, a MappingProxy
        if not isinstance(state_dict, dict):
            state_dict = read_state_dict(state_dict)
        targets = self.state_dict()
        missing, unexpected = check_state_dict(targets, state_dict, strict, type(self).__name__)
        for name, target in targets.items():
            if name in state_dict:
                copy_state_into(target, state_dict[name], name)
        return IncompatibleKeys(missing, unexpected)
