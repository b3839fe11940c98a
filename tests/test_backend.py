"""The NumPy/CuPy switch: choosing a backend, moving tensors, refusing to mix devices."""
import os
import subprocess
import sys

import numpy as np
import pytest

import minise
from minise import Tensor, backend
from minise.testing import strict_device


def test_numpy_is_the_default():
    assert backend.current_backend() == "numpy"
    assert backend.default_module() is np
    assert backend.get_array_module(np.ones(2), None, 3.0) is np


def test_unknown_backend_name_lists_the_choices():
    with pytest.raises(ValueError, match="'tpu'.*numpy, cupy"):
        minise.use_backend("tpu")


def test_asking_for_cupy_without_it_says_how_to_install(monkeypatch):
    monkeypatch.setattr(backend, "_device_module", None)
    monkeypatch.setattr(backend, "_device_checked", False)
    monkeypatch.setitem(sys.modules, "cupy", None)                  # as if CuPy were not installed
    with pytest.raises(backend.BackendError, match=r'pip install "minise\[cuda12\]"'):
        minise.use_backend("cupy")
    assert backend.current_backend() == "numpy"


@pytest.mark.parametrize("runtime_says", ["no driver", 0])
def test_cupy_without_a_cuda_device_is_a_clear_error(monkeypatch, runtime_says):
    """CuPy installed on a machine with no usable GPU: one BackendError naming what is missing."""
    import types

    def get_device_count():
        if runtime_says == "no driver":
            raise RuntimeError("cudaErrorNoDevice: no CUDA-capable device is detected")
        return runtime_says

    fake = types.ModuleType("cupy")
    fake.cuda = types.SimpleNamespace(runtime=types.SimpleNamespace(getDeviceCount=get_device_count))
    monkeypatch.setattr(backend, "_device_module", None)
    monkeypatch.setattr(backend, "_device_checked", False)
    monkeypatch.setitem(sys.modules, "cupy", fake)
    with pytest.raises(backend.BackendError, match="CuPy is installed but .*CUDA device.*'numpy' backend"):
        minise.use_backend("cupy")
    with pytest.raises(backend.BackendError, match="CUDA device"):
        Tensor(np.ones(2)).to("cuda")
    assert backend.current_backend() == "numpy"


def test_no_module_but_backend_imports_cupy():
    import pathlib
    import re
    root = pathlib.Path(minise.__file__).parent
    importing = sorted(str(path.relative_to(root)) for path in root.rglob("*.py")
                       if re.search(r"^\s*(import cupy|from cupy)", path.read_text(encoding="utf-8"), re.M))
    assert importing == ["backend.py"]


def test_environment_variable_chooses_the_backend():
    code = "import minise; print(minise.backend.current_backend())"
    env = dict(os.environ, MINISE_BACKEND="numpy")
    result = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True)
    assert result.stdout.strip() == "numpy"
    env["MINISE_BACKEND"] = "fortran"
    result = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True)
    assert result.returncode != 0 and "MINISE_BACKEND='fortran'" in result.stderr


def test_use_backend_is_a_setter_and_a_context_manager():
    with strict_device.enabled(default=False):
        with minise.use_backend("cupy"):
            assert backend.current_backend() == "cupy"
            assert Tensor([1.0, 2.0]).device == "cuda"                  # Python data goes to the default
            assert Tensor(np.ones(2)).device == "cpu"                    # a NumPy array stays on the host
        assert backend.current_backend() == "numpy"
        minise.use_backend("cupy")
        try:
            assert Tensor([1.0]).device == "cuda"
        finally:
            minise.use_backend("numpy")


def test_to_moves_a_tensor_and_gradients_flow_back():
    with strict_device.enabled():
        x = Tensor(np.array([1.0, 2.0, 3.0]), requires_grad=True)
        y = x.to("cuda")
        assert y.device == "cuda" and isinstance(y.data, strict_device.ndarray)
        (y * y).sum().backward()
        assert x.device == "cpu" and isinstance(x.grad, np.ndarray)
        np.testing.assert_allclose(x.grad, [2.0, 4.0, 6.0])
        assert y.to("cuda") is y
        np.testing.assert_allclose(y.numpy(), [1.0, 2.0, 3.0])        # numpy() copies to the host


def test_mixing_host_and_device_tensors_is_a_clear_error():
    with strict_device.enabled():
        host = Tensor(np.ones(2))
        device = host.to("cuda")
        with pytest.raises(RuntimeError, match="different devices.*to\\('cuda'\\)"):
            host + device


def test_the_stand_in_refuses_implicit_conversion():
    with strict_device.enabled():
        t = Tensor(np.ones(2)).to("cuda")
        with pytest.raises(TypeError, match="Implicit conversion"):
            np.asarray(t.data)
        np.testing.assert_allclose(backend.to_numpy(t.data), [1.0, 1.0])


def test_unknown_device_is_named():
    with pytest.raises(ValueError, match="'tpu'"):
        Tensor(np.ones(1)).to("tpu")


@pytest.mark.gpu
def test_real_cupy_round_trip():
    """Runs only where CuPy and a CUDA device are present."""
    import cupy
    previous = backend.set_device_module(None)
    try:
        x = Tensor(np.arange(6.0).reshape(2, 3), requires_grad=True)
        y = x.to("cuda")
        assert isinstance(y.data, cupy.ndarray)
        (y.exp() * 2).sum().backward()
        np.testing.assert_allclose(x.grad, 2 * np.exp(x.data), rtol=1e-12)
        inputs = [Tensor(cupy.asarray(np.random.randn(2, 3)), requires_grad=True)]
        assert minise.gradcheck(lambda t: (t @ t.T).exp(), inputs)
    finally:
        backend.set_device_module(previous)
