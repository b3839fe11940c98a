"""``minise ablate``: the SE ablations of the paper in miniature, a grid of variants over seeds.

The work is done by :mod:`minise.ablation` (see minise/ablation/command.py for the options): this
file only registers the command.
"""
from ..ablation.command import add_arguments
from ..ablation.command import run as run_grid
from .common import add_command

EXAMPLES = ("minise ablate                                   # digits: every factor, 3 seeds",
            "minise ablate --reductions 4 16 --squeezes --positions --stages --seeds 0 1 2 3 4",
            "minise ablate --dataset mnist --data-dir data --download --train-size 5000 --epochs 5")


def register(commands):
    p = add_command(commands, "ablate", "train a grid of SE variants over seeds; mean ± spread, CSV, plot",
                    "Train the default SE network, the plain one, and each value of each factor (reduction,\n"
                    "squeeze, SE position, SE in which stages) one at a time, each from several seeds; print\n"
                    "mean ± std per variant; write ablation.csv, ablation.json and ablation.png. Run again with\n"
                    "the same settings to resume: finished cells are read back, not trained again.", EXAMPLES)
    add_arguments(p)
    p.set_defaults(handler=run)


def run(args):
    run_grid(args)
    return 0
