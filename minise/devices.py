"""PyTorch's device vocabulary, as far as minise has devices: ``minise.device``, ``minise.cuda``,
``minise.accelerator`` and ``minise.backends``, so a script's first lines run unchanged::

    device = minise.device("cuda" if minise.cuda.is_available() else "cpu")
    device = minise.accelerator.current_accelerator().type if minise.accelerator.is_available() else "cpu"
    model.to(device); x = x.to(device)

minise has two devices, 'cpu' (NumPy) and 'cuda' (CuPy, one GPU). ``minise.device("cuda:0")`` is
the string ``'cuda'``; every ``to(...)`` takes either. Random numbers come from one generator on the
host for both devices, so ``cuda.manual_seed`` and ``manual_seed_all`` are ``minise.manual_seed``.
minise's ops do not use cuDNN and give the same result on every run: the ``backends.cudnn`` flags
are there to be set and change nothing.
"""
import types

from . import backend, rng

__all__ = ["device", "device_name", "cuda", "accelerator", "backends"]


def device_name(spec):
    """'cpu' or 'cuda' for ``spec``: 'cpu', 'cuda', 'cuda:0', a :class:`device` (or PyTorch's)."""
    text = str(getattr(spec, "type", spec)) if not isinstance(spec, str) else spec
    index = getattr(spec, "index", None) if not isinstance(spec, str) else None
    kind, _, number = text.partition(":")
    if kind in ("numpy", "cupy", "gpu"):                 # minise's backend names
        kind = "cpu" if kind == "numpy" else "cuda"
    if kind not in ("cpu", "cuda") or (number and not number.isdigit()):
        raise ValueError(f"unknown device {spec!r}; expected 'cpu' or 'cuda' (or 'cuda:0')")
    number = int(number) if number else index
    if kind == "cuda" and number not in (None, 0):
        raise ValueError(f"device {spec!r}: minise uses one GPU, 'cuda' (= 'cuda:0')")
    return kind


class device(str):
    """PyTorch's ``torch.device``: ``minise.device("cuda")``, ``minise.device("cuda", 0)``,
    ``minise.device("cpu")``. It is the device's name as a string ('cpu' or 'cuda'), with
    ``.type`` and ``.index`` as in PyTorch."""

    def __new__(cls, type, index=None):
        name = device_name(type if index is None else f"{type}:{index}")
        self = super().__new__(cls, name)
        self.index = 0 if name == "cuda" else None
        return self

    @property
    def type(self):
        return str(self)

    def __repr__(self):
        return f"device(type={str(self)!r}" + (f", index={self.index})" if self.index is not None else ")")


def _is_available():
    """True when a device backend can be used: CuPy with a CUDA device (or the stand-in of the tests)."""
    return backend.device_module(required=False) is not None


def _device_count():
    """How many CUDA devices CuPy sees (0 without CuPy or a device); minise uses the first."""
    module = backend.device_module(required=False)
    if module is None:
        return 0
    runtime = getattr(getattr(module, "cuda", None), "runtime", None)
    return int(runtime.getDeviceCount()) if runtime is not None else 1


cuda = types.SimpleNamespace(
    is_available=_is_available, device_count=_device_count,
    manual_seed=rng.manual_seed, manual_seed_all=rng.manual_seed,
    __doc__="PyTorch's torch.cuda, as far as minise needs it: is_available(), device_count(), manual_seed(_all).")

accelerator = types.SimpleNamespace(
    is_available=_is_available, device_count=_device_count,
    current_accelerator=lambda: device("cuda") if _is_available() else None,
    __doc__="PyTorch's torch.accelerator: minise's one accelerator is a CUDA GPU (through CuPy).")

backends = types.SimpleNamespace(
    cudnn=types.SimpleNamespace(deterministic=False, benchmark=False, enabled=True,
                                __doc__="Flags PyTorch scripts set; minise uses no cuDNN: they change nothing."),
    mps=types.SimpleNamespace(is_available=lambda: False, is_built=lambda: False,
                              __doc__="Apple's GPUs: minise runs on them only as a CPU."),
    __doc__="PyTorch's torch.backends, as far as scripts ask it: cudnn's flags (which change nothing in minise) "
            "and mps (never available).")
