"""``minise compare``: an SE model and its plain twin, trained alike, side by side in a table."""
import os
import sys
import time

from ..data import dataset_info
from ..models import summary
from ..train import plot_metrics
from .build import model_options
from .common import PLOT_SKIPPED, UsageError, add_command
from .train import add_training_options, run_training

EXAMPLES = ("minise compare                      # SE-ResNet-20 vs ResNet-20 on the digits",
            "minise compare --reduction 4 --epochs 20",
            "minise compare --dataset cifar10 --data-dir data --backend cupy --epochs 30")


def register(commands):
    p = add_command(commands, "compare", "train an SE model and its plain twin, print a table",
                    "Train an SE model and the same network without SE blocks, with one seed, on one dataset;\n"
                    "print test accuracy, parameters, MACs and time per epoch side by side.", EXAMPLES)
    add_training_options(p)
    p.add_argument("--out", default=None, metavar="DIR",
                   help="folder for both runs (default runs/compare-<model>-<dataset>-<date>-<time>)")
    p.set_defaults(handler=run)


def run(args):
    name, kwargs = model_options(args)
    if not name.startswith("se_"):
        raise UsageError(f"compare needs an SE model to set against its plain twin; {name} has no SE blocks")
    out_dir = args.out or os.path.join("runs", f"compare-{name}-{args.dataset}-{time.strftime('%Y%m%d-%H%M%S')}")
    plain_kwargs = {k: v for k, v in kwargs.items() if k != "reduction"}
    size = dataset_info(args.dataset).image_size
    rows, curves = [], {}
    for model_name, model_kwargs in ((name, kwargs), (name[3:], plain_kwargs)):
        print(f"training {model_name} ...", file=sys.stderr)
        model, history, test = run_training(args, model_name, model_kwargs, os.path.join(out_dir, model_name),
                                            sys.stderr, progress=not args.quiet,
                                            resume_hint="run minise compare again (it starts both runs afresh)")
        info = summary(model, (model.in_channels, size, size))
        epoch_time = sum(r["epoch_time"] for r in history) / len(history)
        rows.append((model_name, info.total_params, info.total_macs, test["accuracy"], epoch_time))
        curves[model_name] = list(history)
    print(f"\n{args.dataset}, {args.epochs} epochs, seed {args.seed}")
    print(f"{'model':<14}{'test acc':>10}{'params':>12}{'MACs':>14}{'s/epoch':>10}")
    for model_name, params, macs, accuracy, seconds in rows:
        print(f"{model_name:<14}{100 * accuracy:>9.2f}%{params:>12,}{macs:>14,}{seconds:>10.2f}")
    picture = plot_metrics(curves, os.path.join(out_dir, "compare.png"), title=f"SE vs plain on {args.dataset}")
    print(f"runs in {out_dir}" + (f", curves in {picture}" if picture else f"; {PLOT_SKIPPED}"))
    return 0
