"""Time max_pool2d (and avg_pool2d) forward + backward against PyTorch on the CPU, in one process.

    python benchmarks/bench_pooling.py [--threads 2] [--repeats 15]

The case is ResNet's stem pooling: 3×3 windows, stride 2, padding 1, on x (32, 64, 32, 32) float32.
Prints the median time of each and their ratio (minise / PyTorch). PyTorch is optional: without
it only minise's times are printed; it gets ``--threads`` threads.
"""
import argparse
import time

import numpy as np

import minise
from minise.functional.pooling import avg_pool2d, max_pool2d


def median_ms(step, repeats):
    step()                                                   # warm-up: allocations
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        step()
        times.append(time.perf_counter() - start)
    return 1e3 * float(np.median(times))


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--repeats", type=int, default=15)
    parser.add_argument("--shape", default="32,64,32,32", help="N,C,H,W of x")
    parser.add_argument("--kernel", type=int, default=3)
    parser.add_argument("--stride", type=int, default=2)
    parser.add_argument("--padding", type=int, default=1)
    args = parser.parse_args()
    N, C, H, W = (int(v) for v in args.shape.split(","))
    k, s, p = args.kernel, args.stride, args.padding
    rng = np.random.default_rng(0)
    x = rng.standard_normal((N, C, H, W), dtype=np.float32)
    ops = {"max_pool2d": (max_pool2d, "max_pool2d"), "avg_pool2d": (avg_pool2d, "avg_pool2d")}
    gy = rng.standard_normal(max_pool2d(minise.Tensor(x), k, s, p).shape, dtype=np.float32)

    def ours(op):
        def forward():
            with minise.no_grad():
                op(minise.Tensor(x), k, s, p)

        def step():
            xt = minise.Tensor(x, requires_grad=True)
            op(xt, k, s, p).backward(gy)
        return forward, step

    minise.parallel.set_num_threads(args.threads)
    try:
        import torch
        torch.set_num_threads(args.threads)
    except ImportError:
        torch = None

    print(f"x {(N, C, H, W)} float32, kernel {k}, stride {s}, padding {p}; median of {args.repeats} (ms)")
    for name, (op, torch_name) in ops.items():
        forward, step = ours(op)
        mine = {"forward": median_ms(forward, args.repeats), "forward + backward": median_ms(step, args.repeats)}
        if torch is None:
            for part, t in mine.items():
                print(f"  {name} {part:<20} minise {t:8.2f}   (PyTorch not installed)")
            continue
        torch_op = getattr(torch.nn.functional, torch_name)
        tx, tgy = torch.from_numpy(x), torch.from_numpy(gy)

        def torch_forward(torch_op=torch_op, tx=tx):
            with torch.no_grad():
                torch_op(tx, k, s, p)

        def torch_step(torch_op=torch_op, tx=tx, tgy=tgy):
            xr = tx.clone().requires_grad_()
            torch_op(xr, k, s, p).backward(tgy)
        theirs = {"forward": median_ms(torch_forward, args.repeats),
                  "forward + backward": median_ms(torch_step, args.repeats)}
        for part in mine:
            print(f"  {name} {part:<20} minise {mine[part]:8.2f}   PyTorch {theirs[part]:8.2f}   "
                  f"ratio {mine[part] / theirs[part]:5.2f}")


if __name__ == "__main__":
    main()
