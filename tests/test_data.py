"""Tests of minise.data: the bundled digits, the loader, transforms and the file readers."""
import gzip
import io
import json
import tarfile

import numpy as np
import pytest

from minise import Tensor, backend
from minise.data import (
    CIFAR10,
    DATASETS,
    MNIST,
    ArrayDataset,
    DataLoader,
    Dataset,
    Digits,
    SyntheticImages,
    dataset_info,
    get_dataset,
    train_val_split,
)
from minise.data.cifar import read_cifar_batch
from minise.data.digits import load_digits_arrays, stratified_split
from minise.data.mnist import read_idx
from minise.data.transforms import Compose, Normalize, RandomCrop, RandomHorizontalFlip, ToFloat

# -- bundled digits ---------------------------------------------------------------------------

def test_digits_has_all_1797_images_split_1437_360():
    train, test = Digits(train=True), Digits(train=False)
    assert (len(train), len(test)) == (1437, 360)
    assert np.intersect1d(train.indices, test.indices).size == 0
    assert np.array_equal(np.union1d(train.indices, test.indices), np.arange(1797))


def test_digits_split_is_deterministic_and_depends_on_seed():
    assert np.array_equal(Digits(train=False).indices, Digits(train=False).indices)
    np.random.seed(123)                      # the global generator must play no part
    assert np.array_equal(Digits(train=False).indices, Digits(train=False, seed=0).indices)
    assert not np.array_equal(Digits(train=False, seed=0).indices, Digits(train=False, seed=1).indices)


def test_digits_items_are_float32_images_in_unit_range():
    images, labels = load_digits_arrays()
    assert images.shape == (1797, 8, 8) and images.dtype == np.uint8 and images.max() == 16
    train = Digits()
    image, label = train[0]
    assert image.shape == (1, 8, 8) and image.dtype == np.float32 and isinstance(label, int)
    x, _ = train.get_batch(np.arange(len(train)))
    assert x.min() == 0.0 and x.max() == 1.0
    np.testing.assert_array_equal(x[5, 0] * 16, images[train.indices[5]])


def test_digits_split_is_stratified():
    _, labels = load_digits_arrays()
    counts = np.bincount(labels, minlength=10)
    test_counts = np.bincount(Digits(train=False).labels, minlength=10)
    assert np.all(np.abs(test_counts - 0.2 * counts) < 1)
    assert np.all(counts >= 170)                # about 180 per class: a balanced dataset


def test_stratified_split_rejects_bad_fraction():
    with pytest.raises(ValueError, match="test_fraction"):
        stratified_split(np.zeros(10, int), 1.5, seed=0)


def test_validation_split_is_held_out_of_the_training_set_stratified_and_fixed():
    train = Digits(train=True)
    fitted, held_out = train_val_split(train, 0.1)
    assert (len(fitted), len(held_out)) == (1293, 144)
    # every training image lands in exactly one part (images are told apart by their pixels and label)
    key = lambda d: sorted(d.images[i].tobytes() + bytes([d.labels[i]]) for i in range(len(d)))
    assert sorted(key(fitted) + key(held_out)) == key(train)
    assert not set(key(fitted)) & set(key(held_out))
    assert np.all(np.abs(np.bincount(held_out.labels, minlength=10) - 0.1 * np.bincount(train.labels)) < 1)
    again = train_val_split(Digits(train=True), 0.1)[1]
    assert np.array_equal(again.images, held_out.images) and np.array_equal(again.labels, held_out.labels)
    other = train_val_split(train, 0.1, seed=1)[1]
    assert not np.array_equal(other.images, held_out.images)
    assert not set(key(held_out)) & set(key(Digits(train=False)))      # the test images play no part
    assert held_out[0][0].dtype == np.float32 and held_out[0][0].max() <= 1.0


def test_validation_split_transforms_and_bad_arguments():
    augment, normalize = RandomCrop(8, padding=1), Normalize((0.3,), (0.4,))
    fitted, held_out = train_val_split(Digits(train=True, transform=augment), 0.2, val_transform=normalize)
    assert fitted.transform is augment and held_out.transform is normalize
    assert train_val_split(Digits(transform=augment), 0.2)[1].transform is augment     # kept by default
    for bad in (0, 1, 1.5, -0.1, True, "0.1"):
        with pytest.raises(ValueError, match="val_fraction"):
            train_val_split(Digits(), bad)
    with pytest.raises(ValueError, match="nothing is left to train on"):
        train_val_split(ArrayDataset(np.zeros((4, 1, 2, 2), np.float32), np.arange(4)), 0.9)
    with pytest.raises(TypeError, match="ArrayDataset"):
        train_val_split([(np.zeros((1, 2, 2)), 0)], 0.5)


def test_digits_normalisation_constants_match_the_training_images():
    info = dataset_info("digits")
    x, _ = Digits().get_batch(np.arange(1437))
    assert abs(x.mean() - info.mean[0]) < 1e-3 and abs(x.std() - info.std[0]) < 1e-3


# -- the loader -------------------------------------------------------------------------------

def indexed_dataset(n=10, transform=None):
    """Image k is filled with k / 100 and labelled k: batches reveal the order."""
    images = np.broadcast_to((np.arange(n) / 100.0)[:, None, None, None], (n, 1, 2, 2)).astype(np.float32)
    return ArrayDataset(images, np.arange(n), transform=transform)


def epoch_labels(loader):
    return [y.tolist() for _, y in loader]


def test_loader_batch_shapes_dtypes_and_length():
    loader = DataLoader(Digits(train=False), batch_size=64)
    batches = list(loader)
    assert len(loader) == len(batches) == 6
    x, y = batches[0]
    assert x.shape == (64, 1, 8, 8) and x.dtype == np.float32
    assert y.shape == (64,) and y.dtype == np.int64
    assert batches[-1][0].shape == (360 - 5 * 64, 1, 8, 8)


def test_loader_drop_last():
    loader = DataLoader(indexed_dataset(10), batch_size=4, drop_last=True)
    assert len(loader) == 2 and epoch_labels(loader) == [[0, 1, 2, 3], [4, 5, 6, 7]]
    assert len(DataLoader(indexed_dataset(10), batch_size=4)) == 3


def test_loader_without_shuffle_keeps_order():
    assert epoch_labels(DataLoader(indexed_dataset(5), batch_size=2)) == [[0, 1], [2, 3], [4]]


def test_shuffle_visits_each_example_once_reproducibly_and_differently_each_epoch():
    make = lambda seed: DataLoader(indexed_dataset(20), batch_size=6, shuffle=True, seed=seed)
    a, b, c = make(7), make(7), make(8)
    first, second = epoch_labels(a), epoch_labels(a)
    assert sorted(sum(first, [])) == list(range(20))
    assert first != second                              # a new order each epoch
    assert [first, second] == [epoch_labels(b), epoch_labels(b)]
    assert epoch_labels(c) != first


def test_state_dict_resume_mid_epoch_repeats_batches_and_augmentation():
    transform = Compose([RandomCrop(8, padding=2), RandomHorizontalFlip()])
    data = Digits(train=False, transform=transform)
    reference = DataLoader(data, batch_size=50, shuffle=True, seed=3)
    expected = [x for x, _ in reference] + [x for x, _ in reference]   # two epochs

    loader = DataLoader(data, batch_size=50, shuffle=True, seed=3)
    seen = []
    for x, _ in loader:
        seen.append(x)
        if len(seen) == 3:
            state = json.loads(json.dumps(loader.state_dict()))       # must survive JSON
            break
    resumed = DataLoader(data, batch_size=50, shuffle=True, seed=999)  # the seed comes from the state
    resumed.load_state_dict(state)
    seen += [x for x, _ in resumed] + [x for x, _ in resumed]
    assert len(seen) == len(expected)
    for got, want in zip(seen, expected):
        np.testing.assert_array_equal(got, want)


def test_state_saved_after_last_batch_resumes_at_next_epoch():
    loader = DataLoader(indexed_dataset(6), batch_size=3, shuffle=True, seed=1)
    for _ in loader:
        state = loader.state_dict()
    second = epoch_labels(loader)
    resumed = DataLoader(indexed_dataset(6), batch_size=3, shuffle=True, seed=1)
    resumed.load_state_dict(state)
    assert epoch_labels(resumed) == second


def test_abandoned_epoch_is_not_continued():
    loader = DataLoader(indexed_dataset(9), batch_size=3, shuffle=True, seed=2)
    full = DataLoader(indexed_dataset(9), batch_size=3, shuffle=True, seed=2)
    epoch_labels(full)
    next(iter(loader))
    assert epoch_labels(loader) == epoch_labels(full)   # both are now in epoch 1


def test_load_state_dict_refuses_a_different_loader():
    state = DataLoader(indexed_dataset(6), batch_size=3).state_dict()
    with pytest.raises(ValueError, match="batch_size"):
        DataLoader(indexed_dataset(6), batch_size=2).load_state_dict(state)
    with pytest.raises(ValueError, match="keys"):
        DataLoader(indexed_dataset(6)).load_state_dict({"epoch": 1})


@pytest.mark.parametrize("batch_size", [0, -1, 1.5, True, "4"])
def test_loader_rejects_bad_batch_size(batch_size):
    with pytest.raises(ValueError, match="batch_size"):
        DataLoader(indexed_dataset(4), batch_size=batch_size)


def test_loader_rejects_empty_dataset_and_impossible_drop_last_and_bad_device():
    empty = ArrayDataset(np.zeros((0, 1, 2, 2), np.float32), np.zeros(0, np.int64))
    with pytest.raises(ValueError, match="empty"):
        DataLoader(empty)
    with pytest.raises(ValueError, match="no batch"):
        DataLoader(indexed_dataset(3), batch_size=4, drop_last=True)
    with pytest.raises(ValueError, match="device"):
        DataLoader(indexed_dataset(3), device="tpu")


class ListDataset(Dataset):
    def __init__(self, items):
        self.items = items

    def __len__(self):
        return len(self.items)

    def __getitem__(self, i):
        return self.items[i]


def test_generic_dataset_is_batched_item_by_item():
    items = [(np.full((2, 3, 3), k, np.float64), k) for k in range(5)]
    x, y = next(iter(DataLoader(ListDataset(items), batch_size=4)))
    assert x.shape == (4, 2, 3, 3) and x.dtype == np.float32 and y.tolist() == [0, 1, 2, 3]
    assert isinstance(x, Tensor) and isinstance(y, Tensor) and y.dtype == np.int64 and not x.requires_grad
    features = ListDataset([(Tensor(np.full(3, k, np.float64)), float(k) / 2) for k in range(5)])   # as in PyTorch
    x, y = next(iter(DataLoader(features, batch_size=5)))
    assert x.shape == (5, 3) and x.dtype == np.float64 and y.dtype == np.float32 and y.tolist() == [0, .5, 1, 1.5, 2]
    with pytest.raises(ValueError, match="share a shape"):
        next(iter(DataLoader(ListDataset([(np.zeros(3), 0), (np.zeros(4), 1)]), batch_size=2)))
    with pytest.raises(ValueError, match=r"pair \(input, target\)"):
        next(iter(DataLoader(ListDataset([np.zeros(3)]))))


def test_vectorised_batch_equals_item_by_item():
    data = Digits(train=False, transform=Normalize(0.3, 0.4))
    x, y = data.get_batch(np.array([3, 1, 4]))
    for row, i in enumerate([3, 1, 4]):
        image, label = data[i]
        np.testing.assert_allclose(x[row], image, rtol=1e-6)
        assert y[row] == label
    per_item = ArrayDataset(data.images, data.labels, max_value=16, transform=lambda im: (im - 0.3) / 0.4)
    np.testing.assert_allclose(per_item.get_batch(np.array([3, 1, 4]))[0], x, rtol=1e-6)


class _DeviceArray(np.ndarray):
    """A host array that the backend is told to treat as a device array."""


class _FakeDevice:
    ndarray = _DeviceArray

    @staticmethod
    def asarray(a):
        return np.array(a).view(_DeviceArray)

    @staticmethod
    def asnumpy(a):
        return np.array(a.view(np.ndarray))


def test_loader_puts_batches_on_the_requested_or_default_device():
    previous = backend.set_device_module(_FakeDevice)
    try:
        x, y = next(iter(DataLoader(indexed_dataset(4), batch_size=2, device="cuda")))
        assert type(x.data) is _DeviceArray and type(y.data) is _DeviceArray and x.device == "cuda"
        with backend.use_backend("cupy"):
            x, _ = next(iter(DataLoader(indexed_dataset(4), batch_size=2)))
        assert type(x.data) is _DeviceArray
        x, _ = next(iter(DataLoader(indexed_dataset(4), batch_size=2)))
        assert type(x.data) is np.ndarray
    finally:
        backend.set_device_module(previous)


def test_batch_transforms_run_on_device_arrays(device_backend):
    """The same transforms on the strict CuPy stand-in give the same numbers as on NumPy."""
    batch = ramp(6, 2, 5, 5) / 50
    t = Compose([ToFloat(1), RandomCrop(5, padding=2), RandomHorizontalFlip(), Normalize((0.1, 0.2), (0.5, 0.4))])
    expected = t(batch, generator=np.random.default_rng(9))
    out = t(device_backend.asarray(batch), generator=np.random.default_rng(9))
    assert backend.device_of(out) == device_backend.device
    np.testing.assert_allclose(device_backend.to_numpy(out), expected, rtol=1e-6)
    x, y = next(iter(DataLoader(Digits(train=False, transform=t.transforms[1]), batch_size=8, seed=0)))
    assert x.device == y.device == backend.default_device()


# -- transforms -------------------------------------------------------------------------------

def ramp(*shape):
    return np.arange(np.prod(shape), dtype=np.float32).reshape(shape) + 1   # no zeros, no ties


def test_flip_is_a_mirror_image_per_item_and_per_batch():
    x = ramp(2, 3, 4)
    np.testing.assert_array_equal(RandomHorizontalFlip(p=1.0)(x), x[:, :, ::-1])
    np.testing.assert_array_equal(RandomHorizontalFlip(p=0.0)(x), x)
    batch = ramp(200, 1, 2, 3)
    out = RandomHorizontalFlip(p=0.5)(batch, generator=np.random.default_rng(0))
    flipped = np.all(out == batch[..., ::-1], axis=(1, 2, 3))
    kept = np.all(out == batch, axis=(1, 2, 3))
    assert np.all(flipped ^ kept) and 60 < flipped.sum() < 140
    again = RandomHorizontalFlip(p=0.5)(batch, generator=np.random.default_rng(0))
    np.testing.assert_array_equal(out, again)


def crop_offsets(out, x, padding):
    """All (i, j) whose window of the zero-padded x equals out."""
    padded = np.pad(x, [(0, 0), (padding, padding), (padding, padding)])
    h, w = out.shape[-2:]
    return [(i, j) for i in range(padded.shape[1] - h + 1) for j in range(padded.shape[2] - w + 1)
            if np.array_equal(padded[:, i:i + h, j:j + w], out)]


def test_crop_with_padding_shifts_content_and_fills_zeros():
    x = ramp(2, 5, 5)
    rng = np.random.default_rng(1)
    seen = set()
    for _ in range(60):
        out = RandomCrop(5, padding=2)(x, generator=rng)
        assert out.shape == (2, 5, 5)
        (i, j), = crop_offsets(out, x, 2)
        seen.add((i, j))
        if (i, j) == (0, 0):          # shifted down-right by 2: the top rows are padding
            assert np.all(out[:, :2] == 0) and np.array_equal(out[:, 2:, 2:], x[:, :3, :3])
    assert len(seen) > 15             # 25 possible windows, drawn uniformly


def test_crop_batch_gives_each_image_its_own_window():
    batch = ramp(40, 3, 6, 6)
    out = RandomCrop((4, 5), padding=1)(batch, generator=np.random.default_rng(2))
    assert out.shape == (40, 3, 4, 5)
    offsets = [crop_offsets(out[k], batch[k], 1) for k in range(40)]
    assert all(len(o) == 1 for o in offsets)
    assert len({o[0] for o in offsets}) > 5
    np.testing.assert_array_equal(RandomCrop(6)(batch), batch)


def test_crop_rejects_windows_larger_than_the_padded_image():
    with pytest.raises(ValueError, match="larger"):
        RandomCrop(8, padding=1)(ramp(1, 5, 5))
    with pytest.raises(ValueError, match="padding"):
        RandomCrop(4, padding=-1)


def test_normalize_matches_the_formula_per_item_and_per_batch():
    mean, std = (0.1, 0.5, -0.2), (0.3, 2.0, 0.7)
    batch = np.random.default_rng(3).random((4, 3, 2, 2)).astype(np.float32)
    expected = (batch - np.array(mean)[:, None, None]) / np.array(std)[:, None, None]
    t = Normalize(mean, std)
    np.testing.assert_allclose(t(batch), expected, rtol=1e-6)
    np.testing.assert_allclose(t(batch[1]), expected[1], rtol=1e-6)
    assert t(batch).dtype == np.float32
    with pytest.raises(ValueError, match="channels"):
        t(np.zeros((2, 4, 4), np.float32))
    with pytest.raises(ValueError, match="positive"):
        Normalize(0.5, 0.0)


def test_to_float_and_compose_and_bad_shapes():
    assert ToFloat()(np.array([[[0, 255]]], np.uint8)).tolist() == [[[0.0, 1.0]]]
    t = Compose([RandomCrop(4, padding=1), RandomHorizontalFlip(), Normalize(0.5, 0.25)])
    x = ramp(8, 1, 4, 4) / 32
    np.testing.assert_array_equal(t(x, generator=np.random.default_rng(5)), t(x, generator=np.random.default_rng(5)))
    assert t.supports_batch and not Compose([lambda v: v]).supports_batch
    with pytest.raises(ValueError, match=r"\(C, H, W\)"):
        RandomHorizontalFlip()(np.zeros((4, 4)))


# -- file formats: MNIST IDX ------------------------------------------------------------------

def idx_bytes(array, type_code=0x08):
    header = bytes([0, 0, type_code, array.ndim]) + np.asarray(array.shape, ">u4").tobytes()
    return header + array.astype(">u1").tobytes()


def write_mnist(folder, prefix, images, labels, gz):
    folder.mkdir(parents=True, exist_ok=True)
    for name, array in ((f"{prefix}-images-idx3-ubyte", images), (f"{prefix}-labels-idx1-ubyte", labels)):
        data = idx_bytes(array)
        if gz:
            (folder / (name + ".gz")).write_bytes(gzip.compress(data))
        else:
            (folder / name).write_bytes(data)


@pytest.mark.parametrize("gz", [False, True])
def test_mnist_reads_idx_files(tmp_path, gz):
    rng = np.random.default_rng(0)
    images, labels = rng.integers(0, 256, (7, 28, 28), dtype=np.uint8), rng.integers(0, 10, 7).astype(np.uint8)
    write_mnist(tmp_path / "mnist", "t10k", images, labels, gz)
    data = MNIST(tmp_path, train=False)
    assert len(data) == 7
    image, label = data[3]
    assert image.shape == (1, 28, 28) and label == labels[3]
    np.testing.assert_allclose(image[0], images[3] / 255.0, rtol=1e-6)


def test_idx_reader_refuses_bad_files_naming_them(tmp_path):
    good = idx_bytes(np.zeros((2, 4, 4), np.uint8))
    cases = {"magic": b"\x12\x34" + good[2:], "truncated": good[:-5], "dims": idx_bytes(np.zeros(4, np.uint8))}
    for name, data in cases.items():
        (tmp_path / name).write_bytes(data)
    with pytest.raises(ValueError, match=r"magic.*magic number is 0x1234"):
        read_idx(tmp_path / "magic", ndim=3)
    with pytest.raises(ValueError, match=r"truncated.*announces shape \(2, 4, 4\)"):
        read_idx(tmp_path / "truncated", ndim=3)
    with pytest.raises(ValueError, match=r"dims holds 1-dimensional"):
        read_idx(tmp_path / "dims", ndim=3)
    (tmp_path / "cut.gz").write_bytes(gzip.compress(good)[:-10])
    with pytest.raises(ValueError, match="cut.gz"):
        read_idx(tmp_path / "cut.gz")


def test_mnist_refuses_count_mismatch_and_explains_missing_files(tmp_path):
    write_mnist(tmp_path / "mnist", "train", np.zeros((3, 28, 28), np.uint8), np.zeros(2, np.uint8), gz=False)
    with pytest.raises(ValueError, match="3 images but .* 2 labels"):
        MNIST(tmp_path)
    with pytest.raises(FileNotFoundError) as info:
        MNIST(tmp_path / "elsewhere", train=False)
    message = str(info.value)
    assert "t10k-images-idx3-ubyte" in message and "elsewhere" in message
    assert "download=True" in message and "--data-dir" in message


@pytest.mark.parametrize("images, labels, expected", [
    (np.zeros((3, 32, 32), np.uint8), np.zeros(3, np.uint8), "images of 32×32 pixels; MNIST images are 28×28"),
    (np.zeros((3, 28, 14), np.uint8), np.zeros(3, np.uint8), "images of 28×14 pixels"),
    (np.zeros((0, 28, 28), np.uint8), np.zeros(0, np.uint8), "holds no image at all")])
def test_mnist_refuses_idx_files_of_another_image_size_or_without_images(tmp_path, images, labels, expected):
    """Files whose IDX header is consistent but which are not MNIST are refused, naming the file."""
    write_mnist(tmp_path / "mnist", "train", images, labels, gz=False)
    with pytest.raises(ValueError, match=expected) as caught:
        MNIST(tmp_path)
    assert "train-images-idx3-ubyte" in str(caught.value)


# -- file formats: CIFAR-10 binary ------------------------------------------------------------

def cifar_records(n, seed):
    rng = np.random.default_rng(seed)
    labels = rng.integers(0, 10, n).astype(np.uint8)
    images = rng.integers(0, 256, (n, 3, 32, 32), dtype=np.uint8)
    return labels, images, np.concatenate([labels[:, None], images.reshape(n, -1)], axis=1).tobytes()


def cifar_archive(extra_members=()):
    """A small cifar-10-binary.tar.gz in the real layout; returns (bytes, {file: (labels, images)})."""
    content, buffer = {}, io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as tar:
        names = [f"data_batch_{i}.bin" for i in range(1, 6)] + ["test_batch.bin"]
        for k, name in enumerate(names):
            labels, images, data = cifar_records(2 + k, seed=k)
            content[name] = (labels, images)
            member = tarfile.TarInfo(f"cifar-10-batches-bin/{name}")
            member.size = len(data)
            tar.addfile(member, io.BytesIO(data))
        for name, data in extra_members:
            member = tarfile.TarInfo(name)
            member.size = len(data)
            tar.addfile(member, io.BytesIO(data))
    return buffer.getvalue(), content


def test_cifar_reads_binary_batches(tmp_path):
    folder = tmp_path / "cifar-10-batches-bin"
    folder.mkdir()
    labels, images, data = cifar_records(4, seed=0)
    (folder / "test_batch.bin").write_bytes(data)
    test = CIFAR10(tmp_path, train=False)
    assert len(test) == 4
    image, label = test[2]
    assert image.shape == (3, 32, 32) and label == labels[2]
    np.testing.assert_allclose(image, images[2] / 255.0, rtol=1e-6)   # red plane first, row-major


def test_cifar_extracts_the_archive_safely(tmp_path):
    archive, content = cifar_archive(extra_members=[("../escaped.bin", b"x"), ("cifar-10-batches-bin/readme", b"y")])
    root = tmp_path / "root"
    root.mkdir()
    (root / "cifar-10-binary.tar.gz").write_bytes(archive)
    train = CIFAR10(root, train=True)
    assert len(train) == sum(2 + k for k in range(5))
    np.testing.assert_array_equal(train.labels[:2], content["data_batch_1.bin"][0])
    np.testing.assert_array_equal(train.images[-6:], content["data_batch_5.bin"][1])
    assert not (tmp_path / "escaped.bin").exists() and not (root / "escaped.bin").exists()
    assert sorted(p.name for p in (root / "cifar-10-batches-bin").iterdir()) == sorted(content)


def test_cifar_refuses_bad_files_and_explains_missing_ones(tmp_path):
    _, _, data = cifar_records(2, seed=1)
    (tmp_path / "short.bin").write_bytes(data[:-1])
    with pytest.raises(ValueError, match="short.bin.*3073-byte record"):
        read_cifar_batch(tmp_path / "short.bin")
    (tmp_path / "label.bin").write_bytes(bytes([42]) + data[1:])
    with pytest.raises(ValueError, match="label 42"):
        read_cifar_batch(tmp_path / "label.bin")
    with pytest.raises(FileNotFoundError, match=r"test_batch.bin.*download=True.*--data-dir"):
        CIFAR10(tmp_path / "none", train=False)


# -- synthetic data and the registry ----------------------------------------------------------

def test_synthetic_images_are_seeded_balanced_and_learnable():
    train = SyntheticImages(n=300, num_classes=3, image_size=6, channels=2, seed=4)
    again = SyntheticImages(n=300, num_classes=3, image_size=6, channels=2, seed=4)
    test = SyntheticImages(n=300, num_classes=3, image_size=6, channels=2, seed=4, train=False)
    np.testing.assert_array_equal(train.images, again.images)
    assert not np.array_equal(train.images, test.images)
    assert train.images.shape == (300, 2, 6, 6) and 0 <= train.images.min() and train.images.max() <= 1
    assert np.bincount(train.labels).tolist() == [100, 100, 100]
    centroids = np.stack([train.images[train.labels == k].mean(0) for k in range(3)])
    distances = ((test.images[:, None] - centroids[None]) ** 2).sum(axis=(2, 3, 4))
    assert (distances.argmin(1) == test.labels).mean() > 0.9


def test_get_dataset_by_name_and_metadata(tmp_path):
    assert set(DATASETS) == {"digits", "mnist", "cifar10", "synthetic"}
    for name in ("digits", "synthetic"):
        info, data = dataset_info(name), get_dataset(name, train=False)
        assert len(data) == info.test_size
        assert data.image_shape == (info.channels, info.image_size, info.image_size)
        assert data.labels.max() == info.num_classes - 1
    assert dataset_info("cifar10").channels == 3 and len(dataset_info("cifar10").mean) == 3
    with pytest.raises(ValueError, match="cifar10, digits, mnist, synthetic"):
        get_dataset("imagenet")
    with pytest.raises(FileNotFoundError, match="mnist"):
        get_dataset("mnist", root=tmp_path)
