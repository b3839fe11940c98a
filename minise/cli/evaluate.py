"""``minise evaluate``: rebuild the model of a checkpoint and measure it on a dataset split."""
import os

from .. import backend
from ..data import DataLoader
from ..nn import StateDictError
from ..train import evaluate, load_checkpoint
from .build import DATASETS, build_model, load_datasets, model_options
from .common import UsageError, add_command, positive, short_problems

EXAMPLES = ("minise evaluate runs/se_resnet20-digits-20250101-120000/best.npz",
            "minise evaluate runs/my-run --split train       # a folder means its last.npz")


def register(commands):
    p = add_command(commands, "evaluate", "accuracy and loss of a saved checkpoint",
                    "Rebuild the model stored in a checkpoint and measure it on a dataset split.", EXAMPLES)
    p.add_argument("checkpoint", help="a .npz checkpoint written by minise train, or its run folder")
    p.add_argument("--dataset", default=None, choices=DATASETS,
                   help="dataset to measure on (default: the one the model was trained on)")
    p.add_argument("--data-dir", default=None, metavar="DIR", help="folder with the mnist/cifar10 files")
    p.add_argument("--download", action="store_true", help="download mnist/cifar10 if missing")
    p.add_argument("--split", choices=["test", "val", "train"], default="test",
                   help="which part of the dataset: val and train are the run's own validation hold-out and "
                        "the training images without it")
    p.add_argument("--model", default=None, help="refuse the checkpoint unless it holds this model")
    p.add_argument("--batch-size", type=positive(int), default=256, help="images per batch")
    p.add_argument("--backend", choices=["numpy", "cupy"], default="numpy", help="numpy (CPU) or cupy (GPU)")
    p.set_defaults(handler=run)


def read_run_checkpoint(args):
    """(path, state, config) of the checkpoint named on the command line, its config checked."""
    path = os.path.join(args.checkpoint, "last.npz") if os.path.isdir(args.checkpoint) else args.checkpoint
    if not os.path.exists(path):
        raise UsageError(f"no checkpoint at {path}; pass a .npz written by minise train (last.npz or best.npz)")
    state = load_checkpoint(path)
    config = state.get("config") or {}
    if "model" not in config:
        raise UsageError(f"{path} does not say which model it holds; it was not written by minise train")
    if args.model is not None and model_options(args)[0] != config["model"]:
        raise UsageError(f"{path} holds model {config['model']}, not {model_options(args)[0]}; "
                         f"drop --model or pass --model {config['model']}")
    return path, state, config


def checkpoint_model(path, state, config, info, dataset):
    """The checkpoint's model, built from its settings, its weights loaded."""
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
    return model


def run(args):
    path, state, config = read_run_checkpoint(args)
    backend.use_backend(args.backend)
    dataset = args.dataset or config.get("dataset", "digits")
    val_fraction = config.get("val_fraction", 0.0) if dataset == config.get("dataset") else 0.0
    if args.split == "val" and not val_fraction:
        raise UsageError(f"{path} was trained without a validation split on {dataset}; use --split test or train")
    info, train_set, val_set, test_set = load_datasets(dataset, args.data_dir, args.download, augment=False,
                                                       train=args.split != "test", val_fraction=val_fraction)
    model = checkpoint_model(path, state, config, info, dataset)
    loader = DataLoader({"train": train_set, "val": val_set, "test": test_set}[args.split], batch_size=args.batch_size)
    result = evaluate(model, loader)
    print(f"{config['model']} ({path}, epoch {state.get('epoch')}) on {dataset} {args.split}: accuracy "
          f"{100 * result['accuracy']:.2f}% ({round(result['accuracy'] * result['count'])}/{result['count']}), "
          f"loss {result['loss']:.4f}")
    return 0
