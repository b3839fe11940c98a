"""The bundled 8×8 handwritten digits: a real dataset that needs no download.

1,797 images (1, 8, 8) of the digits 0..9, about 180 per class, from the UCI "Optical
Recognition of Handwritten Digits" data set (Alpaydin & Kaynak, 1998; CC BY 4.0, see
DIGITS_LICENSE.txt). Each pixel counts the "on" pixels in a 4×4 block of a 32×32 bitmap, so
values run 0..16; they are divided by 16 to land in [0, 1].

Small enough to train an SE-ResNet on a laptop CPU in a minute, real enough that accuracy means
something: this is the dataset of the tutorials and of the fast test runs.

The train/test split is fixed and stratified. It must be the same on every machine and every
NumPy version, so it does not use a random generator at all: each image gets the key
sha256(f"{seed}:{index}"), and within each class the images with the smallest keys form the
test set. The per-class test counts add up to ⌈test_fraction · 1797⌉ (360 of 1,797 by default),
shared out between the classes by largest remainder.
"""
import hashlib
import math
from pathlib import Path

import numpy as np

from minise.data.dataset import ArrayDataset

DIGITS_FILE = Path(__file__).with_name("digits.npz")


def load_digits_arrays():
    """All 1,797 digits: (images (1797, 8, 8) uint8 in 0..16, labels (1797,) uint8)."""
    with np.load(DIGITS_FILE, allow_pickle=False) as data:
        return data["images"], data["labels"]


def stratified_split(labels, test_fraction, seed):
    """(train_indices, test_indices), both sorted; the same for the same labels, fraction and seed."""
    if not 0.0 < test_fraction < 1.0:
        raise ValueError(f"test_fraction must lie strictly between 0 and 1; got {test_fraction}")
    labels = np.asarray(labels)
    classes, counts = np.unique(labels, return_counts=True)
    n_test = math.ceil(test_fraction * len(labels))
    exact = counts * (n_test / len(labels))                                # ideal test count per class
    quota = np.floor(exact).astype(int)
    by_remainder = np.argsort(-(exact - quota), kind="stable")             # largest remainder first
    quota[by_remainder[:n_test - quota.sum()]] += 1
    keys = np.array([int.from_bytes(hashlib.sha256(f"{seed}:{i}".encode()).digest()[:8], "big")
                     for i in range(len(labels))], dtype=np.uint64)
    test = []
    for label, k in zip(classes, quota):
        members = np.flatnonzero(labels == label)
        test.extend(members[np.argsort(keys[members], kind="stable")[:k]])
    test = np.sort(np.asarray(test, dtype=np.int64))
    train = np.setdiff1d(np.arange(len(labels)), test)
    return train, test


class Digits(ArrayDataset):
    """The bundled 8×8 digits, split into 1,437 training and 360 test images by default.

    Args:
        train: the training part (True) or the test part (False).
        transform: optional transform of each float32 image (1, 8, 8) in [0, 1].
        test_fraction: share of each class held out for testing.
        seed: which fixed split (any integer; 0 by default).
    """

    classes = [str(d) for d in range(10)]

    def __init__(self, train=True, transform=None, test_fraction=0.2, seed=0):
        images, labels = load_digits_arrays()
        train_indices, test_indices = stratified_split(labels, test_fraction, seed)
        self.train, self.indices = bool(train), train_indices if train else test_indices
        super().__init__(images[self.indices][:, None], labels[self.indices],   # (n, 1, 8, 8)
                         transform=transform, max_value=16)
