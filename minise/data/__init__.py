"""Data for minise: datasets, a batching loader, transforms and a safe downloader.

Batches are Tensors outside the graph, as in PyTorch (their arrays, NumPy or CuPy, are ``x.data``):
``x`` (B, C, H, W) float32 and ``y`` (B,) int64. This package uses nothing of minise but
:mod:`minise.backend`, the generator (:mod:`minise.rng`) and the Tensor that wraps a batch.

    from minise.data import Digits, DataLoader, train_val_split
    loader = DataLoader(Digits(train=True), batch_size=64, shuffle=True, seed=0)
    train_set, val_set = train_val_split(Digits(train=True), val_fraction=0.1)   # hold out a validation set
"""
from minise.data import transforms
from minise.data.cifar import CIFAR10
from minise.data.dataset import ArrayDataset, Dataset, TensorDataset
from minise.data.digits import Digits
from minise.data.download import ChecksumError, DownloadError, download_url
from minise.data.loader import DataLoader
from minise.data.mnist import MNIST
from minise.data.registry import DATASETS, DatasetInfo, dataset_info, default_data_dir, get_dataset
from minise.data.split import train_val_split
from minise.data.synthetic import SyntheticImages
from minise.pytorch_names import module_getattr as _module_getattr

__all__ = ["ArrayDataset", "CIFAR10", "ChecksumError", "DATASETS", "DataLoader", "Dataset", "DatasetInfo",
           "Digits", "DownloadError", "MNIST", "SyntheticImages", "TensorDataset", "dataset_info", "default_data_dir",
           "download_url", "get_dataset", "train_val_split", "transforms"]
__getattr__ = _module_getattr("minise.data")    # a PyTorch data tool minise lacks: what to use instead
