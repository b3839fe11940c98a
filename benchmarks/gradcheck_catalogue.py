"""How many planted wrong backwards each gradient checker catches, and how often it cries wolf.

    python benchmarks/gradcheck_catalogue.py             # catalogue at seeds 0-9, sweep at seeds 0-4
    python benchmarks/gradcheck_catalogue.py --seeds 3 --sweep-seeds 1 --quiet

Catalogue: minise.testing.planted, layers written as forward/backward pairs on arrays with a
planted wrong backward and its right twin. Each runs through
* minise.gradcheck         (the pair wrapped as a minise.Function),
* minise.check_backward    (the pair itself),
* torch.autograd.gradcheck (the pair wrapped as a torch.autograd.Function; defaults: eps 1e-6,
                            atol 1e-5, rtol 1e-3, its reentrancy and undefined-gradient checks).
A bug counts as caught by minise only if it is caught at every seed tried (minise draws random
upstream gradients; PyTorch's check is deterministic). An exception raised by a checker counts as
caught and is marked "(error)". The right twins count false alarms.

Sweep: minise.testing.awkward, the built-in ops over awkward shapes; a false alarm is a failed
check or any warning.
"""
import argparse
import os
import sys
import warnings

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import numpy as np

import minise
from minise import Tensor
from minise.testing.awkward import cases
from minise.testing.planted import catalogue


def minise_catches(bug, backward, seed, which):
    """True when the minise checker ``which`` fails this backward (an exception counts)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            if which == "check_backward":
                return not minise.check_backward(bug.forward, backward, bug.fresh_inputs(), seed=seed,
                                                 raise_exception=False)
            op = bug.function(backward)
            tensors = {k: Tensor(v, requires_grad=True) for k, v in bug.fresh_inputs().items()}
            return not minise.gradcheck(lambda *t: op()(*t), tensors, seed=seed, raise_exception=False)
        except Exception:  # noqa: BLE001 -- any exception means the checker noticed something
            return "error"


def torch_function(torch, bug, backward):
    """The pair as a torch.autograd.Function; backward sees torch's own arrays (in-place writes land)."""
    class Planted(torch.autograd.Function):
        @staticmethod
        def forward(ctx, *inputs):
            y, ctx.cache = bug.forward(*[t.detach().numpy() for t in inputs])
            return torch.from_numpy(np.array(y, dtype=np.float64))

        @staticmethod
        def backward(ctx, gy):
            grads = backward(gy.numpy(), ctx.cache)
            return tuple(None if g is None else torch.from_numpy(np.array(g, dtype=np.float64)) for g in grads)
    return Planted.apply


def torch_catches(torch, bug, backward):
    inputs = [torch.tensor(v, dtype=torch.float64, requires_grad=True) for v in bug.fresh_inputs().values()]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            return not torch.autograd.gradcheck(torch_function(torch, bug, backward), inputs,
                                                raise_exception=False)
        except Exception:  # noqa: BLE001 -- any exception means the checker noticed something
            return "error"


def mark(result):
    return {True: "caught", False: "MISSED", "error": "caught (error)"}[result]


def run_catalogue(seeds, quiet):
    import torch
    bugs = catalogue()
    columns = ("minise.gradcheck", "minise.check_backward", "torch gradcheck")
    caught = dict.fromkeys(columns, 0)
    false_alarms = dict.fromkeys(columns, 0)
    name_width = max(len(b.name) for b in bugs) + 2             # columns as wide as their content
    kind_width = max(len(b.kind) for b in bugs) + 2
    if not quiet:
        print(f"{'planted bug':<{name_width}}{'kind':<{kind_width}}" + "".join(f"{c:<24}" for c in columns))
    for bug in bugs:
        row = {}
        for c, which in zip(columns[:2], ("gradcheck", "check_backward")):
            results = [minise_catches(bug, bug.wrong, s, which) for s in seeds]
            row[c] = "error" if "error" in results else all(results)
            false_alarms[c] += any(minise_catches(bug, bug.right, s, which) for s in seeds)
        row[columns[2]] = torch_catches(torch, bug, bug.wrong)
        false_alarms[columns[2]] += bool(torch_catches(torch, bug, bug.right))
        for c in columns:
            caught[c] += bool(row[c])
        if not quiet:
            print(f"{bug.name:<{name_width}}{bug.kind:<{kind_width}}" + "".join(f"{mark(row[c]):<24}" for c in columns))
    print(f"\ncatalogue: {len(bugs)} planted wrong backwards ({len({b.kind for b in bugs})} kinds); minise "
          f"at seeds {seeds[0]}-{seeds[-1]} (caught = caught at every seed), torch {torch.__version__}")
    for c in columns:
        print(f"  {c:<24} caught {caught[c]:>3}/{len(bugs)} ({100 * caught[c] / len(bugs):5.1f}%)   "
              f"false alarms on the right twins: {false_alarms[c]}")


def run_sweep(seeds):
    checks = alarms = 0
    for index, (name, fn, inputs) in enumerate(cases()):
        for seed in seeds:
            checks += 1
            with warnings.catch_warnings(record=True) as said:
                warnings.simplefilter("always")
                report = minise.gradcheck(fn, inputs, seed=1000 * seed + index, raise_exception=False)
            if not report or said:
                alarms += 1
                print(f"  FALSE ALARM {name} (seed {seed}): {report if not report else said[0].message}")
    print(f"sweep: {len(cases())} awkward-shape cases x {len(seeds)} seeds = {checks} gradchecks of built-in "
          f"ops; false alarms (failures or warnings): {alarms}")


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seeds", type=int, default=10, help="seeds per planted bug for minise (default 10)")
    parser.add_argument("--sweep-seeds", type=int, default=5, help="seeds per sweep case (default 5)")
    parser.add_argument("--quiet", action="store_true", help="totals only, no row per bug")
    args = parser.parse_args()
    run_catalogue(list(range(args.seeds)), args.quiet)
    run_sweep(list(range(args.sweep_seeds)))


if __name__ == "__main__":
    main()
