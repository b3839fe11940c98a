"""Holding out a validation set: a fixed, stratified part of the training images.

A run uses three disjoint sets of images, each for one job:

    train   the weights are fitted on it
    val     choices are made on it: which epoch's weights to keep (``best.npz``), which learning
            rate or reduction ratio works best
    test    measured once, at the end: an estimate of the accuracy on images never seen

Choosing on the test set spoils it. The best of 15 epochs by test accuracy is a maximum over 15
noisy measurements of the same images, so it overstates how well those weights do on new ones.
The validation images come out of the training set instead, and the test set stays untouched
until the end.

The hold-out is drawn like the digits' train/test split (:func:`minise.data.digits.stratified_split`):
no random generator, every class keeps its share, and one seed gives the same images on every
machine.
"""
from minise.data.dataset import ArrayDataset
from minise.data.digits import stratified_split

_SAME = object()


def train_val_split(dataset, val_fraction=0.1, seed=0, val_transform=_SAME):
    """(train part, validation part) of ``dataset``: a stratified ``val_fraction`` of each class
    is held out for validation, the rest is for training.

    Args:
        dataset: an :class:`ArrayDataset` (every dataset of minise is one), usually a training set.
        val_fraction: share of each class held out, strictly between 0 and 1 (0.1: 1,437 digits
            give 1,293 for training and 144 for validation).
        seed: which fixed hold-out (any integer).
        val_transform: the validation part's transform. By default both parts keep the dataset's
            own; pass the test set's transform (normalisation, no random crops or flips) so that
            validation measures the images as the test does.

    Both parts are :class:`ArrayDataset` copies of the selected images; ``dataset`` is unchanged.

        train_set, val_set = train_val_split(Digits(train=True, transform=augment), 0.1,
                                             val_transform=normalize)
    """
    if not all(hasattr(dataset, name) for name in ("images", "labels", "max_value")):
        raise TypeError(f"train_val_split needs an ArrayDataset (images and labels in memory); "
                        f"got {type(dataset).__name__}")
    if isinstance(val_fraction, bool) or not isinstance(val_fraction, (int, float)) or not 0 < val_fraction < 1:
        raise ValueError(f"val_fraction must lie strictly between 0 and 1; got {val_fraction!r}")
    train_indices, val_indices = stratified_split(dataset.labels, val_fraction, seed)
    if len(train_indices) == 0:
        raise ValueError(f"val_fraction={val_fraction} holds out all {len(dataset)} images; "
                         "nothing is left to train on")
    transform = dataset.transform

    def part(indices, transform):
        return ArrayDataset(dataset.images[indices], dataset.labels[indices], transform=transform,
                            max_value=dataset.max_value)

    return part(train_indices, transform), part(val_indices, transform if val_transform is _SAME else val_transform)
