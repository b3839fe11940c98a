"""CIFAR-10: 60,000 colour images (3, 32, 32) in 10 classes, read from the BINARY release.

The binary release (``cifar-10-binary.tar.gz``) holds six files in ``cifar-10-batches-bin/``:
``data_batch_1.bin`` … ``data_batch_5.bin`` (training, 10,000 images each) and ``test_batch.bin``.
Each file is a run of 3,073-byte records:

    byte 0          the label, 0..9
    bytes 1..3072   the pixels: 1,024 red, then 1,024 green, then 1,024 blue, each 32×32 row-major

so a file reads as one (N, 3073) uint8 array with no parsing at all. minise never reads the
"python" release: its files are pickles, and unpickling a file can run arbitrary code.

The archive is extracted safely: only the six expected regular files are taken from it, and
each is written to a path minise builds itself, so a hostile member name such as
``../../.bashrc`` can never write outside the data folder.
"""
import tarfile
from pathlib import Path

import numpy as np

from ..io.atomic import atomic_write
from .dataset import ArrayDataset
from .download import fetch, missing_files_error

RECORD_BYTES = 1 + 3 * 32 * 32
FOLDER = "cifar-10-batches-bin"
ARCHIVE = "cifar-10-binary.tar.gz"
TRAIN_FILES = tuple(f"data_batch_{i}.bin" for i in range(1, 6))
TEST_FILES = ("test_batch.bin",)


def read_cifar_batch(path):
    """Read one binary batch file -> (images (N, 3, 32, 32) uint8, labels (N,) uint8)."""
    path = Path(path)
    data = np.fromfile(path, dtype=np.uint8)
    if data.size == 0 or data.size % RECORD_BYTES:
        raise ValueError(f"{path} is not a CIFAR-10 binary batch: it has {data.size} bytes, which is "
                         f"not a positive multiple of the {RECORD_BYTES}-byte record "
                         "(1 label byte + 3072 pixel bytes); the file may be truncated")
    records = data.reshape(-1, RECORD_BYTES)                               # (N, 3073)
    labels = records[:, 0]                                                 # (N,)
    if labels.max() > 9:
        raise ValueError(f"{path} has label {labels.max()} in record {int(np.argmax(labels > 9))}; "
                         "CIFAR-10 labels are 0..9 (is this a CIFAR-100 file?)")
    images = records[:, 1:].reshape(-1, 3, 32, 32)                         # (N, 3, 32, 32)
    return images, labels


def extract_cifar_archive(archive, root):
    """Extract the six batch files of ``archive`` into ``root/cifar-10-batches-bin/``.

    Members are looked up by their expected names; nothing else in the archive is written.
    """
    archive, target = Path(archive), Path(root) / FOLDER
    wanted = {f"{FOLDER}/{name}": name for name in TRAIN_FILES + TEST_FILES}
    target.mkdir(parents=True, exist_ok=True)
    found = set()
    try:
        with tarfile.open(archive, "r:*") as tar:
            for member in tar:
                name = wanted.get(member.name.removeprefix("./"))
                if name is None or not member.isfile():
                    continue
                source = tar.extractfile(member)
                with atomic_write(target / name) as out:
                    while chunk := source.read(1 << 20):
                        out.write(chunk)
                found.add(name)
    except (tarfile.TarError, EOFError, OSError) as error:
        raise ValueError(f"{archive} is not a readable CIFAR-10 archive ({error})") from error
    missing = sorted(set(wanted.values()) - found)
    if missing:
        raise ValueError(f"{archive} lacks {', '.join(f'{FOLDER}/{m}' for m in missing)}; "
                         f"is it the binary release ({ARCHIVE})?")


class CIFAR10(ArrayDataset):
    """CIFAR-10 (Krizhevsky, 2009): 50,000 training and 10,000 test images (3, 32, 32).

    Args:
        root: a folder holding ``cifar-10-batches-bin/`` or the archive ``cifar-10-binary.tar.gz``.
        train: the training split (True) or the test split (False).
        download: fetch the archive (checked against its md5) if neither is there.
        transform: optional transform of each float32 image in [0, 1].
        mirrors: base URLs to download the archive from, in order (default :attr:`MIRRORS`).
    """

    MIRRORS = ("https://www.cs.toronto.edu/~kriz/",)
    MD5 = {ARCHIVE: "c32a1d4ab5d03f1284b67883e8d87530"}    # published on the CIFAR-10 page
    classes = ["airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck"]

    def __init__(self, root, train=True, download=False, transform=None, mirrors=None):
        self.root, self.train = Path(root), bool(train)
        folder = self.root / FOLDER
        names = TRAIN_FILES if train else TEST_FILES
        if not all((folder / name).is_file() for name in names):
            archive = self.root / ARCHIVE
            if not archive.is_file():
                if not download:
                    raise missing_files_error("CIFAR-10", folder,
                                              list(names) + [f"(or the archive {archive})"])
                fetch(ARCHIVE, self.root, mirrors or self.MIRRORS, md5=self.MD5[ARCHIVE])
            extract_cifar_archive(archive, self.root)
        batches = [read_cifar_batch(folder / name) for name in names]
        images = np.concatenate([images for images, _ in batches])         # (N, 3, 32, 32)
        labels = np.concatenate([labels for _, labels in batches])         # (N,)
        super().__init__(images, labels, transform=transform)
