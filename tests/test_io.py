"""Saving and loading: .npz round trips, atomic writes, bad files, PyTorch and safetensors weights."""
import json
import os
import struct
import zipfile
from io import BytesIO

import numpy as np
import pytest

from minise import Tensor, io, nn
from minise.io import npz
from minise.rng import manual_seed


def model():
    manual_seed(0)
    return nn.Sequential(nn.Conv2d(3, 8, 3, bias=False), nn.BatchNorm2d(8), nn.ReLU(), nn.SEBlock(8, reduction=4))


def test_state_dict_round_trip_is_bit_identical(tmp_path):
    net = model()
    net.train()
    net(Tensor(np.random.default_rng(0).standard_normal((2, 3, 5, 5)).astype(np.float32)))
    sd = net.state_dict()
    sd["extra"] = np.array([np.nan, -0.0, 1e-45, np.inf], np.float64)
    io.save(sd, tmp_path / "m.npz")
    back = io.load(tmp_path / "m.npz")
    assert list(back) == list(sd)
    for name, value in sd.items():
        assert back[name].dtype == value.dtype and back[name].shape == value.shape, name
        assert back[name].tobytes() == value.tobytes(), name
    del back["extra"]
    fresh = nn.Sequential(nn.Conv2d(3, 8, 3, bias=False), nn.BatchNorm2d(8), nn.ReLU(), nn.SEBlock(8, reduction=4))
    fresh.load_state_dict(back)
    assert int(fresh[1].num_batches_tracked) == 1
    assert all(np.array_equal(a, b) for a, b in zip(fresh.state_dict().values(), net.state_dict().values()))
    fresh.load_state_dict(str(tmp_path / "m.npz"), strict=False)         # a path works as well


def test_nested_checkpoint_round_trip(tmp_path):
    checkpoint = {"model": model().state_dict(), "epoch": 3, "lr": 0.05, "name": "se", "best": None,
                  "history": [1.5, 0.5], "optimizer": {"momentum": {"w": np.arange(3.0)}, "empty": {}}}
    io.save(checkpoint, tmp_path / "c.npz")
    back = io.load(tmp_path / "c.npz")
    assert back.keys() == checkpoint.keys()
    assert (back["epoch"], back["lr"], back["name"], back["best"], back["history"]) == (3, 0.05, "se", None, [1.5, 0.5])
    assert back["optimizer"]["empty"] == {}
    np.testing.assert_array_equal(back["optimizer"]["momentum"]["w"], np.arange(3.0))
    assert back["model"].keys() == checkpoint["model"].keys()
    with zipfile.ZipFile(tmp_path / "c.npz") as z:
        assert all(not name.endswith(".pkl") for name in z.namelist())
    with pytest.raises(TypeError, match="'bad'"):
        io.save({"bad": object()}, tmp_path / "x.npz")
    with pytest.raises(TypeError, match="keys are strings"):
        io.save({"a": {object(): 1}}, tmp_path / "x.npz")
    io.save({"a": {"b/c": 1, "b": {"c": 2}}}, tmp_path / "slash.npz")        # a "/" in a key is just a character
    assert io.load(tmp_path / "slash.npz") == {"a": {"b/c": 1, "b": {"c": 2}}}


def test_a_pytorch_style_checkpoint_with_an_optimizer_round_trips(tmp_path):
    """{"model": ..., "optimizer": opt.state_dict(), "epoch": 3}: int keys, tuples (Adam's betas) and
    None come back as they were, without pickle."""
    from minise.optim import Adam
    net = model()
    opt = Adam(net.parameters(), lr=1e-3)
    net(Tensor(np.ones((2, 3, 5, 5), np.float32))).sum().backward()
    opt.step()
    checkpoint = {"model": net.state_dict(), "optimizer": opt.state_dict(), "epoch": 3,
                  "odd": {1: "one", (2, "b"): [None, 1.5], None: {"__array__": "a marker as a key"}}}
    io.save(checkpoint, tmp_path / "c.npz")
    back = io.load(tmp_path / "c.npz")
    assert back["epoch"] == 3 and back["odd"] == checkpoint["odd"]
    assert list(back["optimizer"]["state"]) == list(opt.state_dict()["state"]) and 0 in back["optimizer"]["state"]
    assert back["optimizer"]["param_groups"][0]["betas"] == opt.param_groups[0]["betas"]
    assert isinstance(back["optimizer"]["param_groups"][0]["betas"], tuple)
    again = Adam(model().parameters(), lr=1e-3)
    again.load_state_dict(back["optimizer"])
    for a, b in zip(back["optimizer"]["state"].values(), opt.state_dict()["state"].values()):
        for key in b:
            np.testing.assert_array_equal(a[key], b[key])
    with zipfile.ZipFile(tmp_path / "c.npz") as z:
        assert "model/0.weight.npy" in z.namelist()                    # arrays are named by their place


def test_load_accepts_map_location_and_weights_only_as_torch_does(tmp_path):
    io.save({"w": np.arange(3.0)}, tmp_path / "m.npz")
    for where in (None, "cpu"):
        assert type(io.load(tmp_path / "m.npz", map_location=where)["w"]) is np.ndarray
    assert io.load(tmp_path / "m.npz", weights_only=True)["w"].tolist() == [0.0, 1.0, 2.0]
    with pytest.raises(ValueError, match="map_location must be None, 'cpu' or 'cuda'"):
        io.load(tmp_path / "m.npz", map_location="tpu")
    with pytest.raises(TypeError, match="not supported"):
        io.load(tmp_path / "m.npz", map_location=lambda storage, loc: storage)
    from minise.testing import strict_device
    with strict_device.enabled():
        back = io.load(tmp_path / "m.npz", map_location="cuda:0")
        assert not isinstance(back["w"], np.ndarray)


def test_device_arrays_are_copied_to_the_host(tmp_path):
    from minise.testing import strict_device
    with strict_device.enabled():
        net = model()
        assert not isinstance(net[0].weight.data, np.ndarray)
        io.save(net.state_dict(), tmp_path / "d.npz")
        back = io.load(tmp_path / "d.npz")
        assert all(type(v) is np.ndarray for v in back.values())
        net.load_state_dict(back)


def _files(folder):
    return sorted(os.listdir(folder))


def test_a_failed_write_leaves_no_file_and_keeps_the_old_one(tmp_path, monkeypatch):
    path = tmp_path / "m.npz"
    io.save({"w": np.ones(3)}, path)
    before = path.read_bytes()
    calls = []

    def fail_on_second_entry(archive, name, array):
        calls.append(name)
        if len(calls) == 2:
            raise OSError("disk full")
        original(archive, name, array)
    original = npz._write_entry
    monkeypatch.setattr(npz, "_write_entry", fail_on_second_entry)
    with pytest.raises(OSError, match="disk full"):
        io.save({"a": np.zeros(1000), "b": np.zeros(5), "c": np.zeros(2)}, path)
    assert len(calls) == 2                               # it failed mid-write, after one entry
    assert path.read_bytes() == before and _files(tmp_path) == ["m.npz"]
    calls.clear()
    with pytest.raises(OSError, match="disk full"):
        io.save({"a": np.zeros(1000), "b": np.zeros(5)}, tmp_path / "new.npz")
    assert _files(tmp_path) == ["m.npz"]                 # no partial new file, no temp file


def huge_header(target):
    """An .npz whose one entry declares 10**12 float64 values in its .npy header and holds four."""
    buffer = BytesIO()
    np.lib.format.write_array_header_1_0(buffer, {"descr": "<f8", "fortran_order": False, "shape": (10**12,)})
    buffer.write(np.zeros(4).tobytes())
    with zipfile.ZipFile(target, "w") as archive:
        archive.writestr("w.npy", buffer.getvalue())
    return target


def test_stale_temporaries_of_dead_writers_are_removed(tmp_path):
    import subprocess
    import sys
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    pid = int(dead.stdout)
    for name in (f".last.npz.{pid}.abc123.tmp", f".best.npz.{pid}.x.tmp", f".last.npz.{os.getpid()}.y.tmp",
                 "last.npz", ".hidden"):
        (tmp_path / name).write_bytes(b"x")
    removed = io.remove_stale_temporaries(tmp_path, names=("last.npz",))
    assert [os.path.basename(p) for p in removed] == [f".last.npz.{pid}.abc123.tmp"]
    io.remove_stale_temporaries(tmp_path)
    assert _files(tmp_path) == sorted([f".last.npz.{os.getpid()}.y.tmp", ".hidden", "last.npz"])  # ours is alive


def test_a_failed_rename_leaves_no_temp_file(tmp_path, monkeypatch):
    def refuse(src, dst):
        raise PermissionError("read-only")
    monkeypatch.setattr(os, "replace", refuse)
    with pytest.raises(PermissionError):
        io.save({"w": np.ones(3)}, tmp_path / "m.npz")
    assert _files(tmp_path) == []


def test_clear_errors_for_bad_files(tmp_path):
    with pytest.raises(FileNotFoundError, match="no such file.*missing.npz"):
        io.load(tmp_path / "missing.npz")
    (tmp_path / "text.npz").write_text("not an archive")
    with pytest.raises(ValueError, match="not a .npz file"):
        io.load(tmp_path / "text.npz")
    io.save({"w": np.arange(10000.0)}, tmp_path / "good.npz")
    data = (tmp_path / "good.npz").read_bytes()
    (tmp_path / "cut.npz").write_bytes(data[: len(data) // 2])
    with pytest.raises(ValueError, match="truncated"):
        io.load(tmp_path / "cut.npz")
    np.savez(tmp_path / "objects.npz", o=np.array([{"a": 1}], dtype=object))
    with pytest.raises(ValueError, match="pickled"):
        io.load(tmp_path / "objects.npz")
    with pytest.raises(ValueError, match="declares shape .*holds"):
        io.load(huge_header(tmp_path / "huge.npz"))
    with pytest.raises(ValueError, match="PyTorch pickle"):
        io.load_torch_state_dict(model(), tmp_path / "weights.pt")


# -- safetensors and PyTorch names ---------------------------------------------------------------

def write_safetensors(path, tensors, dtypes=None):
    """The format by hand: u64 header length, JSON header, raw little-endian data."""
    header, blobs, offset = {"__metadata__": {"format": "pt"}}, [], 0
    for name, array in tensors.items():
        code = (dtypes or {}).get(name) or {"float32": "F32", "float64": "F64", "int64": "I64",
                                            "float16": "F16"}[array.dtype.name]
        raw = array.astype(array.dtype.newbyteorder("<")).tobytes()
        header[name] = {"dtype": code, "shape": list(array.shape), "data_offsets": [offset, offset + len(raw)]}
        blobs.append(raw)
        offset += len(raw)
    text = json.dumps(header).encode()
    path.write_bytes(struct.pack("<Q", len(text)) + text + b"".join(blobs))


def test_safetensors_parsing(tmp_path):
    rng = np.random.default_rng(0)
    tensors = {"a": rng.standard_normal((2, 3)).astype(np.float32), "b": np.arange(4, dtype=np.int64),
               "c": rng.standard_normal(()).astype(np.float64), "h": np.ones((2, 2), np.float16)}
    write_safetensors(tmp_path / "t.safetensors", tensors)
    back = io.load_safetensors(tmp_path / "t.safetensors")
    assert back.keys() == tensors.keys()
    for k in tensors:
        assert back[k].dtype == tensors[k].dtype and np.array_equal(back[k], tensors[k])
    bf = np.array([1.5, -2.0, 3.140625], np.float32)              # exactly representable in bfloat16
    write_safetensors(tmp_path / "bf.safetensors", {"x": (bf.view(np.uint32) >> 16).astype(np.uint16)},
                      {"x": "BF16"})
    np.testing.assert_array_equal(io.load_safetensors(tmp_path / "bf.safetensors")["x"], bf)
    data = (tmp_path / "t.safetensors").read_bytes()
    (tmp_path / "cut.safetensors").write_bytes(data[:-5])
    with pytest.raises(ValueError, match="data_offsets"):
        io.load_safetensors(tmp_path / "cut.safetensors")
    (tmp_path / "tiny.safetensors").write_bytes(b"\x01\x02")
    with pytest.raises(ValueError, match="fewer than the 8-byte"):
        io.load_safetensors(tmp_path / "tiny.safetensors")
    (tmp_path / "junk.safetensors").write_bytes(struct.pack("<Q", 4) + b"{{{{")
    with pytest.raises(ValueError, match="not JSON"):
        io.load_safetensors(tmp_path / "junk.safetensors")


def test_safetensors_written_by_the_real_library_if_installed(tmp_path):
    torch = pytest.importorskip("torch")
    safetensors_torch = pytest.importorskip("safetensors.torch")
    tensors = {"w": torch.randn(3, 4), "i": torch.arange(5)}
    safetensors_torch.save_file(tensors, str(tmp_path / "t.safetensors"))
    back = io.load_safetensors(tmp_path / "t.safetensors")
    assert all(np.array_equal(back[k], v.numpy()) for k, v in tensors.items())


def torch_style_weights(net, se_as_conv=True, timm_names=False):
    """What a PyTorch model with 1x1-conv SE layers would save for ``net``."""
    sd = {}
    for name, value in net.state_dict().items():
        value = np.asarray(value) + 0.5 if value.dtype.kind == "f" else np.array(value)
        if se_as_conv and ".fc" in name and name.endswith("weight"):
            value = value[:, :, None, None]                   # (hidden, C) -> (hidden, C, 1, 1)
        if timm_names:
            name = name.replace(".fc1.", ".conv_reduce.").replace(".fc2.", ".conv_expand.")
        sd[name] = value
    return sd


@pytest.mark.parametrize("timm_names", [False, True])
def test_conv_style_se_weights_are_reshaped_and_renamed(tmp_path, timm_names):
    net = model()
    sd = torch_style_weights(net, timm_names=timm_names)
    sd["1.num_batches_tracked"] = np.array([5])                # shape (1,) instead of ()
    with pytest.raises(nn.StateDictError):
        net.load_state_dict(sd)                                # the plain loader refuses them
    write_safetensors(tmp_path / "w.safetensors", sd)
    np.savez(tmp_path / "w.npz", **sd)
    for source in (sd, tmp_path / "w.safetensors", tmp_path / "w.npz"):
        target = model()
        assert io.load_torch_state_dict(target, source) == ([], [])
        np.testing.assert_array_equal(target[3].fc1.weight.numpy(), net[3].fc1.weight.numpy() + 0.5)
        assert int(target[1].num_batches_tracked) == 5


def test_torch_state_dict_from_a_real_torch_model():
    torch = pytest.importorskip("torch")
    net = model()
    twin = torch.nn.Sequential(torch.nn.Conv2d(3, 8, 3, bias=False), torch.nn.BatchNorm2d(8), torch.nn.ReLU())
    sd = {k: v for k, v in twin.state_dict().items()}
    sd.update({"3.fc1.weight": torch.randn(2, 8, 1, 1), "3.fc1.bias": torch.randn(2),
               "3.fc2.weight": torch.randn(8, 2, 1, 1), "3.fc2.bias": torch.randn(8)})
    extra = {"module." + k: v for k, v in sd.items()}               # as DataParallel saves it
    io.load_torch_state_dict(net, extra)
    np.testing.assert_array_equal(net[0].weight.numpy(), twin[0].weight.detach().numpy())
    np.testing.assert_array_equal(net[3].fc2.weight.numpy(), sd["3.fc2.weight"].numpy()[:, :, 0, 0])
    sd["3.fc1.weight"] = torch.randn(2, 8, 3, 3)                    # not 1x1: a real mismatch
    with pytest.raises(nn.StateDictError, match=r"3.fc1.weight: state dict \(2, 8, 3, 3\), model \(2, 8\)"):
        io.load_torch_state_dict(net, sd)
