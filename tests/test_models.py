"""The ResNet / SE-ResNet family: parameter counts, names, SE placement, shapes, errors, registry."""
import numpy as np
import pytest

import minise
from minise import Tensor, models, nn
from minise.models import BasicBlock, Bottleneck, CifarResNet, ResNet
from minise.rng import manual_seed


def count(model):
    return sum(p.size for p in model.parameters())


# torchvision's published parameter counts (1000 classes)
TORCHVISION = {"resnet18": 11_689_512, "resnet34": 21_797_672, "resnet50": 25_557_032,
               "resnet101": 44_549_160, "resnet152": 60_192_808, "resnext50_32x4d": 25_028_904}
IMAGENET_LAYOUT = {"resnet18": (1, [2, 2, 2, 2]), "resnet34": (1, [3, 4, 6, 3]), "resnet50": (4, [3, 4, 6, 3]),
                   "resnet101": (4, [3, 4, 23, 3]), "resnet152": (4, [3, 8, 36, 3]),
                   "resnext50_32x4d": (4, [3, 4, 6, 3])}


def se_extra(block_channels, reduction):
    """The SE blocks' parameters: Σ over blocks of 2·C·hidden + hidden + C, hidden = max(1, C // r)."""
    total = 0
    for c in block_channels:
        hidden = max(1, c // reduction)
        total += 2 * c * hidden + hidden + c
    return total


def imagenet_block_channels(name):
    expansion, layers = IMAGENET_LAYOUT[name]
    return [64 * 2 ** s * expansion for s, n in enumerate(layers) for _ in range(n)]


def cifar_count(depth, width=16, num_classes=10, in_channels=3, shortcut="B"):
    """ResNet-(6n+2) for CIFAR counted from its layer shapes (convs without bias, BN γ and β)."""
    n = (depth - 2) // 6
    total = in_channels * width * 9 + 2 * width
    c_in = width
    for c in (width, 2 * width, 4 * width):
        for b in range(n):
            total += c_in * c * 9 + c * c * 9 + 4 * c
            if b == 0 and c_in != c and shortcut == "B":
                total += c_in * c + 2 * c
            c_in = c
    return total + 4 * width * num_classes + num_classes


def cifar_block_channels(depth, width=16):
    n = (depth - 2) // 6
    return [c for c in (width, 2 * width, 4 * width) for _ in range(n)]


# -- parameter counts -------------------------------------------------------------------------

@pytest.mark.parametrize("name", ["resnet18", "resnet50"])
def test_plain_resnets_match_torchvision_counts(name):
    assert count(models.get_model(name)) == TORCHVISION[name]


def test_se_resnet50_adds_exactly_the_papers_formula():
    model = models.se_resnet50()
    extra = se_extra(imagenet_block_channels("resnet50"), 16)
    assert extra == 2_530_992
    assert count(model) == TORCHVISION["resnet50"] + extra == 28_088_024      # the paper's 28.1 M
    se_blocks = [m for m in model.modules() if isinstance(m, nn.SEBlock)]
    assert len(se_blocks) == 16 and sum(count(m) for m in se_blocks) == extra


@pytest.mark.slow
@pytest.mark.parametrize("name", ["resnet34", "resnet101", "resnet152", "resnext50_32x4d"])
def test_deeper_models_and_their_se_versions(name):
    assert count(models.get_model(name)) == TORCHVISION[name]
    se = count(models.get_model("se_" + name, reduction=8))
    assert se == TORCHVISION[name] + se_extra(imagenet_block_channels(name), 8)


def test_se_resnet18_and_resnext_formula():
    assert count(models.se_resnet18()) == TORCHVISION["resnet18"] + se_extra(imagenet_block_channels("resnet18"), 16)
    assert count(models.se_resnext50_32x4d()) == 27_559_896 == \
        TORCHVISION["resnext50_32x4d"] + se_extra(imagenet_block_channels("resnext50_32x4d"), 16)


@pytest.mark.parametrize("depth", [20, 32, 56, 110])
def test_cifar_counts(depth):
    plain = models.get_model(f"resnet{depth}")
    assert count(plain) == cifar_count(depth)
    assert count(models.get_model(f"resnet{depth}", shortcut="A")) == cifar_count(depth, shortcut="A")
    for r in (16, 4):
        se = models.get_model(f"se_resnet{depth}", reduction=r)
        assert count(se) == cifar_count(depth) + se_extra(cifar_block_channels(depth), r)


def test_cifar_resnet20_known_sizes_and_one_hidden_unit():
    assert count(models.resnet20(shortcut="A")) == 269_722         # the paper's 0.27 M
    model = models.se_resnet20()
    assert model.layer1[0].se.fc1.weight.shape == (1, 16)          # hidden = max(1, 16 // 16)
    assert model.layer3[0].se.fc1.weight.shape == (4, 64)
    small = models.se_resnet20(width=4, num_classes=3, in_channels=1)
    assert count(small) == cifar_count(20, 4, 3, 1) + se_extra(cifar_block_channels(20, 4), 16)


def test_pre_position_se_sees_the_block_input_channels():
    model = models.se_resnet20(se_position="pre")
    assert model.layer2[0].se.channels == 16 and model.layer2[1].se.channels == 32
    channels = [16] * 3 + [16, 32, 32] + [32, 64, 64]
    assert count(model) == cifar_count(20) + se_extra(channels, 16)
    for position in ("post", "identity"):
        expected = cifar_count(20) + se_extra(cifar_block_channels(20), 16)
        assert count(models.se_resnet20(se_position=position)) == expected


# -- names ------------------------------------------------------------------------------------

def test_parameter_names_follow_torchvision():
    names = set(models.se_resnet50(num_classes=10).state_dict())
    for key in ["conv1.weight", "bn1.weight", "bn1.running_mean", "bn1.num_batches_tracked",
                "layer1.0.conv1.weight", "layer1.0.bn3.running_var", "layer2.0.downsample.0.weight",
                "layer2.0.downsample.1.bias", "layer4.2.se.fc1.weight", "layer4.2.se.fc2.bias", "fc.weight", "fc.bias"]:
        assert key in names, key
    plain = set(models.resnet18().state_dict())
    assert not any(".se." in k for k in plain) and "layer1.0.downsample.0.weight" not in plain
    assert {"layer2.0.downsample.0.weight", "layer1.1.conv2.weight"} <= plain


def test_stride_in_1x1_moves_the_stride():
    torchvision_layout = ResNet(Bottleneck, [1, 1, 1, 1]).layer2[0]
    original = ResNet(Bottleneck, [1, 1, 1, 1], stride_in_1x1=True).layer2[0]
    assert torchvision_layout.conv1.stride == (1, 1) and torchvision_layout.conv2.stride == (2, 2)
    assert original.conv1.stride == (2, 2) and original.conv2.stride == (1, 1)
    with pytest.raises(ValueError, match="a BasicBlock has no 1×1 conv"):    # refused, not silently ignored
        models.resnet18(stride_in_1x1=True)


def test_resnext_uses_grouped_bottleneck_of_twice_the_planes():
    block = models.resnext50_32x4d().layer1[0]
    assert block.conv2.groups == 32 and block.conv2.weight.shape == (128, 4, 3, 3)
    assert block.conv3.weight.shape == (256, 128, 1, 1)


# -- behaviour --------------------------------------------------------------------------------

def test_forward_shapes_and_logits():
    manual_seed(0)
    x = Tensor(np.random.default_rng(0).standard_normal((2, 1, 32, 32)).astype(np.float32))
    model = ResNet(Bottleneck, [1, 1, 1, 1], num_classes=7, in_channels=1, se=True)
    y = model(x)
    assert y.shape == (2, 7) and y.dtype == np.float32
    assert not np.allclose(y.numpy().sum(axis=1), 1.0)             # logits, not probabilities
    cifar = models.se_resnet20(width=4, squeeze="max")
    assert cifar(Tensor(np.ones((3, 3, 8, 8), np.float32))).shape == (3, 10)
    shortcut_a = models.se_resnet20(width=4, shortcut="A")
    assert shortcut_a(Tensor(np.ones((2, 3, 8, 8), np.float32))).shape == (2, 10)


def _block_with_gate(position, gate_bias):
    """A float64 identity-shortcut BasicBlock whose SE gate is pinned to σ(gate_bias) ≈ 0 or 1."""
    manual_seed(1)
    block = BasicBlock(8, 8, se=True, reduction=4, se_position=position).double().eval()
    nn.init.zeros_(block.se.fc2.weight)
    nn.init.constant_(block.se.fc2.bias, gate_bias)
    for bn in (block.bn1, block.bn2):
        nn.init.normal_(bn.bias)
    return block


@pytest.mark.parametrize("position", ["standard", "pre", "post", "identity"])
def test_se_position_semantics(position):
    x = Tensor(np.random.default_rng(2).standard_normal((2, 8, 5, 5)))
    relu = lambda a: np.maximum(a, 0)
    # gate ≈ 1: every placement is the plain block
    open_block = _block_with_gate(position, 60.0)
    plain = relu(open_block.branch(x).numpy() + x.numpy())
    np.testing.assert_allclose(open_block(x).numpy(), plain, atol=1e-12)
    # gate ≈ 0: the SE block switches off whatever it sits on
    closed = _block_with_gate(position, -60.0)
    expected = {"standard": relu(x.numpy()),                              # branch removed
                "pre": relu(closed.branch(Tensor(np.zeros_like(x.numpy()))).numpy() + x.numpy()),
                "post": np.zeros(x.shape),                                # whole output removed
                "identity": relu(closed.branch(x).numpy())}[position]     # shortcut removed
    np.testing.assert_allclose(closed(x).numpy(), expected, atol=1e-12)


def test_runs_on_the_device_backend(device_backend):
    """Parameters are made on the chosen backend; forward and backward stay there (shortcut A too)."""
    with minise.use_backend("numpy" if device_backend.name == "numpy" else "cupy"):
        model = models.se_resnet20(width=4, shortcut="A", se_position="pre")
        x = Tensor(device_backend.asarray(np.ones((2, 3, 8, 8), np.float32)))
        y = model(x)
        y.sum().backward()
    expected = device_backend.device
    assert y.device == expected and model.conv1.weight.grad is not None
    assert minise.backend.device_of(model.conv1.weight.grad) == expected
    assert models.summary(model, (3, 8, 8)).total_params == count(model)


def test_same_seed_same_model():
    manual_seed(3)
    a = models.se_resnet20(width=4).state_dict()
    manual_seed(3)
    b = models.se_resnet20(width=4).state_dict()
    assert all(np.array_equal(a[k], b[k]) for k in a)
    assert not np.array_equal(a["conv1.weight"], models.se_resnet20(width=4).state_dict()["conv1.weight"])


def test_zero_init_residual_starts_blocks_at_identity():
    model = models.resnet20(width=4, zero_init_residual=True)
    assert not np.any(model.layer1[0].bn2.weight.numpy())
    assert np.all(models.resnet20(width=4).layer1[0].bn2.weight.numpy() == 1)


# -- errors -----------------------------------------------------------------------------------

def test_wrong_input_channels_names_first_layer_and_both_counts():
    with pytest.raises(ValueError, match=r"conv1.*expects 3 input channels.*has 1"):
        models.se_resnet20(width=4)(Tensor(np.zeros((1, 1, 8, 8), np.float32)))
    with pytest.raises(ValueError, match=r"conv1.*expects 1 input channels.*has 3"):
        models.resnet18(in_channels=1)(Tensor(np.zeros((1, 3, 32, 32), np.float32)))


def test_too_small_input_says_how_small():
    with pytest.raises(ValueError, match=r"16×40.*too small.*at least 32×32"):
        models.resnet18(num_classes=2)(Tensor(np.zeros((1, 3, 16, 40), np.float32)))
    with pytest.raises(ValueError, match=r"at least 4×4"):
        models.resnet20(width=4)(Tensor(np.zeros((1, 3, 3, 8), np.float32)))
    with pytest.raises(ValueError, match=r"\(N, C, H, W\)"):
        models.resnet20(width=4)(Tensor(np.zeros((3, 8, 8), np.float32)))


@pytest.mark.parametrize("kwargs, message", [
    (dict(se_position="middle"), "se_position"), (dict(squeeze="median"), "squeeze"),
    (dict(reduction=0), "reduction"), (dict(num_classes=0), "num_classes"), (dict(in_channels=2.5), "in_channels"),
    (dict(width=0), "width"), (dict(shortcut="C"), "shortcut")])
def test_bad_cifar_options(kwargs, message):
    with pytest.raises(ValueError, match=message):
        models.se_resnet20(**kwargs)


def test_bad_depth_and_layers():
    with pytest.raises(ValueError, match="6n \\+ 2"):
        CifarResNet(depth=21)
    with pytest.raises(ValueError, match="4 stages"):
        ResNet(BasicBlock, [2, 2, 2])
    with pytest.raises(ValueError, match="groups=1"):
        ResNet(BasicBlock, [1, 1, 1, 1], groups=32)


# -- registry ---------------------------------------------------------------------------------

def test_registry_lists_and_builds():
    names = models.list_models()
    assert {"resnet18", "resnet50", "se_resnet50", "se_resnext50_32x4d", "resnet20", "se_resnet110"} <= set(names)
    assert names == sorted(names)
    model = models.get_model("se_resnet20", num_classes=5, width=4)
    assert model.fc.weight.shape == (5, 16) and model.layer1[0].se is not None


def test_registry_unknown_name_suggests_close_match():
    with pytest.raises(ValueError, match=r"unknown model 'se_resnet5'.*Did you mean 'se_resnet56'.*resnet110"):
        models.get_model("se_resnet5")
    with pytest.raises(ValueError, match=r"Available models") as info:
        models.get_model("vgg16")
    assert "Did you mean" not in str(info.value)
