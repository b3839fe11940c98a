"""From command-line options to the objects of a run: datasets, model, optimizer, schedule."""
import os

from .. import models
from ..data import dataset_info, get_dataset, train_val_split
from ..data import transforms as T
from ..optim import SGD, Adam, AdamW, CosineAnnealingLR, LinearWarmup, MultiStepLR, StepLR
from .common import UsageError

DATASETS = ["digits", "mnist", "cifar10", "synthetic"]


def data_transforms(info, augment):
    """(train transform, test transform): normalisation, plus a random shift (and flip for CIFAR)."""
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
    """(model name, keyword arguments) from --model, --no-se, --reduction and --width."""
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
    size = 32 if isinstance(model, models.CifarResNet) else 224
    return (model.in_channels, size, size)


def make_optimizer(name, params, lr, weight_decay):
    if name == "sgd":
        return SGD(params, lr=lr, momentum=0.9, weight_decay=weight_decay, nesterov=True)
    return (Adam if name == "adam" else AdamW)(params, lr=lr, weight_decay=weight_decay)


def make_schedule(name, optimizer, epochs, warmup):
    after_warmup = max(1, epochs - warmup)
    schedule = {"cosine": lambda: CosineAnnealingLR(optimizer, T_max=after_warmup),
                "step": lambda: StepLR(optimizer, step_size=max(1, after_warmup // 3)),
                "multistep": lambda: MultiStepLR(optimizer, [after_warmup // 2, 3 * after_warmup // 4]),
                "none": lambda: None}[name]()
    return LinearWarmup(optimizer, warmup, after=schedule) if warmup else schedule
