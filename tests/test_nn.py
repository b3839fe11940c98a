"""Module bookkeeping, layers, initialisation, state dicts and devices."""
import math

import numpy as np
import pytest

import minise
from minise import Tensor, nn, rng
from minise.backend import to_numpy


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(3, 4, 3, padding=1, bias=False)
        self.bn = nn.BatchNorm2d(4)
        self.blocks = nn.ModuleList([nn.Linear(4, 4), nn.Linear(4, 2)])
        self.head = nn.Sequential(nn.ReLU(), nn.Identity())
        self.scale = nn.Parameter(np.ones(1, dtype=np.float32))
        self.note = "not registered"

    def forward(self, x):
        h = self.bn(self.conv(x)).mean(axis=(2, 3))
        for block in self.blocks:
            h = block(h)
        return self.head(h) * self.scale


def image(n=2, c=3, h=5, w=5, seed=0):
    return Tensor(np.random.default_rng(seed).standard_normal((n, c, h, w)).astype(np.float32))


def test_registration_and_dotted_names():
    net = Net()
    names = [n for n, _ in net.named_parameters()]
    assert names == ["scale", "conv.weight", "bn.weight", "bn.bias", "blocks.0.weight", "blocks.0.bias",
                     "blocks.1.weight", "blocks.1.bias"]
    assert [n for n, _ in net.named_buffers()] == ["bn.running_mean", "bn.running_var", "bn.num_batches_tracked"]
    assert [n for n, _ in net.named_children()] == ["conv", "bn", "blocks", "head"]
    assert [n for n, _ in net.named_modules()] == ["", "conv", "bn", "blocks", "blocks.0", "blocks.1", "head",
                                                   "head.0", "head.1"]
    assert "note" not in dict(net.named_parameters()) and net.note == "not registered"
    assert sum(p.size for p in net.parameters()) == 1 + 4 * 3 * 9 + 8 + 20 + 10
    assert all(p.requires_grad for p in net.parameters())
    del net.blocks
    assert "blocks.0.weight" not in dict(net.named_parameters())


def test_shared_parameter_listed_once_and_reassignment_replaces():
    net = nn.Sequential(nn.Linear(3, 3), nn.Linear(3, 3))
    net[1].weight = net[0].weight
    assert len(list(net.parameters())) == 3
    layer = nn.Linear(2, 2)
    layer.bias = None
    assert [n for n, _ in layer.named_parameters()] == ["weight"]
    with pytest.raises(TypeError, match="parameter 'weight'"):
        layer.weight = np.zeros((2, 2))
    with pytest.raises(AttributeError, match="super"):
        class Broken(nn.Module):
            def __init__(self):
                self.x = 1
        Broken()


def test_a_shared_module_is_walked_once_but_saved_under_every_name():
    shared = nn.Linear(2, 2)
    net = nn.Sequential(shared, nn.ReLU(), shared)
    assert [n for n, _ in net.named_modules()] == ["", "0", "1"]
    assert [n for n, _ in net.named_modules(remove_duplicate=False)] == ["", "0", "1", "2"]
    assert list(net.state_dict()) == ["0.weight", "0.bias", "2.weight", "2.bias"]        # as in PyTorch
    assert len(list(net.parameters())) == 2


def test_train_eval_propagate_and_change_batchnorm():
    net = Net()
    assert all(m.training for m in net.modules())
    assert net.eval() is net and not any(m.training for m in net.modules())
    net.train()
    assert all(m.training for m in net.modules())
    with pytest.raises(TypeError):
        net.train("no")
    bn, x = nn.BatchNorm2d(3), image()
    bn.train()
    bn(x)
    assert int(bn.num_batches_tracked) == 1
    assert not np.allclose(bn.running_mean, 0)                # moved towards the batch mean
    before = bn.running_mean.copy()
    bn.eval()
    y_eval = bn(x).numpy()
    np.testing.assert_array_equal(bn.running_mean, before)   # eval leaves the statistics alone
    expected = (x.numpy() - before[:, None, None]) / np.sqrt(bn.running_var[:, None, None] + 1e-5)
    np.testing.assert_allclose(y_eval, expected, rtol=1e-5, atol=1e-5)


def test_zero_grad():
    net = Net()
    net(image()).sum().backward()
    assert all(p.grad is not None for p in net.parameters())
    net.zero_grad(set_to_none=False)
    assert all(p.grad is not None and not p.grad.any() for p in net.parameters())
    net.zero_grad()
    assert all(p.grad is None for p in net.parameters())


def test_apply_visits_every_module_children_first():
    seen = []
    Net().apply(lambda m: seen.append(type(m).__name__))
    assert seen[-1] == "Net" and seen.count("Linear") == 2 and len(seen) == 9


def test_repr_nested_with_hyper_parameters():
    text = repr(Net())
    assert text.splitlines()[0] == "Net("
    assert "  (conv): Conv2d(3, 4, kernel_size=(3, 3), stride=(1, 1), padding=(1, 1), bias=False)" in text
    assert "  (bn): BatchNorm2d(4, eps=1e-05, momentum=0.1)" in text
    assert "    (0): Linear(in_features=4, out_features=4, bias=True)" in text
    assert "    (0): ReLU()" in text
    assert repr(nn.MaxPool2d(2)) == "MaxPool2d(kernel_size=2, stride=2, padding=0)"


def test_sequential_and_module_list_containers():
    seq = nn.Sequential(nn.Linear(3, 4), nn.ReLU(), nn.Linear(4, 2))
    assert len(seq) == 3 and isinstance(seq[-1], nn.Linear) and len(seq[:2]) == 2
    assert seq(Tensor(np.ones((5, 3), np.float32))).shape == (5, 2)
    with pytest.raises(IndexError, match="out of range"):
        seq[3]
    lst = nn.ModuleList([nn.ReLU()])
    lst.append(nn.Tanh()).insert(0, nn.Sigmoid())
    assert [type(m).__name__ for m in lst] == ["Sigmoid", "ReLU", "Tanh"]


def test_layers_output_shapes():
    x = image(2, 3, 8, 8)
    assert nn.Conv2d(3, 6, 3, stride=2, padding=1)(x).shape == (2, 6, 4, 4)
    assert nn.Conv2d(3, 6, 1, groups=3)(x).shape == (2, 6, 8, 8)
    assert nn.MaxPool2d(2)(x).shape == (2, 3, 4, 4)
    assert nn.AvgPool2d(3, stride=1, padding=1)(x).shape == (2, 3, 8, 8)
    assert nn.AdaptiveAvgPool2d(1)(x).shape == (2, 3, 1, 1)
    assert nn.AdaptiveMaxPool2d((2, 3))(x).shape == (2, 3, 2, 3)
    assert nn.Flatten()(x).shape == (2, 192)
    np.testing.assert_allclose(nn.Sigmoid()(x).numpy(), 1 / (1 + np.exp(-x.numpy())), rtol=1e-6)
    np.testing.assert_allclose(nn.Tanh()(x).numpy(), np.tanh(x.numpy()), rtol=1e-6)
    lin = nn.Linear(3, 2)
    h = Tensor(np.ones((4, 3), np.float32))
    np.testing.assert_allclose(lin(h).numpy(), h.numpy() @ lin.weight.numpy().T + lin.bias.numpy(), rtol=1e-6)


def test_wrong_channel_count_names_layer_path_and_both_counts():
    with pytest.raises(ValueError, match=r"Conv2d\(3, 4.*3 channels.*got shape \(2, 5, 5, 5\) \(5 channels\)"):
        nn.Conv2d(3, 4, 3)(image(c=5))
    net = nn.Sequential(nn.Conv2d(3, 8, 1), nn.Sequential(nn.BatchNorm2d(8), nn.Conv2d(6, 2, 1)))
    with pytest.raises(nn.InputShapeError, match=r"^1\.1: Conv2d\(6, 2.* 6 channels.*\(8 channels\)"):
        net(image())
    with pytest.raises(ValueError, match="in_features.*4 features.*got shape \\(2, 3\\)"):
        nn.Linear(4, 2)(Tensor(np.ones((2, 3), np.float32)))
    with pytest.raises(ValueError, match="divisible by groups"):
        nn.Conv2d(3, 4, 3, groups=2)
    with pytest.raises(ValueError, match="out_channels must be a positive integer"):
        nn.Conv2d(3, 0, 3)


# -- initialisation ------------------------------------------------------------------------------

def test_seed_reproduces_models_and_other_seeds_differ():
    def weights(seed):
        minise.rng.manual_seed(seed)
        return [p.numpy() for p in Net().parameters()]
    a, b, c = weights(3), weights(3), weights(4)
    assert all(np.array_equal(x, y) for x, y in zip(a, b))
    assert not np.array_equal(a[1], c[1])
    with pytest.raises(ValueError, match="non-negative integer"):
        rng.manual_seed(-1)


def test_init_statistics():
    rng.manual_seed(0)
    conv = nn.Conv2d(64, 128, 3)                        # fan_out = 128·9
    w = conv.weight.numpy()
    assert abs(w.mean()) < 0.002
    assert w.std() == pytest.approx(math.sqrt(2 / (128 * 9)), rel=0.02)
    lin = nn.Linear(400, 300)                           # U(−1/√400, 1/√400): std = bound/√3
    bound = 1 / math.sqrt(400)
    assert np.abs(lin.weight.numpy()).max() <= bound and np.abs(lin.bias.numpy()).max() <= bound
    assert lin.weight.numpy().std() == pytest.approx(bound / math.sqrt(3), rel=0.02)
    assert np.abs(lin.weight.numpy()).max() > 0.95 * bound
    bn = nn.BatchNorm2d(5)
    assert (bn.weight.numpy() == 1).all() and (bn.bias.numpy() == 0).all()
    assert (bn.running_var == 1).all() and bn.num_batches_tracked.dtype == np.int64


def test_init_functions():
    t = nn.Parameter(np.zeros((50, 40, 3, 3), np.float64))
    assert nn.init.calculate_fan_in_and_fan_out(t) == (360, 450)
    nn.init.kaiming_normal_(t, mode="fan_in", nonlinearity="relu", generator=np.random.default_rng(0))
    assert t.data.dtype == np.float64 and t.data.std() == pytest.approx(math.sqrt(2 / 360), rel=0.03)
    with pytest.raises(ValueError, match="mode"):
        nn.init.kaiming_normal_(t, mode="fan")
    with pytest.raises(ValueError, match="nonlinearity"):
        nn.init.calculate_gain("swish")


# -- state dicts -------------------------------------------------------------------------------

def test_state_dict_names_and_load_copies_in_place():
    rng.manual_seed(1)
    a, b = Net(), Net()
    sd = a.state_dict()
    assert list(sd) == ["scale", "conv.weight", "bn.weight", "bn.bias", "bn.running_mean", "bn.running_var",
                        "bn.num_batches_tracked", "blocks.0.weight", "blocks.0.bias", "blocks.1.weight",
                        "blocks.1.bias"]
    weight_array = b.conv.weight.data
    b.load_state_dict({k: v.astype(np.float64) if v.dtype.kind == "f" else v for k, v in sd.items()})
    assert b.conv.weight.data is weight_array and weight_array.dtype == np.float32
    for (name, x), y in zip(sd.items(), b.state_dict().values()):
        np.testing.assert_array_equal(x, y, err_msg=name)


def test_load_state_dict_lists_every_problem():
    net = Net()
    sd = dict(net.state_dict())
    del sd["conv.weight"], sd["blocks.1.bias"]
    sd["extra.weight"] = np.zeros(3)
    sd["bn.weight"] = np.zeros(7, np.float32)
    sd["blocks.0.weight"] = np.zeros((4, 5), np.float32)
    with pytest.raises(nn.StateDictError) as info:
        net.load_state_dict(sd)
    text = str(info.value)
    for part in ["missing keys (2)", "conv.weight", "blocks.1.bias", "unexpected keys (1)", "extra.weight",
                 "shape mismatches (2)", "bn.weight: state dict (7,), model (4,)",
                 "blocks.0.weight: state dict (4, 5), model (4, 4)"]:
        assert part in text
    assert isinstance(info.value, KeyError) and isinstance(info.value, ValueError)
    with pytest.raises(nn.StateDictError, match="shape mismatches"):      # never tolerated
        net.load_state_dict(sd, strict=False)
    sd["bn.weight"], sd["blocks.0.weight"] = np.zeros(4, np.float32), np.zeros((4, 4), np.float32)
    missing, unexpected = net.load_state_dict(sd, strict=False)
    assert missing == ["conv.weight", "blocks.1.bias"] and unexpected == ["extra.weight"]
    assert not net.bn.weight.data.any()


def test_missing_num_batches_tracked_is_tolerated():
    bn = nn.BatchNorm2d(2)
    sd = {k: v for k, v in bn.state_dict().items() if k != "num_batches_tracked"}
    assert bn.load_state_dict(sd) == ([], [])
    bn.load_state_dict(dict(sd, num_batches_tracked=np.array([7])))
    assert int(bn.num_batches_tracked) == 7 and bn.num_batches_tracked.shape == ()


# -- devices ---------------------------------------------------------------------------------

def test_to_device_keeps_parameter_identity_and_trains():
    from minise.testing import strict_device
    net = Net()
    params = list(net.parameters())
    x = image().numpy()
    with strict_device.enabled() as xp:
        assert net.to("cuda") is net
        assert [id(p) for p in net.parameters()] == [id(p) for p in params]
        assert all(isinstance(p.data, xp.ndarray) for p in params)
        assert all(isinstance(b, xp.ndarray) for b in net.buffers())
        out = net(Tensor(xp.asarray(x)))
        out.sum().backward()
        assert all(isinstance(p.grad, xp.ndarray) for p in params)
        net.load_state_dict({k: to_numpy(v) for k, v in net.state_dict().items()})  # host values, device model
        fresh = nn.Linear(3, 2)                             # created on the default (device) backend
        assert isinstance(fresh.weight.data, xp.ndarray)
        net.to("cpu")
    assert all(type(p.data) is np.ndarray and type(p.grad) is np.ndarray for p in params)
    assert net.double().conv.weight.dtype == np.float64 and net.bn.num_batches_tracked.dtype == np.int64
    with pytest.raises(ValueError, match="unknown device"):
        net.to("tpu")
