"""The excitation recorder: it keeps the gates the SE blocks really computed, with the right labels,
and its class share η² is 1 for class-determined gates, 0 for class-blind ones, and right in between."""
import numpy as np
import pytest

import minise
from minise import models, nn
from minise.data import ArrayDataset, DataLoader
from minise.excitation import (
    Excitations,
    paper_name,
    plot_excitations,
    record_excitations,
    se_blocks,
)


def tiny_model_and_loader():
    minise.manual_seed(0)
    model = models.se_resnet20(num_classes=3, in_channels=1, width=4, reduction=2)
    rng = np.random.default_rng(0)
    images = rng.random((10, 1, 8, 8), dtype=np.float32)
    labels = np.array([0, 1, 2, 0, 1, 2, 0, 1, 2, 2])
    return model, DataLoader(ArrayDataset(images, labels), batch_size=4), images, labels


def test_the_recorder_keeps_every_blocks_gate_per_image_with_its_label():
    model, loader, images, labels = tiny_model_and_loader()
    model.train()
    excitations = record_excitations(model, loader)
    assert excitations.names == [name for name, _ in se_blocks(model)] and len(excitations.names) == 9
    np.testing.assert_array_equal(excitations.labels, labels)
    assert model.training                                                  # the mode is given back
    assert all(not block.gate._forward_hooks for _, block in se_blocks(model))   # hooks taken off again
    # the gate of the last block, computed by hand from its input: s = σ(W₂ relu(W₁ z + b₁) + b₂)
    block = model.layer3[2].se
    seen = []
    handle = block.register_forward_hook(lambda m, inputs, out: seen.append(inputs[0].numpy()))
    model.eval()
    model(minise.Tensor(images))
    handle.remove()
    z = seen[0].mean(axis=(2, 3))
    hidden = np.maximum(z @ block.fc1.weight.numpy().T + block.fc1.bias.numpy(), 0)
    s = 1 / (1 + np.exp(-(hidden @ block.fc2.weight.numpy().T + block.fc2.bias.numpy())))
    np.testing.assert_allclose(excitations.gates["layer3.2.se"], s, rtol=1e-5, atol=1e-6)
    assert excitations.gates["layer1.0.se"].shape == (10, 4) and excitations.gates["layer3.2.se"].shape == (10, 16)


def test_max_batches_and_the_errors():
    model, loader, _, _ = tiny_model_and_loader()
    assert len(record_excitations(model, loader, max_batches=2).labels) == 8
    with pytest.raises(ValueError, match="has no SE block"):
        record_excitations(models.resnet20(in_channels=1, width=4), loader)
    with pytest.raises(ValueError, match="without any batch"):
        record_excitations(model, [])
    with pytest.raises(ValueError, match="3 gates recorded for 2 labels"):
        Excitations({"a": np.zeros((3, 2))}, [0, 1])


def test_class_share_is_one_for_gates_set_by_the_class_and_zero_for_class_blind_gates():
    labels = np.repeat([0, 1, 2], 4)
    by_class = np.array([[0.1, 0.9], [0.5, 0.5], [0.8, 0.2]])[labels]           # the class alone sets the gate
    assert Excitations({"a": by_class}, labels).class_share("a") == pytest.approx(1.0)
    same_in_every_class = np.tile(np.array([[0.1, 0.2], [0.3, 0.9], [0.6, 0.4], [0.7, 0.5]]), (3, 1))
    assert Excitations({"b": same_in_every_class}, labels).class_share("b") == pytest.approx(0.0, abs=1e-12)
    # by hand: gates 0, 2 (class 0) and 4, 6 (class 1): μ = 3, total = 9 + 1 + 1 + 9 = 20, between = 2·4 + 2·4 = 16
    e = Excitations({"c": np.array([[0.0], [2.0], [4.0], [6.0]])}, [0, 0, 1, 1])
    assert e.class_share("c") == pytest.approx(16 / 20)
    np.testing.assert_allclose(e.class_means("c"), [[1.0], [5.0]])
    assert e.class_spread("c") == pytest.approx(np.sqrt(16 / 4))            # between / (N · C) = 16 / 4
    assert Excitations({"b": same_in_every_class}, labels).class_spread("b") == pytest.approx(0.0, abs=1e-12)
    assert Excitations({"d": np.ones((4, 3))}, [0, 0, 1, 1]).class_share("d") == 0.0     # no variance at all


def test_paper_names_and_the_plot():
    assert paper_name("layer1.2.se") == "SE_2_3" and paper_name("layer3.0.se") == "SE_4_1"
    assert paper_name("se") == "se"
    pytest.importorskip("matplotlib")
    model, loader, _, _ = tiny_model_and_loader()
    excitations = record_excitations(model, loader)
    figure = plot_excitations(excitations)
    titles = [ax.get_title() for ax in figure.axes]
    assert titles[0].startswith("SE_2_1 (layer1.0.se)") and titles[2].startswith("SE_4_3 (layer3.2.se)")
    assert f"η² = {excitations.class_share('layer3.2.se'):.2f}" in titles[2]
    assert len(figure.axes[1].get_lines()) == 3 + 1                           # one line per class, and "all"


def test_a_plain_se_wrapper_is_recorded_too():
    model = nn.Sequential(nn.SEWrapper(nn.Conv2d(1, 4, 3, padding=1), 4, reduction=2))
    loader = [(np.ones((2, 1, 5, 5), dtype=np.float32), np.array([0, 1]))]
    excitations = record_excitations(model, loader)
    assert excitations.names == ["0.se"] and excitations.gates["0.se"].shape == (2, 4)
