"""``minise ablate``: the SE ablations of the paper, in miniature, from the command line.

    minise ablate                                   # the digits, every factor, 3 seeds
    minise ablate --reductions 4 16 --squeezes --positions --stages --seeds 0 1 2 3 4
    minise ablate --dataset mnist --data-dir data --download --train-size 5000 --epochs 5

Trains the default SE network, the plain one, and each factor's values one at a time (see
:mod:`minise.ablation.variants`), prints mean ± std per variant and writes ``ablation.csv``,
``ablation.json`` (the settings) and ``ablation.png`` into ``--out``. Run it again with the same
settings and it resumes: finished cells are read back, not trained again.
"""
import os

from ..data import ArrayDataset, dataset_info, get_dataset
from ..data import transforms as T
from .report import format_table, plot_ablation, summarize
from .runner import run_grid
from .variants import one_at_a_time


def add_arguments(p):
    p.add_argument("--dataset", default="digits", help="digits (bundled), mnist, cifar10 or synthetic")
    p.add_argument("--data-dir", default=None, help="where mnist / cifar10 files are (default: minise's data folder)")
    p.add_argument("--download", action="store_true", help="download the dataset if it is missing")
    p.add_argument("--train-size", type=int, default=0, help="use the first N training images (0: all)")
    p.add_argument("--test-size", type=int, default=0, help="use the first N test images (0: all)")
    p.add_argument("--reductions", type=int, nargs="*", default=[2, 4, 8, 16, 32], help="values of r to try")
    p.add_argument("--squeezes", nargs="*", default=["avg", "max"], help="squeeze operators to try")
    p.add_argument("--positions", nargs="*", default=["standard", "pre", "post", "identity"],
                   help="SE positions to try")
    p.add_argument("--stages", nargs="*", default=["1", "2", "3", "2,3"],
                   help="sets of stages with SE, comma-separated (e.g. 2,3)")
    p.add_argument("--no-baseline", action="store_true", help="leave out the network without SE")
    p.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2], help="seeds: one training run each")
    p.add_argument("--depth", type=int, default=8, help="CIFAR ResNet depth 6n+2 (8, 14, 20, ...)")
    p.add_argument("--width", type=int, default=16, help="channels of the first stage")
    p.add_argument("--epochs", type=int, default=3)
    p.add_argument("--batch-size", type=int, default=64)
    p.add_argument("--lr", type=float, default=0.1)
    p.add_argument("--weight-decay", type=float, default=5e-4)
    p.add_argument("--out", default=None, help="folder for the CSV, settings and plot (default runs/ablate-<dataset>)")


def _first(dataset, n):
    if not n or n >= len(dataset):
        return dataset
    return ArrayDataset(dataset.images[:n], dataset.labels[:n], transform=dataset.transform,
                        max_value=dataset.max_value)


def load(args):
    info = dataset_info(args.dataset)
    normalize = T.Normalize(info.mean, info.std)
    train_set = get_dataset(args.dataset, root=args.data_dir, train=True, download=args.download, transform=normalize)
    test_set = get_dataset(args.dataset, root=args.data_dir, train=False, download=args.download, transform=normalize)
    return info, _first(train_set, args.train_size), _first(test_set, args.test_size)


def run(args, log=print):
    """Run (or resume) the grid the arguments describe; returns the rows."""
    if args.epochs < 1 or args.batch_size < 1 or not args.seeds:
        raise ValueError("--epochs and --batch-size must be positive and --seeds must name at least one seed")
    variants = one_at_a_time(args.reductions, args.squeezes, args.positions, args.stages,
                             baseline=not args.no_baseline)
    info, train_set, test_set = load(args)
    settings = {"dataset": args.dataset, "train_size": len(train_set), "test_size": len(test_set),
                "depth": args.depth, "width": args.width, "num_classes": info.num_classes, "epochs": args.epochs,
                "batch_size": args.batch_size, "lr": args.lr, "weight_decay": args.weight_decay}
    out_dir = args.out or os.path.join("runs", f"ablate-{args.dataset}")
    log(f"{len(variants)} variants × {len(args.seeds)} seeds on {args.dataset} ({len(train_set)} training, "
        f"{len(test_set)} test images), ResNet-{args.depth} width {args.width}, {args.epochs} epochs -> {out_dir}")
    rows = run_grid(variants, args.seeds, train_set, test_set, settings, out_dir, log=log)
    log(format_table(summarize(rows)))
    picture = os.path.join(out_dir, "ablation.png")
    drawn = plot_ablation(rows, picture, title=f"SE ablations on {args.dataset}") is not None
    log(f"results: {os.path.join(out_dir, 'ablation.csv')}" + (f", plot: {picture}" if drawn else ""))
    return rows
