"""Image transforms with PyTorch's names, for one image (C, H, W) or a whole batch (B, C, H, W).

Each transform is a callable ``t(x, generator=None)``. Given a batch it works on all images at
once with array operations (no Python loop over the images), which is how the
:class:`~minise.data.DataLoader` applies them to in-memory datasets.

Random transforms draw from a ``numpy.random.Generator``: the one passed in the call (the loader
passes its per-epoch generator, so a seeded loader is reproducible), else the one given to the
constructor, else a fresh unseeded one. The random draws are small host arrays (one offset or
coin flip per image); the image data itself may live on either backend.

    train_transform = Compose([RandomCrop(32, padding=4), RandomHorizontalFlip(),
                               Normalize(mean=(0.49, 0.48, 0.45), std=(0.25, 0.24, 0.26))])
"""
import numpy as np

from minise.backend import get_array_module


def _check_image(x, who):
    if getattr(x, "ndim", None) not in (3, 4):
        raise ValueError(f"{who} expects an image (C, H, W) or a batch (B, C, H, W); "
                         f"got shape {getattr(x, 'shape', None)}")


class Transform:
    """Base class. Subclasses define ``__call__(self, x, generator=None)`` for 3-D and 4-D x."""

    supports_batch = True      # works on (B, C, H, W) as well as (C, H, W)
    generator = None

    def _rng(self, generator):
        if generator is not None:
            return generator
        if self.generator is None:
            self.generator = np.random.default_rng()
        return self.generator

    def __repr__(self):
        args = ", ".join(f"{k}={v!r}" for k, v in vars(self).items() if k != "generator")
        return f"{type(self).__name__}({args})"


class Compose(Transform):
    """Apply ``transforms`` one after the other, passing the same generator to each."""

    def __init__(self, transforms):
        self.transforms = list(transforms)
        for t in self.transforms:
            if not callable(t):
                raise TypeError(f"Compose expects callables; got {t!r}")

    @property
    def supports_batch(self):
        return all(getattr(t, "supports_batch", False) for t in self.transforms)

    def __call__(self, x, generator=None):
        for t in self.transforms:
            x = t(x, generator=generator) if isinstance(t, Transform) else t(x)
        return x


class ToFloat(Transform):
    """Integer pixels to float32 in [0, 1]: y = x / max_value (255 for 8-bit images)."""

    def __init__(self, max_value=255):
        if not max_value > 0:
            raise ValueError(f"max_value must be positive; got {max_value}")
        self.max_value = max_value

    def __call__(self, x, generator=None):
        return x.astype(np.float32) / np.float32(self.max_value)


class Normalize(Transform):
    """Per-channel standardisation: y[c] = (x[c] − mean[c]) / std[c].

    ``mean`` and ``std`` hold one value per channel (or a single value for all channels).
    """

    def __init__(self, mean, std):
        self.mean = tuple(float(m) for m in np.atleast_1d(mean))
        self.std = tuple(float(s) for s in np.atleast_1d(std))
        if len(self.mean) != len(self.std):
            raise ValueError(f"mean and std need the same number of channels; got {len(self.mean)} "
                             f"and {len(self.std)}")
        if any(s <= 0 for s in self.std):
            raise ValueError(f"std must be positive in every channel; got {self.std}")

    def __call__(self, x, generator=None):
        _check_image(x, "Normalize")
        channels = x.shape[-3]
        if len(self.mean) not in (1, channels):
            raise ValueError(f"Normalize has {len(self.mean)} channel values but the image has "
                             f"{channels} channels (shape {x.shape})")
        xp = get_array_module(x)
        dtype = x.dtype if x.dtype in (np.float32, np.float64) else np.float32
        mean = xp.asarray(self.mean, dtype=dtype)[:, None, None]           # (C, 1, 1)
        std = xp.asarray(self.std, dtype=dtype)[:, None, None]             # (C, 1, 1)
        return (x.astype(dtype, copy=False) - mean) / std


class RandomHorizontalFlip(Transform):
    """Mirror left-right with probability ``p``: y[..., w] = x[..., W − 1 − w]."""

    def __init__(self, p=0.5, generator=None):
        if not 0.0 <= p <= 1.0:
            raise ValueError(f"p must be a probability in [0, 1]; got {p}")
        self.p = p
        self.generator = generator

    def __call__(self, x, generator=None):
        _check_image(x, "RandomHorizontalFlip")
        rng = self._rng(generator)
        if x.ndim == 3:
            return x[..., ::-1].copy() if rng.random() < self.p else x
        xp = get_array_module(x)
        flip = xp.asarray(rng.random(x.shape[0]) < self.p)                 # (B,)
        return xp.where(flip[:, None, None, None], x[..., ::-1], x)        # (B, C, H, W)


class RandomCrop(Transform):
    """Pad with ``padding`` zeros on every side, then cut a random ``size`` window.

    With padding p and an (H, W) image the window's top-left corner (i, j) is drawn uniformly
    from 0 ≤ i ≤ H + 2p − h and 0 ≤ j ≤ W + 2p − w, so the content shifts by up to p pixels
    each way and the uncovered border reads 0 (torchvision's default ``padding_mode``). Each
    image of a batch gets its own window.
    """

    def __init__(self, size, padding=0, generator=None):
        size = (size, size) if np.isscalar(size) else tuple(size)
        if len(size) != 2 or any(int(s) != s or s < 1 for s in size):
            raise ValueError(f"size must be a positive int or (height, width); got {size}")
        if int(padding) != padding or padding < 0:
            raise ValueError(f"padding must be a non-negative int; got {padding}")
        self.size = (int(size[0]), int(size[1]))
        self.padding = int(padding)
        self.generator = generator

    def __call__(self, x, generator=None):
        _check_image(x, "RandomCrop")
        rng = self._rng(generator)
        xp = get_array_module(x)
        h, w = self.size
        p = self.padding
        H, W = x.shape[-2] + 2 * p, x.shape[-1] + 2 * p
        if h > H or w > W:
            raise ValueError(f"RandomCrop size {self.size} is larger than the padded image "
                             f"({H}, {W}) (image {tuple(x.shape[-2:])}, padding {p})")
        if p:
            pad = [(0, 0)] * (x.ndim - 2) + [(p, p), (p, p)]
            x = xp.pad(x, pad)                                             # (..., H + 2p, W + 2p)
        if x.ndim == 3:
            i, j = int(rng.integers(0, H - h + 1)), int(rng.integers(0, W - w + 1))
            return x[:, i:i + h, j:j + w].copy()                           # (C, h, w)
        B, C = x.shape[:2]
        top = xp.asarray(rng.integers(0, H - h + 1, size=B))               # (B,)
        left = xp.asarray(rng.integers(0, W - w + 1, size=B))              # (B,)
        rows = top[:, None] + xp.arange(h)                                 # (B, h)
        cols = left[:, None] + xp.arange(w)                                # (B, w)
        b = xp.arange(B)[:, None, None, None]
        c = xp.arange(C)[None, :, None, None]
        return x[b, c, rows[:, None, :, None], cols[:, None, None, :]]     # (B, C, h, w)
