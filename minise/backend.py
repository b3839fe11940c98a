"""Where arrays live: NumPy on the CPU, CuPy on an NVIDIA GPU.

Every op in minise is written once, against ``xp``, the array module of its inputs::

    xp = get_array_module(x)          # numpy for host arrays, cupy for device arrays
    y = xp.maximum(x, 0)

Ops never read a global setting. Only code that *creates* arrays from nothing (parameter
initialisers, datasets, ``Tensor([1, 2, 3])``) asks for the default module, which you choose with

* ``minise.use_backend("cupy")``                 set it from here on, or
* ``with minise.use_backend("cupy"): ...``       set it for one block, or
* ``MINISE_BACKEND=cupy python train.py``        set it from the environment.

This is the only file in minise that imports CuPy. A stand-in device module (see
``minise.testing.strict_device``) can take CuPy's place with :func:`set_device_module`, so the device
path is tested on machines without a GPU.
"""
import os

import numpy as np

BACKENDS = ("numpy", "cupy")
DEVICES = {"numpy": "cpu", "cupy": "cuda"}
_INSTALL_HINT = ('install the build for the "CUDA Version" that nvidia-smi prints: pip install "minise[cuda12]" '
                 '(or minise[cuda11], minise[cuda13]; needs an NVIDIA GPU with a CUDA driver)')


class BackendError(RuntimeError):
    """The requested array backend cannot be used on this machine."""


_device_module = None        # cupy, or a stand-in installed with set_device_module()
_device_checked = False      # have we already tried to import cupy?


def _import_cupy():
    try:
        import cupy
    except ImportError as exc:
        raise BackendError(f"the 'cupy' backend needs CuPy, which is not installed; {_INSTALL_HINT}") from exc
    try:
        count = cupy.cuda.runtime.getDeviceCount()
    except Exception as exc:  # CUDARuntimeError when there is no driver
        raise BackendError(f"CuPy is installed but no CUDA device can be used ({exc}); "
                           "run on a machine with an NVIDIA GPU, or use the 'numpy' backend") from exc
    if count == 0:
        raise BackendError("CuPy is installed but this machine has no CUDA device; use the 'numpy' backend")
    return cupy


def device_module(required=True):
    """The device array module (CuPy or its stand-in); None if absent and not ``required``."""
    global _device_module, _device_checked
    if _device_module is None and not _device_checked:
        _device_checked = True
        try:
            _device_module = _import_cupy()
        except BackendError:
            if required:
                _device_checked = False
                raise
    if _device_module is None and required:
        _import_cupy()  # raises the explanatory error
    return _device_module


def set_device_module(module):
    """Use ``module`` as the device backend instead of CuPy; returns the previous one.

    The module must look like CuPy: an ``ndarray`` type, ``asarray``, ``asnumpy`` and NumPy's
    functions. Pass None to go back to looking for CuPy. Meant for tests and for teaching.
    """
    global _device_module, _device_checked
    previous = _device_module
    _device_module, _device_checked = module, module is not None
    return previous


def _is_device_array(a):
    return _device_module is not None and isinstance(a, _device_module.ndarray)


def get_array_module(*arrays):
    """The array module (``numpy`` or ``cupy``) of ``arrays``; numpy if none is a device array.

    Scalars and None are ignored. Mixing host and device arrays is the caller's error to report
    (see :func:`check_same_device`); this function answers with the device module if any array is
    on the device.
    """
    for a in arrays:
        if type(a) is np.ndarray or a is None:
            continue
        if _is_device_array(a):
            return _device_module
    return np


def device_of(a):
    """'cuda' for a device array, 'cpu' for everything else."""
    return "cuda" if _is_device_array(a) else "cpu"


def check_same_device(arrays, what="this operation"):
    """Raise a clear error if ``arrays`` mix host (NumPy) and device (CuPy) arrays."""
    devices = {device_of(a) for a in arrays if a is not None and not np.isscalar(a)}
    if len(devices) > 1:
        raise RuntimeError(f"{what} got arrays on different devices (cpu and cuda); move them to one "
                           "device first, e.g. tensor.to('cuda') or tensor.to('cpu')")


def to_numpy(a):
    """A NumPy array with the contents of ``a`` (copied from the device if needed)."""
    if _is_device_array(a):
        return _device_module.asnumpy(a)
    return np.asarray(a)


def to_device(a, device):
    """``a`` as an array on ``device`` ('cpu' or 'cuda'); no copy if it is already there."""
    if device in ("cpu", "numpy"):
        return to_numpy(a)
    if device in ("cuda", "cupy", "gpu"):
        return a if _is_device_array(a) else device_module().asarray(a)
    raise ValueError(f"unknown device {device!r}; expected 'cpu' or 'cuda'")


# -- the default module, for code that creates arrays ------------------------------------------

def _check_name(name):
    if name not in BACKENDS:
        raise ValueError(f"unknown backend {name!r}; expected one of {', '.join(BACKENDS)}")
    if name == "cupy":
        device_module()  # fail now, with the explanation, rather than at the first array
    return name


_current = None


def current_backend():
    """The name of the default backend: 'numpy' unless set by use_backend() or MINISE_BACKEND."""
    global _current
    if _current is None:
        name = os.environ.get("MINISE_BACKEND", "numpy").strip().lower() or "numpy"
        if name not in BACKENDS:
            raise ValueError(f"MINISE_BACKEND={name!r} is not a backend; expected one of {', '.join(BACKENDS)}")
        _current = _check_name(name)
    return _current


def default_module():
    """The array module that new arrays are created with (numpy or cupy)."""
    return device_module() if current_backend() == "cupy" else np


def default_device():
    """'cpu' or 'cuda': where new arrays are created."""
    return DEVICES[current_backend()]


class use_backend:
    """Choose the default backend: ``use_backend("cupy")`` sets it; as a context manager it
    restores the previous choice on exit::

        with minise.use_backend("cupy"):
            model = minise.models.se_resnet20()   # parameters created on the GPU
    """

    def __init__(self, name):
        global _current
        self.previous = current_backend()
        _current = _check_name(str(name).strip().lower())

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        global _current
        _current = self.previous
        return False
