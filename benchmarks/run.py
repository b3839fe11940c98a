"""minise against PyTorch on the CPU: the workloads of the speed targets, in one process.

    python benchmarks/run.py                    # every workload: 5 rounds of 4 calls each
    python benchmarks/run.py --quick            # fewer rounds, a smaller epoch: a rough table, fast
    python benchmarks/run.py --only se_block --repeats 30 --json results.json

How it measures
* Both libraries run on the same number of threads (``--threads``, default every core this
  process may use): PyTorch through ``torch.set_num_threads``, minise through
  ``minise.parallel.set_num_threads``, NumPy's BLAS through OPENBLAS_NUM_THREADS /
  OMP_NUM_THREADS, which must be set before NumPy is imported (so this file imports NumPy only
  after reading them).
* Thread scaling: the training step on every thread and on one (minise: one thread for its
  chunks and, through threadpoolctl, for the BLAS; PyTorch: ``torch.set_num_threads(1)``), all
  four taking turns in the same rounds. A library's scaling is its one-thread time over its
  all-thread time; the row compares minise's scaling with PyTorch's (higher is better).
* The epoch: se_resnet20 with one input channel, one epoch of SGD over a generated set of 8,000
  28×28 grey images (uint8, like MNIST's; 1,000 with ``--quick``), batch 64, shuffled, through
  each library's own DataLoader, from the same initial weights.
* Both get the same float32 NCHW inputs and, for the layers, the same weights.
* The libraries take turns in blocks (benchmarks/timing.py): before each block a pause of
  ``--settle`` seconds and one untimed call, then ``--repeats`` timed calls; ``--rounds`` rounds.
  Blocks, not alternating single calls: a BLAS's worker threads keep spinning for a while after a
  call and would slow down whichever library runs next. The table shows medians over all timed
  calls, the ratio minise / PyTorch of the medians with, in brackets, its range over the rounds
  (a wide range means a busy machine), and the target ("bar").
* Allocator: this script calls ``minise.allocator.tune_malloc()``, which sets glibc's malloc to
  keep freed memory for reuse, as training does. The setting is process-wide, so PyTorch here runs
  with it too.
* BLAS: the header names the kernel NumPy's OpenBLAS runs (with threadpoolctl installed) and any
  OPENBLAS_* variable set. OPENBLAS_CORETYPE pins a kernel, possibly an older and slower one than
  the CPU supports; unset it for this command to compare at the CPU's own kernel.
* Peak memory of the training step is measured in two fresh subprocesses, one per library: after
  two warm-up steps (momentum buffers exist, the previous step's graph is gone) and glibc's
  malloc_trim (so that memory the last step freed does not count as in use), the peak resident
  set size during one step (VmHWM in /proc/self/status, reset just before the step by writing 5
  to /proc/self/clear_refs) minus the resident size right before it: what the step's
  activations, saved arrays, gradients and temporaries add at their peak. Where the reset is not
  allowed, the lifetime peak (ru_maxrss) is used instead; the warm-up steps had the same peak.
* GFLOP/s: a 3×3 convolution's forward does 2·N·C_out·Ho·Wo·C_in·k·k floating-point operations,
  and its backward (dx and dw) twice that. A plain float32 matrix product of the forward's size,
  (C_out, C_in·k·k) @ (C_in·k·k, N·Ho·Wo), shows what the machine's BLAS reaches: the ceiling for a
  convolution written as matrix products.

Without PyTorch installed the script still runs and prints minise's times alone.
"""
import argparse
import json
import os
import subprocess
import sys


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=None,
                        help="threads for both libraries (default: every core this process may use)")
    parser.add_argument("--rounds", type=int, default=None,
                        help="blocks per library and workload (default 5, 2 with --quick)")
    parser.add_argument("--repeats", type=int, default=None, help="timed calls per block (default 4, 2 with --quick)")
    parser.add_argument("--settle", type=float, default=0.3, help="seconds of pause before each block (default 0.3)")
    parser.add_argument("--quick", action="store_true", help="few rounds, a smaller epoch: a rough table, fast")
    parser.add_argument("--epoch-images", type=int, default=None,
                        help="images in the epoch workload (default 8000, 1000 with --quick)")
    parser.add_argument("--only", action="append", metavar="NAME",
                        help="run only this workload (repeatable): " + ", ".join(WORKLOAD_NAMES))
    parser.add_argument("--no-torch", action="store_true", help="time minise alone, even if PyTorch is installed")
    parser.add_argument("--json", metavar="FILE", help="also write the results to FILE as JSON")
    parser.add_argument("--memory-probe", choices=("minise", "torch"), help=argparse.SUPPRESS)  # the subprocess
    args = parser.parse_args(argv)
    args.rounds = args.rounds or (2 if args.quick else 5)
    args.repeats = args.repeats or (2 if args.quick else 4)
    args.epoch_images = args.epoch_images or (1000 if args.quick else 8000)
    for name in args.only or ():
        if name not in WORKLOAD_NAMES:
            parser.error(f"--only {name!r}: unknown workload; pick from {', '.join(WORKLOAD_NAMES)}")
    return args


WORKLOAD_NAMES = ("conv2d", "se_block", "max_pool2d", "train_step", "epoch", "scaling", "memory", "gflops")


def available_cores():
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:
        return os.cpu_count() or 1


ARGS = parse_args() if __name__ == "__main__" else None
THREADS = str(ARGS.threads if ARGS and ARGS.threads else available_cores())
for _variable in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[_variable] = THREADS                   # before NumPy (and its BLAS) is loaded

import numpy as np  # noqa: E402

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
import minise  # noqa: E402

minise.allocator.tune_malloc()                  # keep freed memory for reuse, as training does
minise.parallel.set_num_threads(int(THREADS))
from timing import block_medians  # noqa: E402  (benchmarks/timing.py, beside this script)

from minise import Tensor  # noqa: E402
from minise import functional as F  # noqa: E402


def load_torch(wanted=True):
    if not wanted:
        return None
    try:
        import torch
    except ImportError:
        return None
    torch.set_num_threads(int(THREADS))
    return torch


# ---------------------------------------------------------------------------------------------------
# Workloads. Each returns (minise_step, torch_step or None): functions that run one timed unit.
# ---------------------------------------------------------------------------------------------------

def conv2d_workload(rng, torch):
    x = rng.standard_normal((32, 64, 32, 32), dtype=np.float32)
    w = (rng.standard_normal((64, 64, 3, 3), dtype=np.float32) * 0.05).astype(np.float32)
    gy = rng.standard_normal((32, 64, 32, 32), dtype=np.float32)

    def minise_step():
        xt, wt = Tensor(x, requires_grad=True), Tensor(w, requires_grad=True)
        F.conv2d(xt, wt, padding=1).backward(gy)              # fills xt.grad (dx) and wt.grad (dw)

    if torch is None:
        return minise_step, None
    tx, tw, tgy = (torch.from_numpy(a) for a in (x, w, gy))

    def torch_step():
        xt, wt = tx.clone().requires_grad_(), tw.clone().requires_grad_()
        torch.nn.functional.conv2d(xt, wt, padding=1).backward(tgy)
    return minise_step, torch_step


def se_block_workload(rng, torch):
    x = rng.standard_normal((32, 256, 16, 16), dtype=np.float32)
    gy = rng.standard_normal(x.shape, dtype=np.float32)
    minise.manual_seed(0)
    block = minise.nn.SEBlock(256, reduction=16)

    def minise_step():
        block.zero_grad()
        xt = Tensor(x, requires_grad=True)
        block(xt).backward(gy)                    # gradients of x and of fc1, fc2's weights and biases

    if torch is None:
        return minise_step, None
    from minise.testing.torch_twin import TwinSE, as_torch_state
    twin = TwinSE(256, reduction=16)
    twin.load_state_dict(as_torch_state(block))
    tx, tgy = torch.from_numpy(x), torch.from_numpy(gy)

    def torch_step():
        twin.zero_grad()
        xt = tx.clone().requires_grad_()
        twin(xt).backward(tgy)
    return minise_step, torch_step


def max_pool2d_workload(rng, torch):
    x = rng.standard_normal((32, 64, 32, 32), dtype=np.float32)
    gy = rng.standard_normal((32, 64, 16, 16), dtype=np.float32)

    def minise_step():
        xt = Tensor(x, requires_grad=True)
        F.max_pool2d(xt, 3, stride=2, padding=1).backward(gy)

    if torch is None:
        return minise_step, None
    tx, tgy = torch.from_numpy(x), torch.from_numpy(gy)

    def torch_step():
        xt = tx.clone().requires_grad_()
        torch.nn.functional.max_pool2d(xt, 3, stride=2, padding=1).backward(tgy)
    return minise_step, torch_step


def make_models(torch, in_channels=3, seed=0):
    """se_resnet20 in minise and its PyTorch twin with the same weights, each with its SGD."""
    minise.manual_seed(seed)
    model = minise.models.se_resnet20(in_channels=in_channels)
    model.train()
    optimizer = minise.optim.SGD(model.parameters(), lr=0.01, momentum=0.9, weight_decay=5e-4)
    if torch is None:
        return (model, optimizer), None
    from minise.testing.torch_twin import as_torch_state, se_resnet20_twin
    twin = se_resnet20_twin(in_channels=in_channels)
    twin.load_state_dict(as_torch_state(model))
    twin.train()
    return (model, optimizer), (twin, torch.optim.SGD(twin.parameters(), lr=0.01, momentum=0.9, weight_decay=5e-4))


def minise_sgd_step(model, optimizer, x, labels):
    optimizer.zero_grad()
    loss = F.cross_entropy(model(Tensor(x)), Tensor(labels))
    loss.backward()
    optimizer.step()
    return loss


def torch_sgd_step(torch, twin, optimizer, x, labels):
    optimizer.zero_grad()
    loss = torch.nn.functional.cross_entropy(twin(x), labels)
    loss.backward()
    optimizer.step()
    return loss


def make_train_steps(torch, batch=64, seed=0):
    """One SGD step (forward, cross-entropy, backward, update) of se_resnet20 in each library."""
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((batch, 3, 32, 32), dtype=np.float32)
    labels = rng.integers(0, 10, size=batch)
    ours, theirs = make_models(torch, seed=seed)
    minise_step = lambda: minise_sgd_step(*ours, x, labels)                       # noqa: E731
    if torch is None:
        return minise_step, None
    tx, tlabels = torch.from_numpy(x), torch.from_numpy(labels)
    return minise_step, lambda: torch_sgd_step(torch, *theirs, tx, tlabels)


def train_step_workload(rng, torch):
    minise_step, torch_step = make_train_steps(torch)
    if torch is not None:                  # same weights, same batch: the first losses must agree
        ours, theirs = minise_step().item(), torch_step().item()
        if abs(ours - theirs) > 1e-3 * max(1.0, abs(theirs)):
            print(f"warning: first-step losses differ: minise {ours:.6f}, PyTorch {theirs:.6f}", file=sys.stderr)
    return minise_step, torch_step


def minise_on_one_thread(step, controller):
    """``step`` with minise's chunks and NumPy's BLAS (through threadpoolctl's ``controller``) on one thread."""
    def run():
        previous = minise.parallel.set_num_threads(1)
        try:
            with controller.limit(limits=1, user_api="blas"):
                return step()
        finally:
            minise.parallel.set_num_threads(previous)
    return run


def torch_on_one_thread(step, torch):
    """``step`` with PyTorch on one thread."""
    def run():
        torch.set_num_threads(1)
        try:
            return step()
        finally:
            torch.set_num_threads(int(THREADS))
    return run


def blas_controller():
    """threadpoolctl's controller of NumPy's BLAS, or None where threadpoolctl is not installed."""
    try:
        import threadpoolctl
    except ImportError:
        return None
    return threadpoolctl.ThreadpoolController()


def epoch_workload(torch, images, batch=64, seed=0):
    """One epoch of se_resnet20 (one input channel) over ``images`` generated 28×28 uint8 images, as
    MNIST's, each library with its own DataLoader (shuffled, batch 64, images scaled to [0, 1])."""
    rng = np.random.default_rng(seed)
    shape = (images, 1, 28, 28)
    x = (rng.integers(0, 256, shape) * (rng.random(shape) < 0.2)).astype(np.uint8)   # mostly black, as digits
    labels = rng.integers(0, 10, size=images)
    ours, theirs = make_models(torch, in_channels=1, seed=seed)
    loader = minise.data.DataLoader(minise.data.ArrayDataset(x, labels), batch_size=batch, shuffle=True, seed=seed)

    def minise_epoch():
        for xb, yb in loader:
            minise_sgd_step(*ours, xb, yb)

    if torch is None:
        return minise_epoch, None
    data = torch.utils.data.TensorDataset(torch.from_numpy(x), torch.from_numpy(labels))
    torch_loader = torch.utils.data.DataLoader(data, batch_size=batch, shuffle=True,
                                               generator=torch.Generator().manual_seed(seed))

    def torch_epoch():
        for xb, yb in torch_loader:
            torch_sgd_step(torch, *theirs, xb.float().div_(255), yb)
    return minise_epoch, torch_epoch


# ---------------------------------------------------------------------------------------------------
# Timing
# ---------------------------------------------------------------------------------------------------

def time_pair(minise_step, torch_step, args, rounds=None, repeats=None, warmup=True):
    """(minise median, PyTorch median or None, per-round ratios): block timing, see the module doc."""
    steps = [minise_step] + ([torch_step] if torch_step is not None else [])
    overall, per_round = block_medians(steps, rounds or args.rounds, repeats or args.repeats, args.settle, warmup)
    if torch_step is None:
        return overall[0], None, []
    return overall[0], overall[1], [a / b for a, b in zip(*per_round)]


# ---------------------------------------------------------------------------------------------------
# Memory: one fresh process per library (``--memory-probe minise|torch`` runs this part)
# ---------------------------------------------------------------------------------------------------

def status_kib(field):
    """A field of /proc/self/status in KiB (VmRSS: resident now, VmHWM: resident peak)."""
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    raise RuntimeError(f"/proc/self/status has no {field}")


def reset_peak():
    """Set VmHWM back to the current RSS (Linux: write 5 to clear_refs); False if not allowed."""
    try:
        with open("/proc/self/clear_refs", "w") as refs:
            refs.write("5")
        return True
    except OSError:
        return False


def release_free_memory():
    """Hand the C allocator's free pages back to the OS (glibc's malloc_trim), so that the RSS
    before the step holds live data only and not memory the last step freed."""
    try:
        import ctypes
        ctypes.CDLL("libc.so.6").malloc_trim(0)
    except (OSError, AttributeError):
        pass


def memory_probe(library):
    """Run in a subprocess: peak RSS of one training step above the RSS before it, printed as JSON."""
    import gc
    import resource
    torch = load_torch() if library == "torch" else None
    minise_step, torch_step = make_train_steps(torch)
    step = torch_step if library == "torch" else minise_step
    for _ in range(2):
        step()                                   # warm-up: optimizer state, allocator caches
    gc.collect()
    release_free_memory()
    before = status_kib("VmRSS")
    if reset_peak():
        method = "VmHWM after clear_refs"
        step()
        peak = status_kib("VmHWM")
    else:
        method = "ru_maxrss (no reset)"
        step()
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(json.dumps({"library": library, "before_kib": before, "peak_kib": peak,
                      "step_kib": peak - before, "method": method}))


def measure_memory(with_torch):
    results = {}
    for library in ("minise", "torch") if with_torch else ("minise",):
        command = [sys.executable, os.path.abspath(__file__), "--memory-probe", library, "--threads", THREADS]
        run = subprocess.run(command, capture_output=True, text=True)
        if run.returncode != 0:
            raise RuntimeError(f"the {library} memory probe failed:\n{run.stderr}")
        results[library] = json.loads(run.stdout.strip().splitlines()[-1])
    return results


# ---------------------------------------------------------------------------------------------------
# GFLOP/s of the convolution next to a plain matrix product
# ---------------------------------------------------------------------------------------------------

def matmul_gflops(rng, args):
    """GFLOP/s of (64, 576) @ (576, 32768) in float32: the conv workload's forward as one product."""
    a = rng.standard_normal((64, 64 * 9), dtype=np.float32)
    b = rng.standard_normal((64 * 9, 32 * 32 * 32), dtype=np.float32)
    out = np.empty((64, 32 * 32 * 32), dtype=np.float32)
    median, _, _ = time_pair(lambda: np.matmul(a, b, out=out), None, args)
    return 2 * a.shape[0] * a.shape[1] * b.shape[1] / median / 1e9


CONV_FLOPS = 3 * 2 * 32 * 64 * 32 * 32 * 64 * 3 * 3      # forward + backward (dx and dw)


# ---------------------------------------------------------------------------------------------------
# The table
# ---------------------------------------------------------------------------------------------------

ROWS = [  # name, what it is, bar (largest minise / PyTorch ratio), workload
    ("conv2d", "conv2d 3×3 pad 1, x (32,64,32,32), w (64,64,3,3), fwd + bwd (dx, dw)", 1.3, conv2d_workload),
    ("se_block", "SE block fwd + bwd, x (32,256,16,16), r = 16 (dx and params)", 1.5, se_block_workload),
    ("max_pool2d", "max_pool2d 3×3 stride 2 pad 1, x (32,64,32,32), fwd + bwd", 1.5, max_pool2d_workload),
]
STEP_TITLE = "se_resnet20 SGD step, batch 64, 3×32×32, cross-entropy"
STEP_BAR, EPOCH_BAR, SCALING_BAR, MEMORY_BAR = 2.0, 2.0, 0.8, 1.0


def verdict(ratio, bar, higher_is_better=False):
    if ratio is None:
        return "—"
    return "pass" if (ratio >= bar if higher_is_better else ratio <= bar) else "FAIL"


def spread(values):
    return f"[{min(values):.2f}–{max(values):.2f}]" if values else ""


def time_row(lines, results, name, title, bar, ours, theirs, ratios):
    """One timed row of the table (and of the JSON results)."""
    ratio = ours / theirs if theirs else None
    results["rows"][name] = {"minise_ms": 1e3 * ours, "torch_ms": theirs and 1e3 * theirs, "ratio": ratio,
                             "ratio_per_round": ratios, "bar": bar, "result": verdict(ratio, bar)}
    unit, scale = ("s", 1) if ours > 5 else ("ms", 1e3)
    compared = "— | — " if theirs is None else f"{scale * theirs:.1f} {unit} | {ratio:.2f}× {spread(ratios)} "
    lines.append(f"| {title} | {scale * ours:.1f} {unit} | {compared}| ≤ {bar}× | {verdict(ratio, bar)} |")


def step_and_scaling(torch, args, wanted, lines, results):
    """The training step on every thread (both libraries) and, for the scaling row, on one."""
    minise_step, torch_step = train_step_workload(None, torch)
    steps = [minise_step] + ([torch_step] if torch else [])
    controller = blas_controller()
    scaling = "scaling" in wanted and torch is not None and controller is not None and int(THREADS) > 1
    if scaling:
        steps += [minise_on_one_thread(minise_step, controller), torch_on_one_thread(torch_step, torch)]
    overall, per_round = block_medians(steps, args.rounds, args.repeats, args.settle)
    if "train_step" in wanted:
        ratios = [a / b for a, b in zip(*per_round[:2])] if torch else []
        time_row(lines, results, "train_step", STEP_TITLE, STEP_BAR, overall[0], overall[1] if torch else None, ratios)
    if not scaling:
        if "scaling" in wanted:
            why = ("needs PyTorch" if torch is None else "needs threadpoolctl to put NumPy's BLAS on one thread"
                   if controller is None else "needs more than one thread")
            lines.append(f"| thread scaling of that step: 1 thread → {THREADS} | — ({why}) | — | — | "
                         f"≥ {SCALING_BAR}× | — |")
        return
    m_all, t_all, m_one, t_one = overall
    ours, theirs = m_one / m_all, t_one / t_all
    ratios = [(a1 / a) / (b1 / b) for a, b, a1, b1 in zip(*per_round)]
    results["rows"]["scaling"] = {"minise_one_thread_ms": 1e3 * m_one, "torch_one_thread_ms": 1e3 * t_one,
                                  "minise_scaling": ours, "torch_scaling": theirs, "ratio": ours / theirs,
                                  "ratio_per_round": ratios, "bar": SCALING_BAR,
                                  "result": verdict(ours / theirs, SCALING_BAR, higher_is_better=True)}
    lines.append(f"| thread scaling of that step: 1 thread → {THREADS} (time on 1 / time on {THREADS}) | "
                 f"{ours:.2f}× ({1e3 * m_one:.0f} → {1e3 * m_all:.0f} ms) | "
                 f"{theirs:.2f}× ({1e3 * t_one:.0f} → {1e3 * t_all:.0f} ms) | {ours / theirs:.2f}× {spread(ratios)} | "
                 f"≥ {SCALING_BAR}× | {verdict(ours / theirs, SCALING_BAR, higher_is_better=True)} |")


def epoch_row(torch, args, lines, results):
    minise_epoch, torch_epoch = epoch_workload(torch, args.epoch_images)
    rounds = 1 if args.quick else 3
    ours, theirs, ratios = time_pair(minise_epoch, torch_epoch, args, rounds=rounds, repeats=1, warmup=False)
    title = (f"one epoch, se_resnet20 with 1 input channel, {args.epoch_images:,} generated 28×28 images "
             "(as MNIST), batch 64, each library's DataLoader")
    time_row(lines, results, "epoch", title, EPOCH_BAR, ours, theirs, ratios)


def memory_row(torch, lines, results):
    memory = measure_memory(torch is not None)
    ours = memory["minise"]["step_kib"] / 1024
    theirs = memory["torch"]["step_kib"] / 1024 if "torch" in memory else None
    ratio = ours / theirs if theirs else None
    results["rows"]["memory"] = {"minise_mib": ours, "torch_mib": theirs, "ratio": ratio, "bar": MEMORY_BAR,
                                 "result": verdict(ratio, MEMORY_BAR), "detail": memory}
    lines.append("| peak memory of the step (peak RSS − RSS before it) | " + f"{ours:.1f} MiB | " +
                 ("— | — " if theirs is None else f"{theirs:.1f} MiB | {ratio:.2f}× ") +
                 f"| ≤ {MEMORY_BAR}× | {verdict(ratio, MEMORY_BAR)} |")


def blas_description():
    """Which BLAS NumPy runs and with which kernel (threadpoolctl, when installed), and the
    OPENBLAS_* variables set: OPENBLAS_CORETYPE can pin an older, slower kernel than the CPU's."""
    pinned = ", ".join(f"{v}={os.environ[v]}" for v in sorted(os.environ)
                       if v.startswith("OPENBLAS_") and v != "OPENBLAS_NUM_THREADS")
    try:
        import threadpoolctl
        found = [f"{i['internal_api']} {i.get('architecture') or ''}".strip()
                 for i in threadpoolctl.threadpool_info() if i.get("user_api") == "blas"]
        kernel = ", ".join(found) or "unknown BLAS"
    except ImportError:
        kernel = "BLAS kernel unknown (pip install threadpoolctl to see it)"
    return kernel + (f" ({pinned})" if pinned else "")


def main(args):
    torch = load_torch(not args.no_torch)
    wanted = set(args.only or WORKLOAD_NAMES)
    rng = np.random.default_rng(0)
    print(f"minise {getattr(minise, '__version__', '')} vs "
          f"{'PyTorch ' + torch.__version__ if torch else 'no PyTorch (minise only)'}; "
          f"NumPy {np.__version__} on {blas_description()}; {THREADS} threads; "
          f"medians of {args.rounds} rounds × {args.repeats} calls, [range of the ratio over the rounds]\n")
    lines = ["| workload | minise | PyTorch | ratio | bar | result |", "|---|---:|---:|---:|---:|---|"]
    results = {"threads": int(THREADS), "rounds": args.rounds, "repeats": args.repeats, "rows": {}}
    conv_seconds = None
    for name, title, bar, workload in ROWS:
        if name not in wanted and not (name == "conv2d" and "gflops" in wanted):
            continue
        ours, theirs, ratios = time_pair(*workload(rng, torch), args)
        conv_seconds = (ours, theirs) if name == "conv2d" else conv_seconds
        if name in wanted:
            time_row(lines, results, name, title, bar, ours, theirs, ratios)
    if wanted & {"train_step", "scaling"}:
        step_and_scaling(torch, args, wanted, lines, results)
    if "epoch" in wanted:
        epoch_row(torch, args, lines, results)
    if "memory" in wanted:
        memory_row(torch, lines, results)
    print("\n".join(lines))
    if "gflops" in wanted and conv_seconds is not None:
        ceiling = matmul_gflops(rng, args)
        ours, theirs = (None if s is None else CONV_FLOPS / s / 1e9 for s in conv_seconds)
        results["gflops"] = {"conv_minise": ours, "conv_torch": theirs, "matmul": ceiling}
        print(f"\nconv2d fwd + bwd: minise {ours:.1f} GFLOP/s" +
              ("" if theirs is None else f", PyTorch {theirs:.1f} GFLOP/s") +
              f"; a float32 matmul (64×576 @ 576×32768) on NumPy: {ceiling:.1f} GFLOP/s")
    if "memory" in wanted:
        print(f"memory measured with {results['rows']['memory']['detail']['minise']['method']}, "
              "each library in its own process")
    if args.json:
        temporary = args.json + ".tmp"
        with open(temporary, "w") as out:
            json.dump(results, out, indent=2)
        os.replace(temporary, args.json)
    return results


if __name__ == "__main__":
    if ARGS.memory_probe:
        memory_probe(ARGS.memory_probe)
    else:
        main(ARGS)
