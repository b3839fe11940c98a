"""``minise train``: train a model, write a run folder, print the test accuracy."""
import os
import shlex
import sys
import time

from .. import backend, rng
from ..data import DataLoader
from ..train import ResumeMismatchError, evaluate, fit, plot_metrics
from .build import DATASETS, build_model, load_datasets, make_optimizer, make_schedule, model_options
from .common import PLOT_SKIPPED, UsageError, add_command, fraction, non_negative, positive

# The defaults of `minise train`, tuned so that plain `minise train` reaches ≥ 97 % test accuracy on
# the digits in about half a minute on two CPU cores (15 epochs of 41 batches, ~2 s each). A tenth of
# the training images is held out for validation: best.npz is chosen on it, never on the test set.
DEFAULTS = dict(model="se_resnet20", dataset="digits", epochs=15, batch_size=32, optimizer="sgd",
                schedule="cosine", warmup=0, weight_decay=5e-4, seed=0, val_fraction=0.1)
DEFAULT_LR = {"sgd": 0.05, "adam": 1e-3, "adamw": 1e-3}

DESCRIPTION = """\
Train a model, write metrics and checkpoints to a run folder, print the test accuracy.
Without options: SE-ResNet-20 on the bundled 8×8 digits, about 98-99 % test accuracy in
half a minute on a laptop CPU. The per-epoch 'val' figures and the choice of best.npz use
a validation hold-out from the training images; the test set is measured once, at the end.
The run folder gets metrics.jsonl, metrics.csv, last.npz, best.npz and, with matplotlib,
curves.png. Ctrl-C finishes the step, saves last.npz and exits; --resume continues exactly
where it stopped. A run that diverges (a loss or weight that is not finite, or a loss far
above where it started) stops with exit status 1, its last good checkpoint kept."""
EXAMPLES = ("minise train", "minise train --no-se --out runs/plain",
            "minise train --no-se --out runs/plain --resume          # continue it after Ctrl-C",
            "minise train --dataset cifar10 --data-dir data --download --epochs 30 --backend cupy")


def add_training_options(p):
    """The options of a training run (shared by train and compare)."""
    p.add_argument("--model", default=DEFAULTS["model"], help="model name (see `minise summary --help` for the list)")
    p.add_argument("--dataset", default=DEFAULTS["dataset"], choices=DATASETS,
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


def register(commands):
    p = add_command(commands, "train", "train a model and report its test accuracy", DESCRIPTION, EXAMPLES)
    add_training_options(p)
    p.add_argument("--no-se", action="store_true", help="train the plain twin (se_resnet20 -> resnet20)")
    p.add_argument("--out", default=None, metavar="DIR",
                   help="run folder (default runs/<model>-<dataset>-<date>-<time>)")
    p.add_argument("--resume", action="store_true",
                   help="continue the run in --out (default: the newest runs/<model>-<dataset>-*) from its last.npz")
    p.set_defaults(handler=run)


def run_config(args, name, kwargs, info, lr):
    """The settings stored in every checkpoint (evaluate rebuilds the model from them)."""
    return {"model": name, "model_kwargs": kwargs, "dataset": info.name, "num_classes": info.num_classes,
            "in_channels": info.channels, "lr": lr, "optimizer": args.optimizer, "schedule": args.schedule,
            "warmup": args.warmup, "batch_size": args.batch_size, "seed": args.seed, "epochs": args.epochs,
            "val_fraction": args.val_fraction, "weight_decay": args.weight_decay, "augment": not args.no_augment}


# config keys that are not an option of their own: what to say about them
NOT_AN_OPTION = {"model_kwargs": "model options (--width, --reduction)", "augment": "augmentation (--no-augment)",
                 "num_classes": "classes (of --dataset)", "in_channels": "input channels (of --dataset)"}


def mismatch_text(exc, out_dir):
    """The one line for a resume that asks for another run than the one in ``out_dir``."""
    if exc.kind or exc.key in NOT_AN_OPTION:
        what = exc.key if exc.kind else NOT_AN_OPTION[exc.key]
        return (f"the run in {out_dir} was trained with {what} {exc.saved!r}, not {exc.wanted!r}; resume it with "
                "the options it was started with, or pass another --out to start afresh")
    option = "--" + exc.key.replace("_", "-")
    return (f"the run in {out_dir} was trained with {option} {exc.saved}, not {exc.wanted}; "
            f"pass {option} {exc.saved} to continue it, or another --out to start afresh")


def _remove_if_empty_run(out_dir):
    """After a failure in a new run folder that holds no checkpoint: remove what fit began there."""
    if not os.path.isdir(out_dir) or os.path.exists(os.path.join(out_dir, "last.npz")):
        return
    for leftover in ("metrics.jsonl", "metrics.csv"):
        if os.path.exists(os.path.join(out_dir, leftover)):
            os.remove(os.path.join(out_dir, leftover))
    if not os.listdir(out_dir):
        os.rmdir(out_dir)


def run_training(args, name, kwargs, out_dir, log, progress=True, resume_hint=None):
    """Build everything for one run, train it, return (model, history, test result)."""
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
    created = out_dir is not None and not os.path.exists(out_dir)
    try:
        history = fit(model, train_loader, val_loader, optimizer, scheduler, epochs=args.epochs, out_dir=out_dir,
                      resume=getattr(args, "resume", False), progress=progress, log=log,
                      config=run_config(args, name, kwargs, info, lr), resume_hint=resume_hint)
    except ResumeMismatchError as exc:
        raise UsageError(mismatch_text(exc, out_dir)) from None
    except BaseException:
        if created:
            _remove_if_empty_run(out_dir)
        raise
    test = evaluate(model, DataLoader(test_set, batch_size=256))          # the test set's only use: at the end
    return model, history, test


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


def resume_command(args, out_dir):
    """The command line that continues this run: the same options, with --out DIR --resume."""
    words, skip = [], False
    for word in getattr(args, "argv", None) or ["train"]:
        if skip:
            skip = False
        elif word == "--out":
            skip = True
        elif word != "--resume" and not word.startswith("--out="):
            words.append(word)
    return shlex.join(["minise"] + words + ["--out", out_dir, "--resume"])


def run(args):
    name, kwargs = model_options(args)
    out_dir = resolve_out_dir(args, name)
    _, history, test = run_training(args, name, kwargs, out_dir, sys.stderr, progress=not args.quiet,
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
