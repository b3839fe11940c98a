"""MNIST: 70,000 handwritten digits, 28×28 grey pixels, read from the original IDX files.

The IDX format (LeCun et al.) is a tiny header followed by raw big-endian numbers:

    bytes 0-1   0x00 0x00
    byte  2     element type: 0x08 uint8, 0x09 int8, 0x0B int16, 0x0C int32, 0x0D float32, 0x0E float64
    byte  3     number of dimensions d
    then        d sizes, each a big-endian uint32
    then        the elements in C order

Image files have magic 0x00000803 (3 dims: N, 28, 28), label files 0x00000801 (1 dim: N).
Files may be gzipped (``.gz``) or not. Everything is checked before use, and a bad file gets an
error that names it.
"""
import gzip
import zlib
from pathlib import Path

import numpy as np

from minise.data.dataset import ArrayDataset
from minise.data.download import fetch, missing_files_error

IDX_TYPES = {0x08: ">u1", 0x09: ">i1", 0x0B: ">i2", 0x0C: ">i4", 0x0D: ">f4", 0x0E: ">f8"}


def read_idx(path, ndim=None):
    """Read an IDX file (plain or .gz) into a NumPy array; check its header against its size.

    ``ndim``: the number of dimensions the caller expects (3 for images, 1 for labels).
    """
    path = Path(path)
    try:
        if path.suffix == ".gz":
            with gzip.open(path, "rb") as f:
                data = f.read()
        else:
            data = path.read_bytes()
    except (EOFError, OSError, zlib.error) as error:
        if isinstance(error, FileNotFoundError):
            raise
        raise ValueError(f"{path} is not a readable IDX file ({error})") from error
    if len(data) < 4:
        raise ValueError(f"{path} is too short to be an IDX file ({len(data)} bytes)")
    zero1, zero2, type_code, dims = data[0], data[1], data[2], data[3]
    if zero1 or zero2 or type_code not in IDX_TYPES:
        raise ValueError(f"{path} is not an IDX file: its magic number is 0x{data[:4].hex()}, "
                         f"expected 0x0000TTDD with a type TT in {[hex(t) for t in IDX_TYPES]}")
    if ndim is not None and dims != ndim:
        raise ValueError(f"{path} holds {dims}-dimensional data (magic 0x{data[:4].hex()}); "
                         f"expected {ndim} dimensions (magic 0x000008{ndim:02x} for uint8 data)")
    header = 4 + 4 * dims
    if len(data) < header:
        raise ValueError(f"{path} is truncated inside its header ({len(data)} bytes, need {header})")
    shape = tuple(int(s) for s in np.frombuffer(data, dtype=">u4", count=dims, offset=4))
    dtype = np.dtype(IDX_TYPES[type_code])
    expected = header + int(np.prod(shape, dtype=np.int64)) * dtype.itemsize
    if len(data) != expected:
        what = "truncated" if len(data) < expected else "longer than its header says"
        raise ValueError(f"{path} is {what}: the header announces shape {shape} ({expected} bytes "
                         f"in all), but the file has {len(data)} bytes")
    array = np.frombuffer(data, dtype=dtype, offset=header).reshape(shape)
    return array.astype(dtype.newbyteorder("="))                           # native byte order


class MNIST(ArrayDataset):
    """The MNIST handwritten digits: 60,000 training and 10,000 test images (1, 28, 28).

    Args:
        root: a folder; the files live in ``root/mnist/``.
        train: the training split (True) or the test split (False).
        download: fetch missing files (checked against their md5).
        transform: optional transform of each float32 image in [0, 1].
        mirrors: base URLs to download from, in order (default :attr:`MIRRORS`).
    """

    MIRRORS = ("https://ossci-datasets.s3.amazonaws.com/mnist/",
               "http://yann.lecun.com/exdb/mnist/")
    # md5 of each gzipped file, as published with torchvision's MNIST dataset
    MD5 = {"train-images-idx3-ubyte.gz": "f68b3c2dcbeaaa9fbdd348bbdeb94873",
           "train-labels-idx1-ubyte.gz": "d53e105ee54ea40749a09fcbcd1e9432",
           "t10k-images-idx3-ubyte.gz": "9fb629c4189551a2d022fa330f9573f3",
           "t10k-labels-idx1-ubyte.gz": "ec29112dd5afa0611ce80d1b7f02629c"}
    classes = [str(d) for d in range(10)]

    def __init__(self, root, train=True, download=False, transform=None, mirrors=None):
        self.root, self.train = Path(root), bool(train)
        folder = self.root / "mnist"
        prefix = "train" if train else "t10k"
        names = [f"{prefix}-images-idx3-ubyte", f"{prefix}-labels-idx1-ubyte"]
        paths = [_find(folder, name) for name in names]
        if None in paths:
            if not download:
                raise missing_files_error("MNIST", folder, [f"{n} (or {n}.gz)" for n in names])
            for name, path in zip(names, paths):
                if path is None:
                    fetch(name + ".gz", folder, mirrors or self.MIRRORS, md5=self.MD5[name + ".gz"])
            paths = [_find(folder, name) for name in names]
        images = read_idx(paths[0], ndim=3)                                # (N, 28, 28)
        labels = read_idx(paths[1], ndim=1)                                # (N,)
        check_mnist(images, labels, paths)
        super().__init__(images[:, None], labels, transform=transform)     # (N, 1, 28, 28)


def check_mnist(images, labels, paths):
    """Refuse files that are valid IDX but not MNIST: other image sizes, types, labels, or no image."""
    if images.dtype != np.uint8 or labels.dtype != np.uint8:
        raise ValueError(f"MNIST files hold uint8 data; {paths[0].name} has {images.dtype}, "
                         f"{paths[1].name} has {labels.dtype}")
    if images.shape[1:] != (28, 28):
        raise ValueError(f"{paths[0]} holds images of {images.shape[1]}×{images.shape[2]} pixels; MNIST images are "
                         "28×28 (is this another dataset's file?)")
    if len(images) == 0:
        raise ValueError(f"{paths[0]} holds no image at all (its header says 0); the file is damaged or a placeholder")
    if len(images) != len(labels):
        raise ValueError(f"{paths[0]} has {len(images)} images but {paths[1]} has {len(labels)} labels")
    if labels.max() > 9:
        raise ValueError(f"{paths[1]} has label {labels.max()}; MNIST labels are 0..9")


def _find(folder, name):
    """The path of ``name`` or ``name.gz`` in ``folder`` (plain file preferred), or None."""
    for candidate in (folder / name, folder / (name + ".gz")):
        if candidate.is_file():
            return candidate
    return None
