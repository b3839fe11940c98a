"""Time conv2d forward + backward (gx, gw) against PyTorch on the CPU, in one process.

    python benchmarks/bench_conv.py [--threads 2] [--repeats 15]

The case is a ResNet stage's 3×3 convolution: x (32, 64, 32, 32), w (64, 64, 3, 3), padding 1,
float32. Prints the median time of each and their ratio (minise / PyTorch). PyTorch is optional:
without it only minise's times are printed. BLAS threads follow the usual environment variables
(OPENBLAS_NUM_THREADS, OMP_NUM_THREADS); PyTorch gets ``--threads``.
"""
import argparse
import time

import numpy as np

import minise
from minise.functional.conv import conv2d


def median_ms(steps, repeats, rounds=3):
    """Median milliseconds of each step. The steps take turns in blocks (``rounds`` blocks of
    about repeats/rounds calls each), so a machine that gets busier for a while slows all of them
    alike, while each block runs one library alone (BLAS and OpenMP threads that spin after a call
    would otherwise steal the cores from the other library)."""
    times = [[] for _ in steps]
    for _ in range(rounds):
        for step, record in zip(steps, times):
            step()                                           # warm-up: allocations, threads
            for _ in range(max(1, repeats // rounds)):
                start = time.perf_counter()
                step()
                record.append(time.perf_counter() - start)
    return [1e3 * float(np.median(record)) for record in times]


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--repeats", type=int, default=15)
    parser.add_argument("--shape", default="32,64,32,32", help="N,C,H,W of x")
    parser.add_argument("--out-channels", type=int, default=64)
    parser.add_argument("--kernel", type=int, default=3)
    parser.add_argument("--stride", type=int, default=1)
    args = parser.parse_args()
    N, C, H, W = (int(v) for v in args.shape.split(","))
    k, O, s = args.kernel, args.out_channels, args.stride
    rng = np.random.default_rng(0)
    x = rng.standard_normal((N, C, H, W), dtype=np.float32)
    w = rng.standard_normal((O, C, k, k), dtype=np.float32) * 0.05
    gy_shape = conv2d(minise.Tensor(x), minise.Tensor(w), stride=s, padding=k // 2).shape
    gy = rng.standard_normal(gy_shape, dtype=np.float32)

    def minise_forward():
        with minise.no_grad():
            conv2d(minise.Tensor(x), minise.Tensor(w), stride=s, padding=k // 2)

    def minise_step():
        xt, wt = minise.Tensor(x, requires_grad=True), minise.Tensor(w, requires_grad=True)
        conv2d(xt, wt, stride=s, padding=k // 2).backward(gy)

    print(f"conv2d x {(N, C, H, W)}, w {(O, C, k, k)}, stride {s}, padding {k // 2}, float32; median of "
          f"{args.repeats} (ms)")
    try:
        import torch
    except ImportError:
        ours = dict(zip(("forward", "forward + backward"), median_ms([minise_forward, minise_step], args.repeats)))
        for name, t in ours.items():
            print(f"  {name:<20} minise {t:8.1f}   (PyTorch not installed)")
        return
    torch.set_num_threads(args.threads)
    tx, tw, tgy = torch.from_numpy(x), torch.from_numpy(w), torch.from_numpy(gy)

    def torch_forward():
        with torch.no_grad():
            torch.nn.functional.conv2d(tx, tw, stride=s, padding=k // 2)

    def torch_step():
        xr, wr = tx.clone().requires_grad_(), tw.clone().requires_grad_()
        torch.nn.functional.conv2d(xr, wr, stride=s, padding=k // 2).backward(tgy)

    times = median_ms([minise_forward, torch_forward, minise_step, torch_step], args.repeats)
    ours = {"forward": times[0], "forward + backward": times[2]}
    theirs = {"forward": times[1], "forward + backward": times[3]}
    for name in ours:
        print(f"  {name:<20} minise {ours[name]:8.1f}   PyTorch {theirs[name]:8.1f}   "
              f"ratio {ours[name] / theirs[name]:5.2f}")


if __name__ == "__main__":
    main()
