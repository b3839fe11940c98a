"""minise models against their PyTorch twins (minise.testing.torch_twin), with the same weights.

The twin is written from the papers' description, not from minise's code; its state_dict names
are torchvision's, so ``minise_model.load_state_dict(twin.state_dict())`` must take it as it is.
Compared: eval-mode logits, and after a training-mode forward and backward every parameter's
gradient and every BatchNorm's updated running statistics (float32, 1e-4 relative).
"""
import numpy as np
import pytest

torch = pytest.importorskip("torch")
tnn = torch.nn

from minise import Tensor, models  # noqa: E402
from minise.models import Bottleneck, ResNet  # noqa: E402
from minise.testing.torch_twin import TwinResNet, as_minise_state, recording_relu_margins, se_resnet20_twin  # noqa: E402


def randomise_batch_norms(twin, generator):
    for m in twin.modules():
        if isinstance(m, tnn.BatchNorm2d):
            with torch.no_grad():
                m.weight.uniform_(0.5, 1.5, generator=generator)
                m.bias.normal_(0, 0.2, generator=generator)
                m.running_mean.normal_(0, 0.2, generator=generator)
                m.running_var.uniform_(0.5, 2.0, generator=generator)


def close(mine, theirs, what):
    theirs = np.asarray(theirs, dtype=np.float64)
    error = np.abs(np.asarray(mine, dtype=np.float64) - theirs).max()
    assert error <= 1e-4 * max(np.abs(theirs).max(), 1e-6), f"{what}: max abs error {error:.3g}"


# Seeds (twin weights, BN statistics, input, upstream gradient) that keep every ReLU input of the
# training-mode forward more than 1e-6 away from 0 (checked in compare).
SEEDS = [1, 0, 2, 0, 32, 8]


def compare(mine, twin, size, seed):
    generator = torch.Generator().manual_seed(seed)
    randomise_batch_norms(twin, generator)
    state = as_minise_state(twin)
    assert set(state) == set(mine.state_dict())
    mine.load_state_dict(state)

    rng = np.random.default_rng(seed)
    x = rng.standard_normal((2, 3, size, size)).astype(np.float32)
    twin.eval(), mine.eval()
    with torch.no_grad():
        expected = twin(torch.from_numpy(x)).numpy()
    close(mine(Tensor(x)).numpy(), expected, "eval-mode logits")

    twin.train(), mine.train()
    upstream = rng.standard_normal(expected.shape).astype(np.float32)
    with recording_relu_margins() as margins:
        theirs = twin(torch.from_numpy(x))
    # A ReLU input within float32 rounding of 0 may switch sides between the two libraries, and the
    # gradients then differ for a reason that is no bug; the seeds below keep every input away.
    assert min(margins) > 1e-6, f"seed {seed} puts a ReLU input at {min(margins):.2g}; pick another"
    theirs.backward(torch.from_numpy(upstream))
    ours = mine(Tensor(x))
    ours.backward(upstream)
    close(ours.numpy(), theirs.detach().numpy(), "training-mode logits")
    twin_params = dict(twin.named_parameters())
    for name, p in mine.named_parameters():
        close(p.grad, twin_params[name].grad.numpy(), f"gradient of {name}")
    twin_state = twin.state_dict()
    for name, value in mine.state_dict().items():
        if "running" in name:
            close(value, twin_state[name].numpy(), name)


def cifar_twin(position, squeeze, shortcut):
    return se_resnet20_twin(position=position, squeeze=squeeze, reduction=4, shortcut=shortcut)


def imagenet_twin(groups, base_width, stride_in_1x1):
    options = dict(groups=groups, base_width=base_width, stride_in_1x1=stride_in_1x1)
    return TwinResNet([1, 1, 1, 1], [64, 128, 256, 512], bottleneck=True, cifar=False, num_classes=10, se=True,
                      **options)


@pytest.mark.parametrize("position, squeeze, shortcut, seed", [
    ("standard", "avg", "B", SEEDS[0]), ("pre", "max", "A", SEEDS[1]), ("post", "avg", "B", SEEDS[2]),
    ("identity", "avg", "A", SEEDS[3])])
def test_cifar_se_resnet20_twin(position, squeeze, shortcut, seed):
    torch.manual_seed(seed)
    twin = cifar_twin(position, squeeze, shortcut)
    mine = models.se_resnet20(se_position=position, squeeze=squeeze, reduction=4, shortcut=shortcut)
    compare(mine, twin, size=16, seed=seed)       # 16×16 keeps the NumPy run short; 32×32 is CIFAR's


@pytest.mark.parametrize("groups, base_width, stride_in_1x1, seed", [(1, 64, False, SEEDS[4]), (32, 4, True, SEEDS[5])])
def test_imagenet_se_bottleneck_twin(groups, base_width, stride_in_1x1, seed):
    """SE-ResNet with bottlenecks (torchvision's layout), and SE-ResNeXt 32×4d in the original layout."""
    torch.manual_seed(seed)
    twin = imagenet_twin(groups, base_width, stride_in_1x1)
    mine = ResNet(Bottleneck, [1, 1, 1, 1], num_classes=10, se=True, groups=groups, width_per_group=base_width,
                  stride_in_1x1=stride_in_1x1)
    compare(mine, twin, size=64, seed=seed)
