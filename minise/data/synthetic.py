"""A synthetic image dataset with a learnable structure, for tests that must run in seconds.

Each class c owns a smooth random template T_c (channels, size, size). An example of class c is

    x = clip(0.5 + contrast · T_c + noise · ε, 0, 1),   ε ~ N(0, 1) per pixel,

so a classifier can learn the classes (the templates differ) but must average out the noise.
Everything follows from ``seed``: the templates from the seed alone, the examples from the seed
and the split, so the train and test splits share their classes' templates but not their images.
"""
import numpy as np

from minise.data.dataset import ArrayDataset


def class_templates(num_classes, channels, image_size, seed):
    """(num_classes, channels, size, size) float64 patterns in [-1, 1], smooth over space."""
    rng = np.random.default_rng([seed, 0])
    coarse = rng.uniform(-1.0, 1.0, size=(num_classes, channels, 3, 3))   # (K, C, 3, 3)
    grid = np.linspace(0.0, 2.0, image_size)                               # (S,) coordinates in the 3×3 grid
    low = np.floor(grid).astype(int).clip(0, 1)
    frac = grid - low                                                      # (S,)
    # bilinear interpolation of the 3×3 grid up to size × size
    rows = coarse[:, :, low, :] * (1 - frac)[:, None] + coarse[:, :, low + 1, :] * frac[:, None]  # (K, C, S, 3)
    return rows[..., low] * (1 - frac) + rows[..., low + 1] * frac          # (K, C, S, S)


class SyntheticImages(ArrayDataset):
    """``n`` images (channels, image_size, image_size) in ``num_classes`` balanced classes.

    Args:
        n: number of examples.
        num_classes, image_size, channels: the shape of the problem.
        seed: fixes the class templates and the examples.
        train: which split (the test split draws different examples from the same templates).
        noise, contrast: the noise level and the strength of the class pattern.
        transform: optional transform of each float32 image in [0, 1].
    """

    def __init__(self, n=512, num_classes=10, image_size=8, channels=1, seed=0, train=True,
                 noise=0.15, contrast=0.35, transform=None):
        for name, value in (("n", n), ("num_classes", num_classes), ("image_size", image_size),
                            ("channels", channels)):
            if int(value) != value or value < 1:
                raise ValueError(f"{name} must be a positive integer; got {value!r}")
        if num_classes < 2:
            raise ValueError(f"num_classes must be at least 2; got {num_classes}")
        templates = class_templates(num_classes, channels, image_size, seed)  # (K, C, S, S)
        rng = np.random.default_rng([seed, 1 if train else 2])
        labels = rng.permutation(np.arange(n) % num_classes)                # (n,) balanced
        eps = rng.standard_normal((n, channels, image_size, image_size))    # (n, C, S, S)
        images = np.clip(0.5 + contrast * templates[labels] + noise * eps, 0.0, 1.0)
        self.train = bool(train)
        self.num_classes = int(num_classes)
        super().__init__(images.astype(np.float32), labels, transform=transform)
