"""The ``minise`` command: train, evaluate, summary, gradcheck, compare.

    minise train                          SE-ResNet-20 on the bundled 8×8 digits (about half a minute)
    minise train --dataset cifar10 --data-dir data --download --epochs 30
    minise evaluate runs/se_resnet20-digits-20240101-120000/last.npz
    minise summary se_resnet50
    minise gradcheck conv2d --stride 2 --padding 1
    minise compare                        SE-ResNet-20 against its plain twin, one seed

Every command explains itself with ``--help``. Bad input (a missing file or folder, a damaged
checkpoint, an unknown model) ends with a one-line message and exit status 2.
"""
import argparse
import os
import sys
import time

from . import __version__

EXIT_BAD_INPUT = 2

# The defaults of `minise train`, tuned so that plain `minise train` reaches ≥ 97 % test accuracy on
# the digits in about half a minute on two CPU cores (15 epochs of 41 batches, ~2 s each). A tenth of
# the training images is held out for validation: best.npz is chosen on it, never on the test set.
DEFAULTS = dict(model="se_resnet20", dataset="digits", epochs=15, batch_size=32, optimizer="sgd",
                schedule="cosine", warmup=0, weight_decay=5e-4, seed=0, val_fraction=0.1)
DEFAULT_LR = {"sgd": 0.05, "adam": 1e-3, "adamw": 1e-3}


class UsageError(ValueError):
    """Bad input from the command line: reported in one line, exit status 2."""


# -- building blocks shared by the commands ------------------------------------------------------

def data_transforms(info, augment):
    """(train transform, test transform): normalisation, plus a random shift (and flip for CIFAR)."""
    from .data import transforms as T
    normalize = T.Normalize(info.mean, info.std)
    if not augment:
        return normalize, normalize
    shift = 1 if info.image_size <= 8 else 2 if info.image_size <= 28 else 4
    steps = [T.RandomCrop(info.image_size, padding=shift)]
    if info.name == "cifar10":
        steps.append(T.RandomHorizontalFlip())
    return T.Compose(steps + [normalize]), normalize


def load_datasets(name, data_dir, download, augment=True, train=True, val_fraction=0.0):
    """(info, train dataset or None, validation dataset or None, test dataset) for ``name``.

    With ``val_fraction`` > 0 a fixed, stratified share of the training images becomes the
    validation set (without augmentation) and the rest the training set: checkpoints are chosen on
    it, so the test set is measured only at the end and its accuracy stays an honest estimate.
    """
    from .data import dataset_info, get_dataset, train_val_split
    info = dataset_info(name)
    if info.needs_files and data_dir is not None and not download and not os.path.isdir(data_dir):
        raise UsageError(f"the data directory {data_dir} does not exist; create it and pass --download, "
                         f"or point --data-dir at the folder that holds the {name} files")
    train_tf, test_tf = data_transforms(info, augment)
    train_set = get_dataset(name, root=data_dir, train=True, download=download, transform=train_tf) if train else None
    test_set = get_dataset(name, root=data_dir, train=False, download=download, transform=test_tf)
    val_set = None
    if train_set is not None and val_fraction:
        train_set, val_set = train_val_split(train_set, val_fraction, val_transform=test_tf)
    return info, train_set, val_set, test_set


def model_options(args):
    """(model name, keyword arguments) from --model, --no-se and --reduction."""
    name = args.model.strip().lower().replace("-", "_")
    if getattr(args, "no_se", False) and name.startswith("se_"):
        name = name[3:]
    kwargs = {}
    if getattr(args, "reduction", None) is not None:
        if not name.startswith("se_"):
            raise UsageError(f"--reduction applies to SE models, and {name} has no SE blocks")
        kwargs["reduction"] = args.reduction
    if getattr(args, "width", None) is not None:
        kwargs["width"] = args.width
    return name, kwargs


def build_model(name, kwargs, num_classes, in_channels):
    """The model ``name``; ``num_classes=None`` keeps its own default (1000 ImageNet, 10 CIFAR)."""
    from . import models
    if name not in models.list_models():
        models.get_model(name)                      # raises "unknown model ... Did you mean ...?"
    options = dict(kwargs, in_channels=in_channels)
    if num_classes is not None:
        options["num_classes"] = num_classes
    try:
        return models.get_model(name, **options)
    except TypeError as exc:
        raise UsageError(f"{name} does not take these options ({exc}); drop --width or --reduction") from None


def default_input_shape(model):
    from .models import CifarResNet
    return (model.in_channels, 32, 32) if isinstance(model, CifarResNet) else (model.in_channels, 224, 224)


def make_optimizer(name, params, lr, weight_decay):
    from .optim import SGD, Adam, AdamW
    if name == "sgd":
        return SGD(params, lr=lr, momentum=0.9, weight_decay=weight_decay, nesterov=True)
    return (Adam if name == "adam" else AdamW)(params, lr=lr, weight_decay=weight_decay)


def make_schedule(name, optimizer, epochs, warmup):
    from .optim import CosineAnnealingLR, LinearWarmup, MultiStepLR, StepLR
    after_warmup = max(1, epochs - warmup)
    schedule = {"cosine": lambda: CosineAnnealingLR(optimizer, T_max=after_warmup),
                "step": lambda: StepLR(optimizer, step_size=max(1, after_warmup // 3)),
                "multistep": lambda: MultiStepLR(optimizer, [after_warmup // 2, 3 * after_warmup // 4]),
                "none": lambda: None}[name]()
    return LinearWarmup(optimizer, warmup, after=schedule) if warmup else schedule


def positive(kind):
    def check(text):
        try:
            value = kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected a {kind.__name__}, got {text!r}") from None
        if value <= 0:
            raise argparse.ArgumentTypeError(f"must be positive, got {text}")
        return value
    return check


def fraction(text):
    """A number in [0, 1) for --val-fraction."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number, got {text!r}") from None
    if not 0 <= value < 1:
        raise argparse.ArgumentTypeError(f"must lie in [0, 1), got {text}")
    return value


def non_negative(kind):
    def check(text):
        value = positive(kind)(text) if text.strip() not in ("0", "0.0") else kind(text)
        return value
    return check


# -- the commands --------------------------------------------------------------------------------

def run_training(args, name, kwargs, out_dir, log, progress=True, resume_hint=None):
    """Build everything for one run, train it, return (model, history, test result)."""
    from . import backend, rng
    from .data import DataLoader
    from .train import evaluate, fit
    backend.use_backend(args.backend)
    info, train_set, val_set, test_set = load_datasets(args.dataset, args.data_dir, args.download,
                                                       augment=not args.no_augment, val_fraction=args.val_fraction)
    rng.manual_seed(args.seed)
    model = build_model(name, kwargs, info.num_classes, info.channels)
    lr = args.lr if args.lr is not None else DEFAULT_LR[args.optimizer]
    optimizer = make_optimizer(args.optimizer, model.parameters(), lr, args.weight_decay)
    scheduler = make_schedule(args.schedule, optimizer, args.epochs, args.warmup)
    train_loader = DataLoader(train_set, batch_size=args.batch_size, shuffle=True, seed=args.seed)
    val_loader = DataLoader(val_set, batch_size=256) if val_set is not None else None
    test_loader = DataLoader(test_set, batch_size=256)
    config = {"model": name, "model_kwargs": kwargs, "dataset": info.name, "num_classes": info.num_classes,
              "in_channels": info.channels, "lr": lr, "optimizer": args.optimizer, "schedule": args.schedule,
              "warmup": args.warmup, "batch_size": args.batch_size, "seed": args.seed, "epochs": args.epochs,
              "val_fraction": args.val_fraction}
    created = out_dir is not None and not os.path.exists(out_dir)
    try:
        history = fit(model, train_loader, val_loader, optimizer, scheduler, epochs=args.epochs,
                      out_dir=out_dir, resume=getattr(args, "resume", False), progress=progress, log=log, config=config,
                      resume_hint=resume_hint)
    except BaseException:
        if created and os.path.isdir(out_dir) and not os.path.exists(os.path.join(out_dir, "last.npz")):
            for leftover in ("metrics.jsonl", "metrics.csv"):       # nothing half-written stays behind
                if os.path.exists(os.path.join(out_dir, leftover)):
                    os.remove(os.path.join(out_dir, leftover))
            if not os.listdir(out_dir):
                os.rmdir(out_dir)
        raise
    return model, history, evaluate(model, test_loader)          # the test set's only use: after training


def resolve_out_dir(args, name):
    if args.out is not None:
        if args.resume and not os.path.exists(os.path.join(args.out, "last.npz")):
            raise UsageError(f"--resume: {args.out} holds no last.npz to continue from; check the folder, "
                             "or leave out --resume to start a new run there")
        return args.out
    prefix = f"{name}-{args.dataset}-"
    if args.resume:
        runs = sorted(d for d in os.listdir("runs") if d.startswith(prefix)
                      and os.path.exists(os.path.join("runs", d, "last.npz"))) if os.path.isdir("runs") else []
        if not runs:
            raise UsageError(f"--resume found no earlier run runs/{prefix}*; pass --out with the run folder")
        return os.path.join("runs", runs[-1])
    return os.path.join("runs", prefix + time.strftime("%Y%m%d-%H%M%S"))


def cmd_train(args):
    from .train import plot_metrics
    name, kwargs = model_options(args)
    out_dir = resolve_out_dir(args, name)
    model, history, test = run_training(args, name, kwargs, out_dir, sys.stderr, progress=not args.quiet,
                                        resume_hint=resume_command(args, out_dir))
    picture = plot_metrics(list(history), os.path.join(out_dir, "curves.png"), title=f"{name} on {args.dataset}")
    print(f"test accuracy {100 * test['accuracy']:.2f}% ({round(test['accuracy'] * test['count'])}/{test['count']}), "
          f"test loss {test['loss']:.4f} (the final weights, last.npz)")
    if history.best_epoch is not None:
        chosen_on = "validation" if args.val_fraction else "training"
        print(f"best.npz: epoch {history.best_epoch}, chosen on {chosen_on} accuracy "
              f"{100 * history.best_accuracy:.2f}% (loss {history.best_loss:.4f})")
    print(f"run folder {out_dir}: metrics.jsonl, metrics.csv, last.npz, best.npz"
          + (", curves.png" if picture else f"; {PLOT_SKIPPED}"))
    return 0


PLOT_SKIPPED = "plot skipped: matplotlib is not installed (pip install matplotlib to get it)"


def resume_command(args, out_dir):
    """The command line that continues this run: the same options, with --out DIR --resume."""
    import shlex
    words, skip = [], False
    for word in getattr(args, "argv", None) or ["train"]:
        if skip:
            skip = False
        elif word == "--out":
            skip = True
        elif word != "--resume" and not word.startswith("--out="):
            words.append(word)
    return shlex.join(["minise"] + words + ["--out", out_dir, "--resume"])


def cmd_evaluate(args):
    from . import backend
    from .data import DataLoader
    from .nn import StateDictError
    from .train import evaluate, load_checkpoint
    path = os.path.join(args.checkpoint, "last.npz") if os.path.isdir(args.checkpoint) else args.checkpoint
    if not os.path.exists(path):
        raise UsageError(f"no checkpoint at {path}; pass a .npz written by minise train (last.npz or best.npz)")
    state = load_checkpoint(path)
    config = (state.get("config") or {}) if isinstance(state, dict) else {}
    if "model" not in config:
        raise UsageError(f"{path} does not say which model it holds; it was not written by minise train")
    if args.model is not None and model_options(args)[0] != config["model"]:
        raise UsageError(f"{path} holds model {config['model']}, not {model_options(args)[0]}; "
                         f"drop --model or pass --model {config['model']}")
    backend.use_backend(args.backend)
    dataset = args.dataset or config.get("dataset", "digits")
    val_fraction = config.get("val_fraction", 0.0) if dataset == config.get("dataset") else 0.0
    if args.split == "val" and not val_fraction:
        raise UsageError(f"{path} was trained without a validation split on {dataset}; use --split test or train")
    info, train_set, val_set, test_set = load_datasets(dataset, args.data_dir, args.download, augment=False,
                                                       train=args.split != "test", val_fraction=val_fraction)
    if (info.num_classes, info.channels) != (config.get("num_classes"), config.get("in_channels")):
        raise UsageError(f"the checkpoint's {config['model']} takes {config.get('in_channels')}-channel images in "
                         f"{config.get('num_classes')} classes, but {dataset} has {info.channels} and "
                         f"{info.num_classes}; evaluate it on {config.get('dataset')}")
    model = build_model(config["model"], config.get("model_kwargs", {}), info.num_classes, info.channels)
    try:
        model.load_state_dict(state["model"])
    except StateDictError as exc:           # the checkpoint's own settings build a model its weights don't fit
        raise UsageError(f"the weights in {path} do not fit the {config['model']} its settings describe "
                         f"({short_problems(exc)}); the file was altered or written by another minise version: "
                         "use another checkpoint") from None
    loader = DataLoader({"train": train_set, "val": val_set, "test": test_set}[args.split], batch_size=args.batch_size)
    result = evaluate(model, loader)
    print(f"{config['model']} ({path}, epoch {state.get('epoch')}) on {dataset} {args.split}: accuracy "
          f"{100 * result['accuracy']:.2f}% ({round(result['accuracy'] * result['count'])}/{result['count']}), "
          f"loss {result['loss']:.4f}")
    return 0


def short_problems(exc, shown=3):
    """A StateDictError in a few words: counts and the first names of each kind of problem."""
    parts = []
    for what, names in (("missing", exc.missing_keys), ("unexpected", exc.unexpected_keys),
                        ("mismatched", [name for name, _, _ in exc.mismatched])):
        if names:
            more = f", ... ({len(names) - shown} more)" if len(names) > shown else ""
            parts.append(f"{len(names)} {what}: {', '.join(names[:shown])}{more}")
    return "; ".join(parts)


def cmd_summary(args):
    from .models import summary
    name, kwargs = model_options(args)
    channels = args.input_size[0] if args.input_size else 3
    model = build_model(name, kwargs, args.num_classes, channels)
    shape = tuple(args.input_size) if args.input_size else default_input_shape(model)
    print(summary(model, shape))
    return 0


def cmd_gradcheck(args):
    from .gradcheck import gradcheck
    fn, inputs = gradcheck_problem(args)
    report = gradcheck(fn, inputs, eps=args.eps, atol=args.atol, rtol=args.rtol, seed=args.seed,
                       raise_exception=False)
    print(f"{args.op}: " + ", ".join(f"{k} {tuple(v.shape)}" for k, v in inputs.items()))
    print(report)
    return 0 if report else 1


IMAGE_OPS = ("conv2d", "max_pool2d", "avg_pool2d", "adaptive_avg_pool2d", "scale_channels", "batch_norm", "se_block")
VECTOR_OPS = ("linear", "relu", "sigmoid", "tanh", "softmax", "log_softmax", "cross_entropy")


def gradcheck_problem(args):
    """(function, dict of float64 input Tensors) for ``minise gradcheck OP``, drawn from --seed."""
    import numpy as np

    from . import functional as F
    from .tensor import Tensor
    rng = np.random.default_rng(args.seed)
    op = args.op
    shape = tuple(args.shape) if args.shape else ((2, 3, 5, 5) if op in IMAGE_OPS else (4, 5))
    wanted = 4 if op in IMAGE_OPS else 2
    if len(shape) != wanted:
        raise UsageError(f"{op} takes an input of {wanted} dimensions "
                         f"({'N C H W' if wanted == 4 else 'N FEATURES'}); --shape got {len(shape)} numbers")

    def tensor(*dims, away_from_zero=False):
        a = rng.standard_normal(dims)
        if away_from_zero:                                   # keep ReLU's inputs off its kink at 0
            a = np.sign(a) * (0.1 + np.abs(a))
        return Tensor(a, requires_grad=True)

    x = tensor(*shape, away_from_zero=op in ("relu", "se_block"))
    k, stride, padding = args.kernel_size, args.stride, args.padding
    C = shape[1]
    if op == "conv2d":
        w, b = tensor(4, C, k, k), tensor(4)
        return (lambda x, w, b: F.conv2d(x, w, b, stride=stride or 1, padding=padding)), {"x": x, "w": w, "b": b}
    if op in ("max_pool2d", "avg_pool2d"):
        pool = getattr(F, op)
        return (lambda x: pool(x, k, stride=stride, padding=padding)), {"x": x}
    if op == "adaptive_avg_pool2d":
        return (lambda x: F.adaptive_avg_pool2d(x, args.output_size)), {"x": x}
    if op == "linear":
        w, b = tensor(3, C), tensor(3)
        return F.linear, {"x": x, "w": w, "b": b}
    if op in ("relu", "sigmoid", "tanh"):
        return getattr(F, op), {"x": x}
    if op in ("softmax", "log_softmax"):
        f = getattr(F, op)
        return (lambda x: f(x, 1)), {"x": x}
    if op == "cross_entropy":
        target = Tensor(rng.integers(0, C, size=shape[0]))
        return (lambda x, target: F.cross_entropy(x, target)), {"input": x, "target": target}
    if op == "scale_channels":
        return F.scale_channels, {"x": x, "s": tensor(shape[0], C)}
    if op == "batch_norm":
        mean, var = np.zeros(C), np.ones(C)
        return ((lambda x, weight, bias: F.batch_norm(x, mean.copy(), var.copy(), weight, bias, training=True)),
                {"x": x, "weight": tensor(C), "bias": tensor(C)})
    hidden = max(1, C // args.reduction)                     # se_block
    b1 = Tensor(0.5 + np.abs(rng.standard_normal(hidden)), requires_grad=True)   # a live ReLU: a check that sees
    params = {"x": x, "w1": tensor(hidden, C), "b1": b1, "w2": tensor(C, hidden), "b2": tensor(C)}  # every weight
    return se_block, params


def se_block(x, w1, b1, w2, b2):
    """The SE block as functions: y = x · σ(W₂ δ(W₁ mean_hw(x) + b₁) + b₂), one scale per channel."""
    from . import functional as F
    z = x.mean(axis=(2, 3))                                       # (N, C)   squeeze
    s = F.sigmoid(F.linear(F.relu(F.linear(z, w1, b1)), w2, b2))  # (N, C)   excitation
    return F.scale_channels(x, s)                                 # (N, C, H, W)


def cmd_compare(args):
    from .models import summary
    from .train import plot_metrics
    name, kwargs = model_options(args)
    if not name.startswith("se_"):
        raise UsageError(f"compare needs an SE model to set against its plain twin; {name} has no SE blocks")
    out_dir = args.out or os.path.join("runs", f"compare-{name}-{args.dataset}-{time.strftime('%Y%m%d-%H%M%S')}")
    rows, curves = [], {}
    for label, model_name, model_kwargs in (("SE", name, kwargs), ("plain", name[3:], {k: v for k, v in kwargs.items()
                                                                                        if k != "reduction"})):
        print(f"training {model_name} ...", file=sys.stderr)
        model, history, test = run_training(args, model_name, model_kwargs, os.path.join(out_dir, model_name),
                                            sys.stderr, progress=not args.quiet,
                                            resume_hint="run minise compare again (it starts both runs afresh)")
        info = summary(model, (model.in_channels,) + (history_image_size(args),) * 2)
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


def history_image_size(args):
    from .data import dataset_info
    return dataset_info(args.dataset).image_size


# -- the parser ------------------------------------------------------------------------------------

class HelpFormatter(argparse.RawDescriptionHelpFormatter):
    """Keep the examples' line breaks; show an option's default when it has a real one."""

    def _get_help_string(self, action):
        text = action.help or ""
        if action.default not in (None, False, argparse.SUPPRESS) and "default" not in text \
                and action.option_strings:
            text += " (default: %(default)s)"
        return text


def add_training_options(p, resume=True):
    p.add_argument("--model", default=DEFAULTS["model"], help="model name (see `minise summary --help` for the list)")
    p.add_argument("--dataset", default=DEFAULTS["dataset"], choices=["digits", "mnist", "cifar10", "synthetic"],
                   help="digits and synthetic are built in; mnist and cifar10 are read from --data-dir")
    p.add_argument("--data-dir", default=None, metavar="DIR",
                   help="folder with the mnist/cifar10 files (default $MINISE_DATA_DIR, else ./data)")
    p.add_argument("--download", action="store_true", help="download mnist/cifar10 into --data-dir if missing")
    p.add_argument("--epochs", type=positive(int), default=DEFAULTS["epochs"], help="epochs to train")
    p.add_argument("--batch-size", type=positive(int), default=DEFAULTS["batch_size"], help="images per step")
    p.add_argument("--optimizer", choices=["sgd", "adam", "adamw"], default=DEFAULTS["optimizer"],
                   help="sgd means momentum 0.9 with Nesterov")
    p.add_argument("--lr", type=positive(float), default=None,
                   help="learning rate (default 0.05 for sgd, 0.001 for adam and adamw)")
    p.add_argument("--schedule", choices=["cosine", "step", "multistep", "none"], default=DEFAULTS["schedule"],
                   help="learning-rate schedule over the epochs after the warm-up (step: ×0.1 every third; "
                        "multistep: ×0.1 at 50%% and 75%%)")
    p.add_argument("--warmup", type=non_negative(int), default=DEFAULTS["warmup"], metavar="EPOCHS",
                   help="epochs of linear learning-rate warm-up")
    p.add_argument("--weight-decay", type=non_negative(float), default=DEFAULTS["weight_decay"],
                   help="L2 weight decay (decoupled for adamw)")
    p.add_argument("--reduction", type=positive(int), default=None, help="SE reduction ratio r (model default: 16)")
    p.add_argument("--width", type=positive(int), default=None, help="channels of the first stage (CIFAR models; 16)")
    p.add_argument("--val-fraction", type=fraction, default=DEFAULTS["val_fraction"], metavar="F",
                   help="share of the training images held out for validation, on which best.npz is chosen "
                        "(0: no validation, best.npz by training accuracy); the test set is only measured at the end")
    p.add_argument("--no-augment", action="store_true", help="train without random shifts (and flips)")
    p.add_argument("--backend", choices=["numpy", "cupy"], default="numpy", help="numpy (CPU) or cupy (GPU)")
    p.add_argument("--seed", type=non_negative(int), default=DEFAULTS["seed"],
                   help="seed of the initial weights, the batch order and the augmentation")
    p.add_argument("--quiet", action="store_true", help="no live progress bar, only one line per epoch")
    if resume:
        p.add_argument("--no-se", action="store_true", help="train the plain twin (se_resnet20 -> resnet20)")
        p.add_argument("--out", default=None, metavar="DIR",
                       help="run folder (default runs/<model>-<dataset>-<date>-<time>)")
        p.add_argument("--resume", action="store_true",
                       help="continue the run in --out (default: the newest runs/<model>-<dataset>-*) "
                            "from its last.npz")
    else:
        p.add_argument("--out", default=None, metavar="DIR",
                       help="folder for both runs (default runs/compare-<model>-<dataset>-<date>-<time>)")


def build_parser():
    parser = argparse.ArgumentParser(
        prog="minise", formatter_class=HelpFormatter,
        description="Squeeze-and-Excitation networks from scratch: train, evaluate, inspect and check gradients.",
        epilog="examples:\n  minise train\n  minise compare\n  minise summary se_resnet50\n"
               "  minise gradcheck conv2d --stride 2\n  minise grade my_conv2d.py\nRun `minise COMMAND --help` for the options of a command.")
    parser.add_argument("--version", action="version", version=f"minise {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")

    p = commands.add_parser(
        "train", help="train a model and report its test accuracy", formatter_class=HelpFormatter,
        description="Train a model, write metrics and checkpoints to a run folder, print the test accuracy.\n"
                    "Without options: SE-ResNet-20 on the bundled 8×8 digits, about 98-99 % test accuracy in\n"
                    "half a minute on a laptop CPU. The per-epoch 'val' figures and the choice of best.npz use\n"
                    "a validation hold-out from the training images; the test set is measured once, at the end.",
        epilog="examples:\n  minise train\n  minise train --no-se --out runs/plain\n"
               "  minise train --no-se --out runs/plain --resume          # continue it after Ctrl-C\n"
               "  minise train --dataset cifar10 --data-dir data --download --epochs 30 --backend cupy\n"
               "The run folder gets metrics.jsonl, metrics.csv, last.npz, best.npz and, with matplotlib,\n"
               "curves.png. Ctrl-C saves last.npz; --resume continues exactly where it stopped.")
    add_training_options(p)
    p.set_defaults(handler=cmd_train)

    p = commands.add_parser(
        "evaluate", help="accuracy and loss of a saved checkpoint", formatter_class=HelpFormatter,
        description="Rebuild the model stored in a checkpoint and measure it on a dataset split.",
        epilog="examples:\n  minise evaluate runs/se_resnet20-digits-20250101-120000/best.npz\n"
               "  minise evaluate runs/my-run --split train       # a folder means its last.npz")
    p.add_argument("checkpoint", help="a .npz checkpoint written by minise train, or its run folder")
    p.add_argument("--dataset", default=None, choices=["digits", "mnist", "cifar10", "synthetic"],
                   help="dataset to measure on (default: the one the model was trained on)")
    p.add_argument("--data-dir", default=None, metavar="DIR", help="folder with the mnist/cifar10 files")
    p.add_argument("--download", action="store_true", help="download mnist/cifar10 if missing")
    p.add_argument("--split", choices=["test", "val", "train"], default="test",
                   help="which part of the dataset: val and train are the run's own validation hold-out and "
                        "the training images without it")
    p.add_argument("--model", default=None, help="refuse the checkpoint unless it holds this model")
    p.add_argument("--batch-size", type=positive(int), default=256, help="images per batch")
    p.add_argument("--backend", choices=["numpy", "cupy"], default="numpy", help="numpy (CPU) or cupy (GPU)")
    p.set_defaults(handler=cmd_evaluate)

    from .models import list_models
    p = commands.add_parser(
        "summary", help="layers, output shapes, parameters and MACs of a model", formatter_class=HelpFormatter,
        description="Print a model's layers with output shapes, parameters and multiply-accumulates per image.\n"
                    "Models: " + ", ".join(list_models()),
        epilog="examples:\n  minise summary se_resnet50\n  minise summary se_resnet20 --input-size 1 8 8\n"
               "  minise summary se_resnet20 --no-se")
    p.add_argument("model", help="model name")
    p.add_argument("--input-size", type=positive(int), nargs=3, metavar=("C", "H", "W"), default=None,
                   help="image shape (default 3 32 32 for CIFAR models, 3 224 224 for ImageNet models)")
    p.add_argument("--num-classes", type=positive(int), default=None,
                   help="outputs of the last layer (default: the model's own, 1000 for ImageNet models, 10 for CIFAR)")
    p.add_argument("--no-se", action="store_true", help="the plain twin of an SE model")
    p.add_argument("--reduction", type=positive(int), default=None, help="SE reduction ratio r")
    p.add_argument("--width", type=positive(int), default=None, help="first-stage channels (CIFAR models)")
    p.set_defaults(handler=cmd_summary)

    p = commands.add_parser(
        "gradcheck", help="check one op's backward against finite differences", formatter_class=HelpFormatter,
        description="Draw random float64 inputs for one op, compare its analytic gradients with central\n"
                    "finite differences under a random upstream gradient, and print the report.\n"
                    "Exit status 0 when every element agrees, 1 otherwise.",
        epilog="examples:\n  minise gradcheck conv2d\n  minise gradcheck conv2d --shape 2 3 7 7 --kernel-size 3 "
               "--stride 2 --padding 1\n  minise gradcheck max_pool2d --kernel-size 2\n"
               "  minise gradcheck se_block --shape 2 8 4 4 --reduction 4\n  minise gradcheck softmax --shape 3 6")
    p.add_argument("op", choices=list(IMAGE_OPS + VECTOR_OPS), metavar="OP",
                   help="one of " + ", ".join(IMAGE_OPS + VECTOR_OPS))
    p.add_argument("--shape", type=positive(int), nargs="+", default=None,
                   help="input shape: N C H W for image ops (default 2 3 5 5), N FEATURES otherwise (4 5)")
    p.add_argument("--kernel-size", type=positive(int), default=3, help="kernel size (conv2d, pooling)")
    p.add_argument("--stride", type=positive(int), default=None, help="stride (default 1 for conv2d, the kernel "
                                                                      "size for pooling)")
    p.add_argument("--padding", type=non_negative(int), default=0, help="zero padding on each side")
    p.add_argument("--output-size", type=positive(int), default=2, help="adaptive_avg_pool2d's output size")
    p.add_argument("--reduction", type=positive(int), default=2, help="se_block's reduction ratio")
    p.add_argument("--seed", type=non_negative(int), default=0, help="seed of the inputs and upstream gradient")
    p.add_argument("--eps", type=positive(float), default=1e-6, help="finite-difference step")
    p.add_argument("--atol", type=non_negative(float), default=1e-5, help="absolute tolerance")
    p.add_argument("--rtol", type=non_negative(float), default=1e-3, help="relative tolerance")
    p.set_defaults(handler=cmd_gradcheck)

    p = commands.add_parser(
        "compare", help="train an SE model and its plain twin, print a table", formatter_class=HelpFormatter,
        description="Train an SE model and the same network without SE blocks, with one seed, on one dataset;\n"
                    "print test accuracy, parameters, MACs and time per epoch side by side.",
        epilog="examples:\n  minise compare                      # SE-ResNet-20 vs ResNet-20 on the digits\n"
               "  minise compare --reduction 4 --epochs 20\n"
               "  minise compare --dataset cifar10 --data-dir data --backend cupy --epochs 30")
    add_training_options(p, resume=False)
    p.set_defaults(handler=cmd_compare)

    commands.add_parser(
        "grade", help="grade hand-written backward passes (the exercises: see `minise exercises`)",
        add_help=False, description="See `minise grade --help`.")
    commands.add_parser(
        "exercises", help="list the exercises, or copy them into a folder to hand out",
        add_help=False, description="See `minise exercises --help`.")
    return parser


def one_line(exc):
    return " ".join(str(exc).split()) or type(exc).__name__


def main(argv=None):
    """Run the ``minise`` command with ``argv`` (default: sys.argv[1:]); returns the exit status."""
    from .backend import BackendError
    from .train import NonFiniteLossError
    argv = sys.argv[1:] if argv is None else list(argv)
    if argv[:1] in (["grade"], ["exercises"]):  # the grader parses its own options
        from .exercises import command
        return (command.grade_main if argv[0] == "grade" else command.exercises_main)(argv[1:])
    parser = build_parser()
    args = parser.parse_args(argv)
    args.argv = argv
    if args.command is None:
        parser.print_help()
        return EXIT_BAD_INPUT
    try:
        return args.handler(args)
    except KeyboardInterrupt:
        return 130
    except NonFiniteLossError as exc:
        print(f"minise {args.command}: {exc}", file=sys.stderr)
        return 1
    except (ValueError, OSError, BackendError) as exc:
        from .nn import StateDictError
        text = f"a checkpoint does not fit the model ({short_problems(exc)})" if isinstance(exc, StateDictError) \
            else one_line(exc)
        print(f"minise {args.command}: error: {text}", file=sys.stderr)
        return EXIT_BAD_INPUT
