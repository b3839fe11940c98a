"""Datasets: a numbered collection of (image, label) pairs.

A dataset answers two questions, the same ones as PyTorch's ``torch.utils.data.Dataset``:

* ``len(dataset)``   how many examples there are;
* ``dataset[i]``     the i-th example, as ``(image, label)`` with ``image`` a float32 array of
                     shape (C, H, W) holding values in [0, 1] (before any transform) and
                     ``label`` a Python int.

Batches are built by :class:`minise.data.DataLoader`. It asks a dataset for a whole batch at
once through ``get_batch(indices, generator)`` when the dataset has that method; the base class
below implements it with a loop over ``dataset[i]``, and :class:`ArrayDataset` overrides it with
one fancy-indexing gather plus batch-level transforms, which is much faster.

:class:`TensorDataset` holds any two tensors sharing their first dimension (features and
targets), as PyTorch's does.

Every dataset that ships with minise (digits, MNIST, CIFAR-10, synthetic) is an
:class:`ArrayDataset`: its images live in memory as a compact uint8 array and become float32
only one batch at a time.
"""
import numpy as np

from minise.backend import get_array_module
from minise.tensor import Tensor


class Dataset:
    """Base class: subclasses define ``__len__`` and ``__getitem__``.

    ``__getitem__(index) -> (image (C, H, W) float32, label int)`` for the image datasets; a
    dataset of your own may return any (input, target) pair of Tensors, arrays or numbers, as in
    PyTorch (see :func:`stack_items`).
    ``get_batch(indices, generator)`` is provided here as a plain loop; override it when the
    data can be gathered faster.
    """

    def __len__(self):
        raise NotImplementedError(f"{type(self).__name__} must define __len__")

    def __getitem__(self, index):
        raise NotImplementedError(f"{type(self).__name__} must define __getitem__")

    def get_batch(self, indices, generator=None):
        """Stack ``self[i]`` for every i in ``indices`` -> (x, y): for images, x (B, C, H, W) float32 and
        y (B,) int64 (see :func:`stack_items`).

        ``generator`` is ignored here: a generic dataset draws its own random numbers.
        """
        return stack_items([self[int(i)] for i in indices])


def stack_items(items):
    """Stack a list of (input, target) pairs into a batch (x, y), as PyTorch's loader collates.

    Images (arrays of shape (C, H, W)) become x (B, C, H, W) float32; any other inputs (feature
    vectors, numbers) are stacked as they are, keeping their dtype. Integer targets (class indices)
    become y (B,) int64; other targets (regression values, vectors) are stacked as they are. An
    item may hold Tensors, arrays or Python numbers; Python floats become float32.
    """
    if not items or not all(isinstance(item, (tuple, list)) and len(item) == 2 for item in items):
        found = type(items[0]).__name__ if items else "nothing"
        raise ValueError(f"a dataset item must be a pair (input, target), as dataset[i] returns in PyTorch; "
                         f"got {found}")
    inputs = [_array(x) for x, _ in items]
    targets = [_array(y) for _, y in items]
    for name, parts in (("input", inputs), ("target", targets)):
        shapes = {tuple(part.shape) for part in parts}
        if len(shapes) > 1:
            raise ValueError(f"the {name}s of one batch must share a shape; got {sorted(shapes)}")
    xp = get_array_module(*inputs)
    x = xp.stack(inputs)
    if x.ndim == 4:
        x = x.astype(np.float32, copy=False)                              # (B, C, H, W) images
    y = get_array_module(*targets).stack(targets)
    if y.ndim == 1 and y.dtype.kind in "iub":
        y = y.astype(np.int64, copy=False)                                # (B,) class indices
    return x, y


def _array(value):
    """A dataset item's part as an array: a Tensor's data, an array, or a Python number (a float as float32)."""
    if isinstance(value, Tensor):
        return value.data
    if hasattr(value, "shape") and hasattr(value, "dtype"):
        return value
    array = np.asarray(value)
    return array.astype(np.float32) if array.dtype == np.float64 and not isinstance(value, np.floating) else array


class TensorDataset(Dataset):
    """Examples held in two tensors (or arrays) that share their first dimension, as PyTorch's
    ``TensorDataset(inputs, targets)``: ``dataset[i]`` is ``(inputs[i], targets[i])``.

    Unlike the image datasets, any shapes and dtypes are kept as they are: the loader hands out
    batches ``(inputs[indices], targets[indices])``, e.g. x (B, features) float32 and y (B,) int64.
    The data stays where the tensors are (host or device) until the loader moves a batch.
    """

    keeps_shapes_and_dtypes = True          # read by DataLoader: no image-batch checks or casts

    def __init__(self, inputs, targets, *more):
        if more:
            raise TypeError(f"TensorDataset holds two tensors, (inputs, targets); got {2 + len(more)}. Keep the "
                            "extra ones in a dataset of your own (a Dataset with __len__ and __getitem__)")
        self.inputs, self.targets = (t.data if isinstance(t, Tensor) else t for t in (inputs, targets))
        for name, a in (("inputs", self.inputs), ("targets", self.targets)):
            if not hasattr(a, "shape") or len(a.shape) == 0:
                raise TypeError(f"TensorDataset: {name} must be a Tensor or an array with a first dimension "
                                f"(one row per example), got {type(a).__name__}")
        if len(self.inputs) != len(self.targets):
            raise ValueError(f"TensorDataset: inputs have {len(self.inputs)} rows but targets have "
                             f"{len(self.targets)}; they must match, one row per example")

    def __len__(self):
        return len(self.inputs)

    def __getitem__(self, index):
        """``(inputs[index], targets[index])`` as Tensors, as in PyTorch."""
        return Tensor(self.inputs[index]), Tensor(self.targets[index])

    def get_batch(self, indices, generator=None):
        """(inputs[indices], targets[indices]) in one gather each, as arrays (the loader wraps them)."""
        indices = get_array_module(self.inputs).asarray(indices, dtype=np.int64)
        return self.inputs[indices], self.targets[indices]


class ArrayDataset(Dataset):
    """A dataset held in two in-memory arrays, like PyTorch's ``TensorDataset``.

    Args:
        images: NumPy array (N, C, H, W) or (N, H, W) (one channel is then added). uint8 images
            are stored as they are and divided by ``max_value`` when an example is read.
        labels: integer array (N,) of class indices.
        transform: optional callable applied to the float32 image. A transform from
            :mod:`minise.data.transforms` also works on whole batches, so the loader applies it
            once per batch; any other callable is applied image by image.
        max_value: the value that maps to 1.0: default 255 for uint8 images, 1 for float images.

    ``dataset[i]`` -> (image (C, H, W) float32, label int).
    """

    def __init__(self, images, labels, transform=None, max_value=None):
        images, labels = np.asarray(images), np.asarray(labels)
        if images.ndim == 3:
            images = images[:, None]                                        # (N, 1, H, W)
        if images.ndim != 4:
            raise ValueError(f"images must have shape (N, C, H, W) or (N, H, W); got {images.shape}")
        if labels.ndim != 1 or len(labels) != len(images):
            raise ValueError(f"labels must have shape (N,) = ({len(images)},) to match the images; "
                             f"got {labels.shape}")
        if labels.size and not np.issubdtype(labels.dtype, np.integer):
            raise TypeError(f"labels must be integers (class indices); got dtype {labels.dtype}")
        if max_value is None:
            if images.dtype == np.uint8:
                max_value = 255
            elif np.issubdtype(images.dtype, np.floating):
                max_value = 1
            else:
                raise TypeError(f"images of dtype {images.dtype} need an explicit max_value "
                                "(the value that means full intensity)")
        if not max_value > 0:
            raise ValueError(f"max_value must be positive; got {max_value}")
        self.images = images
        self.labels = labels.astype(np.int64)
        self.transform = transform
        self.max_value = float(max_value)

    def __len__(self):
        return len(self.images)

    def __getitem__(self, index):
        index = int(index)
        if not -len(self) <= index < len(self):
            raise IndexError(f"index {index} is out of range for a dataset of {len(self)} examples")
        image = self._to_float(self.images[index])                         # (C, H, W)
        if self.transform is not None:
            image = self.transform(image)
        return image, int(self.labels[index])

    def get_batch(self, indices, generator=None):
        """Gather a batch by fancy indexing -> (x (B, C, H, W) float32, y (B,) int64).

        Random transforms draw from ``generator`` (the loader's per-epoch generator), so a seeded
        loader gives the same augmented batches on every run.
        """
        indices = np.asarray(indices, dtype=np.int64)
        if self.transform is not None and not getattr(self.transform, "supports_batch", False):
            return stack_items([self[i] for i in indices])                 # per-image fallback
        x = self._to_float(self.images[indices])                           # (B, C, H, W)
        if self.transform is not None:
            x = self.transform(x, generator=generator)
        return x, self.labels[indices]

    def _to_float(self, images):
        x = images.astype(np.float32)
        if self.max_value != 1.0:
            x /= np.float32(self.max_value)
        return x

    @property
    def image_shape(self):
        """(C, H, W) of one image."""
        return tuple(self.images.shape[1:])

    def __repr__(self):
        return (f"{type(self).__name__}({len(self)} images of shape {self.image_shape}, "
                f"transform={self.transform!r})")
