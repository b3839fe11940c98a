"""Time conv2d forward and forward + backward (dx, dw) against PyTorch on the CPU, in one process.

    python benchmarks/bench_conv.py                      # the speed target: ResNet 3×3, x (32,64,32,32)
    python benchmarks/bench_conv.py --case all           # also stride 2, 1×1, grouped, CIFAR sizes
    python benchmarks/bench_conv.py --shape 8,32,16,16 --out-channels 64 --kernel 3 --stride 2

How it measures
* Threads: PyTorch gets ``--threads`` (torch.set_num_threads), and so do minise's chunks; NumPy's BLAS the same through
  OPENBLAS_NUM_THREADS / OMP_NUM_THREADS / MKL_NUM_THREADS, set here before NumPy is imported
  (unless they are set already: the header prints what the BLAS was given).
* Blocks take turns, not single calls: each round runs one block per library and step (a pause of
  ``--settle`` seconds, one untimed warm-up call, then ``--repeats`` timed calls). After a call, a
  BLAS's or OpenMP's worker threads spin for a while (OpenBLAS's for about 0.1 s), taking a core
  from whatever runs next: alternating single calls made PyTorch's 3×3 case about 2× slower than
  it runs alone, and NumPy's products 1.5×. The pause lets each library start from idle threads.
* Prints medians over all rounds, the ratio minise / PyTorch of the medians and, in brackets, the
  range of that ratio over the rounds: a wide range means a busy machine (``uptime`` shows it;
  OpenBLAS's threads slow down badly when other processes want the cores).
* GFLOP/s: a forward does 2·N·C_out·Ho·Wo·(C_in/G)·kH·kW floating-point operations, a backward
  (dx and dw) twice that. Printed next to a plain float32 matrix product of the forward's size,
  (C_out, K) @ (K, N·Ho·Wo) with K = (C_in/G)·kH·kW, on NumPy, timed in the same rounds: the
  ceiling for a convolution made of matrix products on this machine and BLAS. With PyTorch, its
  time is also given as a multiple of PyTorch's whole forward: above 1, no im2col convolution on
  this BLAS can match PyTorch on that shape, however little else it does.
Without PyTorch installed, minise's times are printed alone.
"""
import argparse
import os
import sys

CASES = {   # name: (x shape, C_out, kernel, stride, groups); padding is kernel // 2
    "resnet3x3": ((32, 64, 32, 32), 64, 3, 1, 1),          # the speed target (a ResNet stage's 3×3)
    "stride2": ((32, 64, 32, 32), 128, 3, 2, 1),           # a stage's first 3×3, halving H and W
    "1x1-stride2": ((32, 64, 32, 32), 128, 1, 2, 1),       # the shortcut's downsampling projection
    "1x1": ((32, 256, 16, 16), 64, 1, 1, 1),               # a bottleneck's reduction
    "grouped": ((32, 128, 16, 16), 128, 3, 1, 32),         # ResNeXt-style, 32 groups
    "cifar16": ((64, 16, 32, 32), 16, 3, 1, 1),            # se_resnet20's first stage
    "cifar32": ((64, 32, 16, 16), 32, 3, 1, 1),            # se_resnet20's middle stage
    "cifar64": ((64, 64, 8, 8), 64, 3, 1, 1),              # se_resnet20's last stage
}


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--case", default="resnet3x3", help=f"one of {', '.join(CASES)}, or all")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--rounds", type=int, default=5, help="blocks per library and step")
    parser.add_argument("--repeats", type=int, default=5, help="timed calls per block")
    parser.add_argument("--settle", type=float, default=0.3, help="seconds of pause before each block")
    parser.add_argument("--shape", help="N,C,H,W of x: a case of your own (with the options below)")
    parser.add_argument("--out-channels", type=int, default=64)
    parser.add_argument("--kernel", type=int, default=3)
    parser.add_argument("--stride", type=int, default=1)
    parser.add_argument("--groups", type=int, default=1)
    args = parser.parse_args()
    if args.shape:
        args.cases = {"custom": (tuple(int(v) for v in args.shape.split(",")), args.out_channels,
                                 args.kernel, args.stride, args.groups)}
    elif args.case == "all":
        args.cases = CASES
    elif args.case in CASES:
        args.cases = {args.case: CASES[args.case]}
    else:
        parser.error(f"--case {args.case!r}: pick one of {', '.join(CASES)}, or all")
    return args


ARGS = parse_args() if __name__ == "__main__" else None
for _variable in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_variable, str(ARGS.threads if ARGS else 2))

import numpy as np  # noqa: E402  (after the thread variables)

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
import minise  # noqa: E402

minise.allocator.tune_malloc()                  # keep freed memory for reuse, as training does
from timing import block_medians  # noqa: E402  (benchmarks/timing.py, beside this script)

from minise.functional.conv import conv2d  # noqa: E402


def flops(x_shape, C_out, k, stride, groups):
    """Floating-point operations of one forward: 2·N·C_out·Ho·Wo·(C_in/G)·k·k."""
    N, C, H, W = x_shape
    Ho, Wo = (H + 2 * (k // 2) - k) // stride + 1, (W + 2 * (k // 2) - k) // stride + 1
    return 2 * N * C_out * Ho * Wo * (C // groups) * k * k, (C_out, (C // groups) * k * k, N * Ho * Wo)


def run_case(name, case, torch, args, rng):
    x_shape, C_out, k, s, g = case
    x = rng.standard_normal(x_shape, dtype=np.float32)
    w = rng.standard_normal((C_out, x_shape[1] // g, k, k), dtype=np.float32) * 0.05
    kw = dict(stride=s, padding=k // 2, groups=g)
    gy = rng.standard_normal(conv2d(minise.Tensor(x), minise.Tensor(w), **kw).shape, dtype=np.float32)

    def minise_forward():
        with minise.no_grad():
            conv2d(minise.Tensor(x), minise.Tensor(w), **kw)

    def minise_step():
        xt, wt = minise.Tensor(x, requires_grad=True), minise.Tensor(w, requires_grad=True)
        conv2d(xt, wt, **kw).backward(gy)

    steps = [minise_forward, minise_step]
    if torch is not None:
        tx, tw, tgy = torch.from_numpy(x), torch.from_numpy(w), torch.from_numpy(gy)

        def torch_forward():
            with torch.no_grad():
                torch.nn.functional.conv2d(tx, tw, **kw)

        def torch_step():
            xr, wr = tx.clone().requires_grad_(), tw.clone().requires_grad_()
            torch.nn.functional.conv2d(xr, wr, **kw).backward(tgy)

        steps += [torch_forward, torch_step]
    forward_flops, (M, K, L) = flops(x_shape, C_out, k, s, g)
    if g == 1:                  # the ceiling, timed in the same rounds as the convolutions
        a, b = rng.standard_normal((M, K), dtype=np.float32), rng.standard_normal((K, L), dtype=np.float32)
        out = np.empty((M, L), dtype=np.float32)
        steps.append(lambda: np.matmul(a, b, out=out))
    overall, per_round = block_medians(steps, args.rounds, args.repeats, args.settle)
    print(f"{name}: x {x_shape}, w {tuple(w.shape)}, stride {s}, padding {k // 2}, groups {g}")
    for i, (what, work) in enumerate([("forward", forward_flops), ("forward + backward", 3 * forward_flops)]):
        ours = overall[i]
        line = f"  {what:<19} minise {1e3 * ours:7.1f} ms {work / ours / 1e9:6.1f} GFLOP/s"
        if torch is not None:
            theirs = overall[i + 2]
            ratios = [a / b for a, b in zip(per_round[i], per_round[i + 2])]
            line += (f"   PyTorch {1e3 * theirs:7.1f} ms {work / theirs / 1e9:6.1f} GFLOP/s   "
                     f"ratio {ours / theirs:4.2f} [{min(ratios):.2f}–{max(ratios):.2f}]")
        print(line)
    if g == 1:
        product = overall[-1]
        line = (f"  ceiling: a float32 matmul ({M}, {K}) @ ({K}, {L}) on NumPy: {1e3 * product:.1f} ms, "
                f"{2 * M * K * L / product / 1e9:.1f} GFLOP/s")
        if torch is not None:   # above 1: the product alone is slower than PyTorch's whole forward
            line += f"; {product / overall[2]:.2f}× PyTorch's forward"
        print(line)


def main(args):
    minise.parallel.set_num_threads(args.threads)
    try:
        import torch
        torch.set_num_threads(args.threads)
    except ImportError:
        torch = None
    blas = ", ".join(f"{v}={os.environ[v]}" for v in sorted(os.environ) if v.startswith("OPENBLAS_"))
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    print(f"NumPy {np.__version__} ({blas}); " +
          (f"PyTorch {torch.__version__} on {args.threads} threads" if torch else "PyTorch not installed") +
          f"; medians of {args.rounds} rounds × {args.repeats} calls; load average {load:.2f}")
    rng = np.random.default_rng(0)
    for name, case in args.cases.items():
        run_case(name, case, torch, args, rng)


if __name__ == "__main__":
    main(ARGS)
