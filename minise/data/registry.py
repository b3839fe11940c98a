"""Datasets by name, with what a model and a training script need to know about each.

    info = dataset_info("cifar10")   # num_classes=10, channels=3, image_size=32, mean, std
    train = get_dataset("cifar10", root="data", train=True, download=True)

``mean`` and ``std`` are per-channel statistics of the training images (pixels in [0, 1]),
meant for :class:`minise.data.transforms.Normalize`.
"""
import os
from dataclasses import dataclass

from minise.data.cifar import CIFAR10
from minise.data.digits import Digits
from minise.data.mnist import MNIST
from minise.data.synthetic import SyntheticImages


@dataclass(frozen=True)
class DatasetInfo:
    """Facts about one dataset; ``needs_files`` is False for the ones built into minise."""
    name: str
    num_classes: int
    channels: int
    image_size: int
    mean: tuple
    std: tuple
    train_size: int
    test_size: int
    needs_files: bool
    description: str


DATASETS = {
    "digits": DatasetInfo("digits", 10, 1, 8, (0.3047,), (0.3756,), 1437, 360, False,
                          "8×8 handwritten digits (UCI), bundled with minise"),
    "mnist": DatasetInfo("mnist", 10, 1, 28, (0.1307,), (0.3081,), 60000, 10000, True,
                         "28×28 handwritten digits (LeCun et al.), IDX files"),
    "cifar10": DatasetInfo("cifar10", 10, 3, 32, (0.4914, 0.4822, 0.4465), (0.2470, 0.2435, 0.2616),
                           50000, 10000, True, "32×32 colour images in 10 classes (Krizhevsky), binary release"),
    "synthetic": DatasetInfo("synthetic", 10, 1, 8, (0.52,), (0.20,), 512, 512, False,
                             "seeded random class patterns plus noise, for fast tests"),
}


def dataset_info(name):
    """The :class:`DatasetInfo` of ``name`` (one of ``DATASETS``)."""
    return DATASETS[_check_name(name)]


def default_data_dir():
    """Where downloaded datasets go when no root is given: $MINISE_DATA_DIR, else ./data."""
    return os.environ.get("MINISE_DATA_DIR") or "data"


def get_dataset(name, root=None, train=True, download=False, transform=None):
    """The dataset ``name`` ('digits', 'mnist', 'cifar10' or 'synthetic'), one split of it.

    ``root`` is the folder for datasets read from files (default :func:`default_data_dir`);
    the built-in ones ignore it.
    """
    name = _check_name(name)
    if name == "digits":
        return Digits(train=train, transform=transform)
    if name == "synthetic":
        info = DATASETS[name]
        return SyntheticImages(n=info.train_size if train else info.test_size, num_classes=info.num_classes,
                               image_size=info.image_size, channels=info.channels, train=train,
                               transform=transform)
    root = default_data_dir() if root is None else root
    cls = MNIST if name == "mnist" else CIFAR10
    return cls(root, train=train, download=download, transform=transform)


def _check_name(name):
    key = str(name).strip().lower()
    if key not in DATASETS:
        raise ValueError(f"unknown dataset {name!r}; choose one of {', '.join(sorted(DATASETS))}")
    return key
