"""minise.models.summary: parameters and multiply-accumulates, per layer and in total."""
import numpy as np
import pytest

import minise
from minise import Tensor, models, nn


def count(model):
    return sum(p.size for p in model.parameters())


def cifar_macs(depth, width, size, num_classes=10, in_channels=3, reduction=None):
    """MACs of a CIFAR ResNet (shortcut B) per image, from the layer shapes."""
    n = (depth - 2) // 6
    h = size
    total = width * h * h * in_channels * 9                        # conv1
    c_in = width
    for stage, c in enumerate((width, 2 * width, 4 * width)):
        for b in range(n):
            if b == 0 and stage > 0:
                h = (h - 1) // 2 + 1                                 # 3×3 stride 2, padding 1
            total += c * h * h * c_in * 9 + c * h * h * c * 9
            if b == 0 and c_in != c:
                total += c * h * h * c_in                            # 1×1 projection shortcut
            if reduction is not None:
                total += 2 * c * max(1, c // reduction)              # SE: fc1 and fc2
            c_in = c
    return total + 4 * width * num_classes


@pytest.fixture(scope="module")
def resnet50_summary():
    return models.summary(models.resnet50(), (3, 224, 224))


def test_resnet50_macs_torchvision_layout(resnet50_summary):
    s = resnet50_summary
    assert s.total_macs == pytest.approx(4.09e9, rel=0.01)
    assert s.total_params == 25_557_032
    assert s["conv1"].output_shape == (64, 112, 112)
    assert s["conv1"].macs == 64 * 112 * 112 * 3 * 7 * 7
    assert s["layer4.2.conv3"].output_shape == (2048, 7, 7)
    assert s["fc"].macs == 2048 * 1000 and s.output_shape == (1000,)
    assert s.se_params == 0 and s.se_macs == 0


def test_resnet50_macs_original_layout():
    s = models.summary(models.resnet50(stride_in_1x1=True), (3, 224, 224))
    assert s.total_macs == pytest.approx(3.86e9, rel=0.01)
    assert s["layer2.0.conv1"].output_shape == (128, 28, 28)     # stride moved to the first 1×1


def test_se_resnet50_share():
    s = models.summary(models.se_resnet50(), (3, 224, 224))
    blocks = [c for c, n in ((256, 3), (512, 4), (1024, 6), (2048, 3)) for _ in range(n)]
    assert s.se_params == sum(2 * c * (c // 16) + c // 16 + c for c in blocks) == 2_530_992
    assert s.se_macs == sum(2 * c * (c // 16) for c in blocks)
    assert s.se_param_share == pytest.approx(2_530_992 / 28_088_024)
    assert s.se_mac_share < 0.002                                    # SE costs little compute
    assert s["layer1.0.se.fc1"].output_shape == (16,) and s["layer1.0.se.fc1"].in_se
    assert not s["layer1.0.conv1"].in_se
    plain = models.summary(models.resnet50(), (3, 224, 224))
    assert s.total_macs - plain.total_macs == s.se_macs


@pytest.mark.parametrize("depth, width, size, reduction", [(8, 4, 8, None), (14, 4, 12, 2), (20, 16, 32, 16)])
def test_cifar_macs_match_the_formula(depth, width, size, reduction):
    se = reduction is not None
    model = models.CifarResNet(depth, width=width, se=se, reduction=reduction or 16)
    s = models.summary(model, (3, size, size))
    assert s.total_macs == cifar_macs(depth, width, size, reduction=reduction)
    assert s.total_params == count(model)
    assert sum(r.params for r in s.rows) == count(model)


def test_shapes_agree_with_a_real_forward():
    model = models.se_resnet20(width=4)
    s = models.summary(model, (2, 3, 12, 12))                         # a leading batch size is ignored
    x = Tensor(np.random.default_rng(0).standard_normal((2, 3, 12, 12)).astype(np.float32))
    with minise.no_grad():
        model.eval()
        stem = model.conv1(x)
        mid = model.layer2(model.layer1(stem))
        out = model(x)
    assert s["conv1"].output_shape == stem.shape[1:] == (4, 12, 12)
    assert s["layer2.2.bn2"].output_shape == mid.shape[1:] == (8, 6, 6)
    assert s["layer3.0.downsample.0"].output_shape == (16, 3, 3)
    assert s.output_shape == out.shape[1:]


def test_summary_leaves_the_model_as_it_was():
    model = models.se_resnet20(width=4).train()
    before = {k: v.copy() for k, v in model.state_dict().items()}
    models.summary(model, (3, 8, 8))
    assert all(m.training for m in model.modules())
    assert all("forward" not in m.__dict__ for m in model.modules())
    after = model.state_dict()
    assert all(np.array_equal(before[k], after[k]) for k in before)   # no running-stat update
    model.eval()
    models.summary(model, (3, 8, 8))
    assert not any(m.training for m in model.modules())
    assert model(Tensor(np.ones((1, 3, 8, 8), np.float32))).shape == (1, 10)


def test_table_text():
    s = models.summary(models.se_resnet20(width=4), (3, 8, 8))
    text = str(s)
    for piece in ["Layer", "Output shape", "Params", "MACs", "layer1.0.se.fc1", "Linear", "Conv2d",
                  f"Total parameters: {s.total_params:,}", f"Total MACs:       {s.total_macs:,}", "SE blocks:"]:
        assert piece in text, piece
    assert len(text.splitlines()) == len(s.rows) + 8


def test_summary_of_a_single_layer():
    conv = nn.Conv2d(3, 8, 3, stride=2, padding=1, groups=1)
    s = models.summary(conv, (3, 9, 9))
    assert s.total_macs == 8 * 5 * 5 * 3 * 9 and s.total_params == 8 * 27 + 8


def test_bad_arguments():
    model = models.resnet20(width=4)
    for bad in [(8, 8), (3, 0, 8), "3x8x8", (3, 8.0, 8)]:
        with pytest.raises(ValueError, match="input_shape"):
            models.summary(model, bad)
    with pytest.raises(TypeError, match="Module"):
        models.summary(lambda x: x, (3, 8, 8))
    with pytest.raises(ValueError, match="expects 3 input channels"):
        models.summary(model, (1, 8, 8))
    with pytest.raises(ValueError, match="too small"):
        models.summary(model, (3, 2, 2))
    assert all("forward" not in m.__dict__ for m in model.modules())  # cleaned up after an error too
