"""Whole-model gradients: a small SE-ResNet, in training mode, against finite differences.

Every op has its own gradient test; this one checks that they compose: residual sums, shortcuts,
batch statistics, the SE block's two paths back to its input. The model is a CIFAR-shaped
SE-ResNet-8 of width 4 (stages of 4, 8, 16 channels) on 8×8 inputs, batch 2, in float64.
"""
import warnings

import numpy as np
import pytest

import minise
from minise import GradcheckError, GradcheckWarning, Tensor, models
from minise.functional.pad import PadChannelsFunction
from minise.functional.scale import ScaleChannelsFunction
from minise.rng import manual_seed

SAMPLED = ["conv1.weight", "bn1.weight", "layer1.0.conv2.weight", "layer1.0.se.fc1.weight",
           "layer2.0.se.fc2.bias", "layer2.0.bn1.bias", "layer3.0.conv1.weight", "layer3.0.se.fc1.bias",
           "layer3.0.bn2.weight", "fc.weight"]


def small_se_resnet(**kwargs):
    manual_seed(0)
    return models.CifarResNet(depth=8, width=4, se=True, reduction=2, **kwargs).double().train()


def checked_against(model, names):
    """A function of (x, *parameters) that runs ``model`` with those tensors in place of its parameters,
    so gradcheck can perturb them (it works on float64 copies of its inputs)."""
    owners = []
    for name in names:
        path, leaf = name.rsplit(".", 1)
        module = model
        for part in path.split("."):
            module = getattr(module, part)
        owners.append((module, leaf))

    def fn(x, *tensors):
        originals = [module._parameters[leaf] for module, leaf in owners]
        for (module, leaf), t in zip(owners, tensors):
            module._parameters[leaf] = t
        try:
            return model(x)
        finally:
            for (module, leaf), p in zip(owners, originals):
                module._parameters[leaf] = p
    return fn


def inputs_for(model, names, seed=1):
    x = Tensor(np.random.default_rng(seed).standard_normal((2, model.in_channels, 8, 8)), requires_grad=True)
    params = dict(model.named_parameters())
    return {"x": x, **{name: params[name] for name in names}}


def run_gradcheck(model, names=SAMPLED, max_elements=16, **kwargs):
    inputs = inputs_for(model, names)
    with warnings.catch_warnings():
        warnings.simplefilter("error", GradcheckWarning)              # a dead path would hide a bug
        return minise.gradcheck(checked_against(model, names), inputs, max_elements=max_elements, seed=0, **kwargs)


@pytest.mark.parametrize("position", ["standard", "pre", "post", "identity"])
def test_small_se_resnet_gradients(position):
    model = small_se_resnet(se_position=position)
    report = run_gradcheck(model)
    assert report and len(report.inputs) == 1 + len(SAMPLED)
    sizes = {"x": 2 * 3 * 8 * 8, **{n: p.size for n, p in model.named_parameters()}}
    assert all(c.checked == min(16, sizes[c.name]) for c in report.inputs)


def test_every_input_element_with_max_squeeze():
    model = small_se_resnet(squeeze="max")
    report = run_gradcheck(model, names=["layer2.0.se.fc1.weight"], max_elements=None, atol=1e-6)
    assert report["x"].checked == 2 * 3 * 8 * 8


def test_shortcut_a_gradients():
    model = small_se_resnet(shortcut="A", se_position="identity")
    assert not any("downsample.0" in n for n, _ in model.named_parameters())
    assert run_gradcheck(model, names=["conv1.weight", "layer2.0.conv1.weight", "layer3.0.se.fc2.weight"])


def test_planted_bug_in_the_se_scale_is_caught(monkeypatch):
    """An SE scale whose backward forgets the gradient of the scales (gs): the excitation path,
    and the part of x's gradient that goes through it, silently vanish."""
    def backward_without_gs(self, gy):
        x, s = self.saved
        return gy * s[:, :, None, None], None

    model = small_se_resnet()
    assert run_gradcheck(model)                                       # right before the bug is planted
    monkeypatch.setattr(ScaleChannelsFunction, "backward", backward_without_gs)
    with pytest.raises(GradcheckError, match="se.fc"):
        minise.gradcheck(checked_against(model, SAMPLED), inputs_for(model, SAMPLED), max_elements=16, seed=0)


def test_planted_bug_in_the_zero_pad_shortcut_is_caught(monkeypatch):
    model = small_se_resnet(shortcut="A")
    wrong_channels = lambda self, gy: (gy[:, -self.saved.channels:],)     # the last channels, not the first
    monkeypatch.setattr(PadChannelsFunction, "backward", wrong_channels)
    with pytest.raises(GradcheckError, match="input x"):
        minise.gradcheck(checked_against(model, []), inputs_for(model, []), max_elements=32, seed=0)
