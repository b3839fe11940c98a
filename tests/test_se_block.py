"""The SE block: width rule, any spatial size, gradients (finite differences and a PyTorch twin)."""
import numpy as np
import pytest

from minise import GradcheckError, Tensor, gradcheck, nn
from minise.functional.reduction import Mean
from minise.functional.scale import ScaleChannelsFunction
from minise.rng import manual_seed

PARAMS = ("fc1.weight", "fc1.bias", "fc2.weight", "fc2.bias")


def make_input(shape, seed=0, dtype=np.float64):
    return Tensor(np.random.default_rng(seed).standard_normal(shape).astype(dtype), requires_grad=True)


def se_as_function(block):
    """fn(x, w1, b1, w2, b2) running ``block`` with the given tensors as its parameters."""
    def fn(x, *params):
        for name, p in zip(PARAMS, params):
            layer, attr = name.split(".")
            getattr(block, layer)._parameters[attr] = p
        return block(x)
    return fn


def inputs_for(block, shape, seed=0):
    named = {"x": make_input(shape, seed)}
    state = block.state_dict()
    for name in PARAMS:
        named[name] = Tensor(state[name].astype(np.float64), requires_grad=True)
    return named


@pytest.mark.parametrize("channels, reduction, hidden", [(64, 16, 4), (8, 16, 1), (3, 4, 1), (1, 16, 1),
                                                         (33, 16, 2)])
def test_hidden_width_is_never_zero(channels, reduction, hidden):
    block = nn.SEBlock(channels, reduction)
    assert block.hidden == hidden
    assert block.fc1.weight.shape == (hidden, channels) and block.fc2.weight.shape == (channels, hidden)
    assert sum(p.size for p in block.parameters()) == 2 * channels * hidden + hidden + channels


@pytest.mark.parametrize("size", [(1, 1), (3, 5), (7, 7)])
@pytest.mark.parametrize("squeeze", ["avg", "max"])
def test_any_spatial_size_matches_the_paper_formula(size, squeeze):
    manual_seed(0)
    block = nn.SEBlock(6, reduction=2, squeeze=squeeze)
    x = make_input((2, 6) + size, dtype=np.float32)
    y = block(x)
    assert y.shape == x.shape
    xs = x.numpy()
    z = xs.mean(axis=(2, 3)) if squeeze == "avg" else xs.max(axis=(2, 3))
    w1, b1, w2, b2 = (block.state_dict()[n] for n in PARAMS)
    s = 1 / (1 + np.exp(-(np.maximum(z @ w1.T + b1, 0) @ w2.T + b2)))
    np.testing.assert_allclose(y.numpy(), xs * s[:, :, None, None], rtol=1e-5, atol=1e-6)


def test_bias_false_tanh_gate_and_bad_arguments():
    block = nn.SEBlock(4, reduction=2, bias=False, activation="tanh")
    assert [n for n, _ in block.named_parameters()] == ["fc1.weight", "fc2.weight"]
    assert isinstance(block.gate, nn.Tanh)
    with pytest.raises(ValueError, match="'sigmoid', 'tanh'.*got 'hardsigmoid'"):
        nn.SEBlock(4, activation="hardsigmoid")
    with pytest.raises(ValueError, match="'avg', 'max'"):
        nn.SEBlock(4, squeeze="mean")
    with pytest.raises(ValueError, match="reduction must be a positive integer"):
        nn.SEBlock(4, reduction=0)


def test_wrong_channel_count_names_block_and_both_counts():
    block = nn.SEBlock(16)
    with pytest.raises(ValueError, match=r"SEBlock\(channels=16.*16 channels, got shape \(2, 8, 3, 3\) \(8 channels\)"):
        block(make_input((2, 8, 3, 3)))
    wrapped = nn.Sequential(nn.Conv2d(3, 8, 1), nn.SEBlock(16))
    with pytest.raises(ValueError, match=r"^1: SEBlock"):
        wrapped(make_input((2, 3, 3, 3), dtype=np.float32))


def test_drops_into_an_existing_model_in_one_line():
    manual_seed(0)
    body = nn.Sequential(nn.Conv2d(3, 8, 3, padding=1), nn.ReLU())
    wrapped = nn.SEWrapper(body, 8, reduction=4)
    assert [n for n, _ in wrapped.named_children()] == ["module", "se"]
    assert "se.fc1.weight" in wrapped.state_dict() and "module.0.weight" in wrapped.state_dict()
    x = make_input((2, 3, 5, 5), dtype=np.float32)
    np.testing.assert_array_equal(wrapped(x).numpy(), wrapped.se(body(x)).numpy())
    also = nn.SEBlock.wrap(body, 8, reduction=4)
    assert isinstance(also, nn.SEWrapper) and also.se.hidden == 2


@pytest.mark.parametrize("squeeze", ["avg", "max"])
@pytest.mark.parametrize("size", [(2, 2), (3, 4), (4, 4)])
def test_gradcheck_float64(size, squeeze):
    manual_seed(1)
    block = nn.SEBlock(4, reduction=2, squeeze=squeeze).double()
    report = gradcheck(se_as_function(block), inputs_for(block, (2, 4) + size), seed=0)
    assert report and [c.name for c in report.inputs] == ["x", *PARAMS]


def test_gradcheck_catches_a_squeeze_that_forgets_to_divide_by_hw(monkeypatch):
    manual_seed(1)
    block = nn.SEBlock(4, reduction=2).double()
    monkeypatch.setattr(Mean, "backward", lambda self, gy: super(Mean, self).backward(gy))
    with pytest.raises(GradcheckError, match="input x"):
        gradcheck(se_as_function(block), inputs_for(block, (2, 4, 3, 3)), seed=0)


def test_gradcheck_catches_a_scale_that_drops_the_excitation_path(monkeypatch):
    manual_seed(1)
    block = nn.SEBlock(4, reduction=2).double()
    original = ScaleChannelsFunction.backward

    def no_gate_gradient(self, gy):
        gx, gs = original(self, gy)
        return gx, None if gs is None else gs * 0
    monkeypatch.setattr(ScaleChannelsFunction, "backward", no_gate_gradient)
    with pytest.raises(GradcheckError, match="fc1.weight"):
        gradcheck(se_as_function(block), inputs_for(block, (2, 4, 2, 2)), seed=0)


@pytest.mark.parametrize("squeeze", ["avg", "max"])
def test_matches_a_pytorch_twin(squeeze):
    torch = pytest.importorskip("torch")
    from minise.testing.torch_twin import TwinSE, as_torch_state

    manual_seed(2)
    block = nn.SEBlock(12, reduction=4, squeeze=squeeze).double()
    twin = TwinSE(12, reduction=4, squeeze=squeeze).double()
    twin.load_state_dict(as_torch_state(block))
    x = make_input((3, 12, 5, 6), seed=3)
    gy = np.random.default_rng(4).standard_normal(x.shape)
    xt = torch.tensor(x.numpy(), requires_grad=True)
    y, yt = block(x), twin(xt)
    np.testing.assert_allclose(y.numpy(), yt.detach().numpy(), rtol=1e-6, atol=1e-6)
    y.backward(gy)
    yt.backward(torch.from_numpy(gy))
    np.testing.assert_allclose(x.grad, xt.grad.numpy(), rtol=1e-6, atol=1e-6)
    for name, p in block.named_parameters():
        np.testing.assert_allclose(p.grad, dict(twin.named_parameters())[name].grad.numpy(), rtol=1e-6, atol=1e-6,
                                   err_msg=name)


def test_runs_on_the_strict_device_stand_in():
    from minise.testing import strict_device
    manual_seed(0)
    host = nn.SEBlock(6, reduction=3)
    x = np.random.default_rng(0).standard_normal((2, 6, 3, 3)).astype(np.float32)
    expected = host(Tensor(x)).numpy()
    with strict_device.enabled() as xp:
        manual_seed(0)
        device = nn.SEBlock(6, reduction=3)                # same seed, same weights, made on the device
        y = device(Tensor(xp.asarray(x), requires_grad=True))
        y.sum().backward()
        assert isinstance(device.fc1.weight.grad, xp.ndarray)
        np.testing.assert_allclose(y.numpy(), expected, rtol=1e-6)
