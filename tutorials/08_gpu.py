# %% [markdown]
# # 8. GPUs: one op, two array libraries
#
# CuPy is NumPy's twin for NVIDIA GPUs: `cupy.exp`, `cupy.matmul`, the same broadcasting, the same
# slicing, but the arrays live in GPU memory. minise writes every op **once**, against `xp`, the
# array module of its inputs:
#
#     xp = get_array_module(x)        # numpy for host arrays, cupy for device arrays
#     y = xp.maximum(x, 0)
#
# This lesson shows the switch, how to write an op that works on both, and what breaks on a GPU.
# It runs everywhere: where there is no GPU it uses minise's *strict stand-in* for CuPy.

# %%
import os

import numpy as np

import minise
import minise.functional as F
from minise import Tensor, backend
from minise.backend import get_array_module
from minise.testing import strict_device

FAST = os.environ.get("MINISE_FAST") == "1"          # nothing to shrink: this lesson is quick
found = backend.device_module(required=False)                # CuPy, if it can see a GPU
HAVE_GPU = found is not None and found is not strict_device.module
print("a real GPU with CuPy:", HAVE_GPU)

# %% [markdown]
# ## The switch
#
# Ops never read a global setting; they look at their data. Only code that *creates* arrays from
# nothing (parameter initialisers, datasets, `Tensor([1, 2])`) asks for the default, set with
# `minise.use_backend("cupy")` (or `MINISE_BACKEND=cupy`). On a GPU machine:
#
#     with minise.use_backend("cupy"):
#         model = minise.models.se_resnet20()      # parameters created on the GPU
#     logits = model(Tensor(x).to("cuda"))         # data moved explicitly
#
# Without a GPU, `strict_device.enabled()` installs the stand-in in CuPy's place, so the very
# same code path runs:

# %%
with strict_device.enabled():
    x = Tensor(np.random.default_rng(0).standard_normal((2, 3, 8, 8)), requires_grad=True).to("cuda")
    w = Tensor(np.random.default_rng(1).standard_normal((4, 3, 3, 3)), requires_grad=True)
    wd = w.to("cuda")
    y = F.conv2d(x, wd, padding=1)
    y.sum().backward()
    print("x on", x.device, "| y on", y.device, "| y's array type:", type(y.data).__name__)
    print("w.grad (host leaf, gradient came back through .to()):", w.grad.shape, type(w.grad).__name__)
    assert x.device == y.device == "cuda" and backend.device_of(w.grad) == "cpu" and w.grad.shape == w.shape

# %% [markdown]
# ## Writing an op once
#
# The rules that make an op portable:
#
# 1. `xp = get_array_module(*inputs)`, then only `xp.*` functions and array methods.
# 2. Never `np.asarray(x)`, `float(x)`, `x.tolist()` on op data: on a GPU each is a silent copy
#    to the host (CuPy refuses the implicit ones) and a synchronisation.
# 3. Never mix host and device arrays: `x + np.ones(3)` fails on CuPy. Build constants with xp.
# 4. Avoid what CuPy lacks or makes slow: `np.add.at` in a loop (use strided slice-adds, as the
#    convolution and pooling backwards do), per-element Python loops, NumPy-2-only aliases.
#
# Here is a Leaky-ReLU written wrong, then right:

# %%
class LeakyReLUFunctionHostOnly(minise.Function):
    def forward(self, x):
        self.save_for_backward(x=x)
        return np.where(np.asarray(x) > 0, x, 0.1 * x)             # np.asarray: host only

    def backward(self, gy):
        return (gy * np.where(self.saved.x > 0, 1.0, 0.1),)


class LeakyReLUFunction(minise.Function):
    """y = x for x > 0, 0.1·x otherwise.   Backward: gx = gy · (1 or 0.1)."""

    def forward(self, x):
        xp = get_array_module(x)
        self.save_for_backward(positive=x > 0)
        return xp.where(x > 0, x, 0.1 * x)

    def backward(self, gy):
        xp = get_array_module(gy)
        return (gy * xp.where(self.saved.positive, 1.0, 0.1).astype(gy.dtype),)


data = np.random.default_rng(2).standard_normal((3, 4))
ran = {}
for op in (LeakyReLUFunctionHostOnly, LeakyReLUFunction):
    with strict_device.enabled() as xp:
        try:
            t = Tensor(xp.asarray(data), requires_grad=True)
            op()(t).sum().backward()
            ran[op.__name__] = backend.device_of(t.grad)
            print(f"{op.__name__:>25}: ran on the device, grad on {ran[op.__name__]}")
        except TypeError as error:
            print(f"{op.__name__:>25}: {type(error).__name__}: {str(error)[:90]}...")
assert ran == {"LeakyReLUFunction": "cuda"}                    # the host-only op was refused, the portable one ran

# %% [markdown]
# The stand-in refused the hidden host conversion, exactly as CuPy would, on a machine without a
# GPU. That is why minise's test suite runs every op twice (the `device_backend` fixture: NumPy,
# then the strict stand-in): a CuPy incompatibility fails a test on any laptop, long before
# anyone reaches a GPU.
#
# And the portable op is just as checkable as any other:

# %%
print(minise.gradcheck(lambda t: LeakyReLUFunction()(t), [Tensor(data + 0.05 * np.sign(data), requires_grad=True)], seed=0))

# %% [markdown]
# ## What the stand-in does not tell you
#
# Speed (kernel launches, memory bandwidth), float32 rounding differences on the GPU, memory
# limits, and the random streams (CuPy draws other numbers from the same seed) are only seen on
# real hardware. On a GPU machine, install CuPy for the "CUDA Version" that `nvidia-smi` prints
# (`pip install "minise[cuda12]"`, or `cuda11`, `cuda13`) and run the tests: the ones marked `gpu`
# then run on CuPy itself.

# %%
if HAVE_GPU:
    with minise.use_backend("cupy"):
        t = Tensor(data, dtype="float32").to("cuda")
        on_gpu = LeakyReLUFunction()(t)
        print("on the real GPU:", on_gpu.device)
        assert on_gpu.device == "cuda" and np.allclose(on_gpu.to("cpu").data, np.where(data > 0, data, 0.1 * data),
                                                       rtol=1e-6)
