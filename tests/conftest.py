"""Shared test setup: hypothesis profiles and the backend fixture.

Profiles (choose with HYPOTHESIS_PROFILE=...):
  ci        few examples, reproducible (derandomized): the default, for CI and quick runs
  dev       more examples, random
  thorough  many examples, random: run before a release or after touching an op

``pytest --gradcheck-report`` adds a table at the end: per op family, the hypothesis cases and
gradient checks run and the largest relative errors seen against finite differences and PyTorch
(tests/accuracy.py).
"""
import os
import pathlib

import numpy as np
import pytest

try:
    from hypothesis import HealthCheck, settings
except ImportError:                     # say what to install, not a traceback from deep in collection
    raise pytest.UsageError('the tests need hypothesis (and pytest): pip install "minise[test]", '
                            'or from a clone: pip install -e ".[test]"') from None

settings.register_profile("ci", max_examples=12, deadline=None, derandomize=True, print_blob=True,
                          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
settings.register_profile("dev", max_examples=60, deadline=None, print_blob=True,
                          suppress_health_check=[HealthCheck.too_slow])
settings.register_profile("thorough", max_examples=400, deadline=None, print_blob=True,
                          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))


def pytest_addoption(parser):
    parser.addoption("--gradcheck-report", action="store_true", default=False,
                     help="print, per op family, the gradient checks run and the largest relative errors "
                          "against finite differences and PyTorch (see tests/accuracy.py)")


def pytest_configure(config):
    if config.getoption("--gradcheck-report"):
        from accuracy import AccuracyReport
        config.pluginmanager.register(AccuracyReport(), "gradcheck-report")


SOLUTIONS = pathlib.Path(__file__).resolve().parent / "exercise_solutions"


@pytest.fixture
def reference_solutions():
    """The folder of the exercises' reference solutions; the test skips where they are absent (the
    source distribution leaves the answer key out)."""
    if not any(SOLUTIONS.glob("*.py")):
        pytest.skip("the exercises' reference solutions are not here (left out of the source distribution)")
    return SOLUTIONS


@pytest.fixture
def planted_solutions():
    """The folder of the planted wrong solutions; the test skips where they are absent (the source
    distribution leaves them out too: each is one bug away from the answer key)."""
    if not any((SOLUTIONS / "wrong").glob("*.py")):
        pytest.skip("the exercises' planted wrong solutions are not here (left out of the source distribution)")
    return SOLUTIONS / "wrong"


class Backend:
    """Moves test data to one backend and back: 'numpy', 'strict' (the CuPy stand-in) or 'cupy'."""

    def __init__(self, name, module):
        self.name, self.xp = name, module
        self.device = "cpu" if name == "numpy" else "cuda"      # where minise says the data lives

    def asarray(self, a):
        a = np.asarray(a)
        return a if self.name == "numpy" else self.xp.asarray(a)

    def to_numpy(self, a):
        from minise.backend import to_numpy
        return to_numpy(a)


@pytest.fixture(params=["numpy", "strict", pytest.param("cupy", marks=pytest.mark.gpu)])
def device_backend(request):
    """Run a test on NumPy, again on the strict device stand-in, and (where CuPy sees a CUDA
    device; skipped elsewhere) on the real CuPy."""
    if request.param == "numpy":
        yield Backend("numpy", np)
        return
    if request.param == "cupy":
        from minise import backend
        previous = backend.set_device_module(None)          # look for the real CuPy
        try:
            yield Backend("cupy", backend.device_module())
        finally:
            backend.set_device_module(previous)
        return
    from minise.testing import strict_device
    with strict_device.enabled():
        yield Backend("strict", strict_device.module)


def pytest_collection_modifyitems(config, items):
    """Real-GPU tests run only where CuPy sees a CUDA device."""
    try:
        from minise.backend import device_module
        have_gpu = device_module(required=False) is not None
    except Exception:
        have_gpu = False
    if have_gpu:
        return
    skip = pytest.mark.skip(reason="needs CuPy and a CUDA device")
    for item in items:
        if "gpu" in item.keywords:
            item.add_marker(skip)
