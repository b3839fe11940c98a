"""Where the time of one training step goes: per op and pass (forward, backward), minise and PyTorch.

    python benchmarks/profile_step.py                 # se_resnet20, batch 64, 3×32×32, every core
    python benchmarks/profile_step.py --size 28 --in-channels 1 --threads 1

minise: every op's forward and backward are wrapped with a clock (wall time, summed over the
timed steps, shown per step); inside the convolutions, the im2col copies and the matrix products
are clocked too (summed over the threads that ran them, so on several threads they may add up to
more than the convolution's wall time). What no op accounts for (the backward engine, the
optimizer, Python between ops) is the last line. PyTorch: its profiler's self CPU time per
operator (summed over its threads as well).
"""
import argparse
import collections
import os
import sys
import time

parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
parser.add_argument("--size", type=int, default=32, help="image height and width (default 32)")
parser.add_argument("--in-channels", type=int, default=3, help="input channels (default 3)")
parser.add_argument("--batch", type=int, default=64)
parser.add_argument("--steps", type=int, default=5, help="timed steps (default 5)")
parser.add_argument("--threads", type=int, default=None, help="threads for both libraries (default: every core)")
parser.add_argument("--no-torch", action="store_true")
ARGS = parser.parse_args()
THREADS = ARGS.threads or (len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count())
for _variable in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[_variable] = str(THREADS)              # before NumPy (and its BLAS) is loaded

import numpy as np  # noqa: E402

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
import minise  # noqa: E402
from minise import Tensor  # noqa: E402
from minise import functional as F  # noqa: E402
from minise.function import Function  # noqa: E402
from minise.functional import conv_fast, conv_im2col  # noqa: E402

minise.allocator.tune_malloc()
minise.parallel.set_num_threads(THREADS)
SECONDS = collections.defaultdict(float)             # (what, pass) -> seconds over the timed steps


def clocked(function, key):
    def run(*args, **kwargs):
        start = time.perf_counter()
        try:
            return function(*args, **kwargs)
        finally:
            SECONDS[key] += time.perf_counter() - start
    return run


def op_classes(base=Function):
    for cls in base.__subclasses__():
        yield cls
        yield from op_classes(cls)


class ClockedNumpy:
    """NumPy with its matmul clocked: the array module the convolutions get (host arrays only)."""

    matmul = staticmethod(clocked(np.matmul, ("  conv: matrix products", "inside")))

    def __getattr__(self, name):
        return getattr(np, name)


def clock_everything():
    """Every op's forward and backward, and inside the convolutions im2col, col2im and matmul."""
    for cls in set(op_classes()):
        for name in ("forward", "backward"):
            if name in vars(cls):
                setattr(cls, name, clocked(vars(cls)[name], (cls.__name__.removesuffix("Function"), name)))
    conv_im2col.im2col = conv_fast.im2col = clocked(conv_im2col.im2col, ("  conv: im2col copies", "inside"))
    conv_fast.col2im = clocked(conv_im2col.col2im, ("  conv: col2im", "inside"))
    numpy_clocked = ClockedNumpy()
    for module in (conv_im2col, conv_fast):
        module.get_array_module = lambda *arrays: numpy_clocked


def minise_profile(x, labels):
    minise.manual_seed(0)
    model = minise.models.se_resnet20(in_channels=ARGS.in_channels)
    optimizer = minise.optim.SGD(model.parameters(), lr=0.01, momentum=0.9, weight_decay=5e-4)

    def step():
        optimizer.zero_grad()
        F.cross_entropy(model(Tensor(x)), Tensor(labels)).backward()
        optimizer.step()
    for _ in range(2):
        step()
    clock_everything()
    SECONDS.clear()
    start = time.perf_counter()
    for _ in range(ARGS.steps):
        step()
    total = (time.perf_counter() - start) / ARGS.steps
    print(f"minise: {1e3 * total:.1f} ms per step on {THREADS} thread(s)")
    ops = {k: v / ARGS.steps for k, v in SECONDS.items() if k[1] != "inside"}
    for (name, what), seconds in sorted(SECONDS.items(), key=lambda kv: -kv[1]):
        if seconds / ARGS.steps >= 5e-4:
            print(f"  {name:28s} {what:9s} {1e3 * seconds / ARGS.steps:7.1f} ms")
    print(f"  {'engine, optimizer, Python':28s} {'':9s} {1e3 * (total - sum(ops.values())):7.1f} ms")


def torch_profile(x, labels):
    import torch
    from torch.profiler import ProfilerActivity, profile

    from minise.testing.torch_twin import se_resnet20_twin
    torch.set_num_threads(THREADS)
    twin = se_resnet20_twin(in_channels=ARGS.in_channels)
    optimizer = torch.optim.SGD(twin.parameters(), lr=0.01, momentum=0.9, weight_decay=5e-4)
    tx, tlabels = torch.from_numpy(x), torch.from_numpy(labels)

    def step():
        optimizer.zero_grad()
        torch.nn.functional.cross_entropy(twin(tx), tlabels).backward()
        optimizer.step()
    for _ in range(2):
        step()
    start = time.perf_counter()
    for _ in range(ARGS.steps):
        step()
    print(f"\nPyTorch: {1e3 * (time.perf_counter() - start) / ARGS.steps:.1f} ms per step on {THREADS} thread(s); "
          "self CPU time per operator (all threads):")
    with profile(activities=[ProfilerActivity.CPU]) as profiler:
        for _ in range(ARGS.steps):
            step()
    events = sorted(profiler.key_averages(), key=lambda e: -e.self_cpu_time_total)
    for event in events[:16]:
        if event.self_cpu_time_total / ARGS.steps >= 500:                  # µs
            print(f"  {event.key:38s} {event.self_cpu_time_total / ARGS.steps / 1e3:7.1f} ms")


if __name__ == "__main__":
    rng = np.random.default_rng(0)
    x = rng.standard_normal((ARGS.batch, ARGS.in_channels, ARGS.size, ARGS.size), dtype=np.float32)
    labels = rng.integers(0, 10, size=ARGS.batch)
    minise_profile(x, labels)
    if not ARGS.no_torch:
        torch_profile(x, labels)
