"""Module hooks against the same hooks in PyTorch, on twins that share their weights.

Each test registers the same hook on a minise model and on its torch twin, runs forward and
backward in float64, and compares what the hooks saw (inputs, outputs, grad_input, grad_output)
and what they changed (a replaced output or grad_input must change the parameters' gradients the
same way in both)."""
import numpy as np
import pytest

torch = pytest.importorskip("torch")

from minise import Tensor, nn, no_grad
from minise.hooks import RemovableHandle


def twins(seed=0):
    """A small MLP in minise and in torch, float64, the same weights; and one batch for both."""
    torch.manual_seed(seed)
    theirs = torch.nn.Sequential(torch.nn.Linear(5, 7), torch.nn.ReLU(), torch.nn.Linear(7, 3)).double()
    ours = nn.Sequential(nn.Linear(5, 7), nn.ReLU(), nn.Linear(7, 3)).double()
    ours.load_state_dict({k: v.detach().numpy() for k, v in theirs.state_dict().items()})
    x = np.random.default_rng(seed).normal(size=(4, 5))
    return ours, theirs, x


def run(model, x, framework, weights=None):
    """Forward, then backward of Σ output · weights (a random upstream gradient, never all ones)."""
    if framework == "torch":
        xt = torch.tensor(x, requires_grad=True)
        out = model(xt)
        (out * torch.tensor(weights)).sum().backward()
        return out.detach().numpy(), xt.grad.numpy(), {k: p.grad.numpy() for k, p in model.named_parameters()}
    xt = Tensor(x, requires_grad=True)
    out = model(xt)
    out.backward(weights)
    return out.numpy(), xt.grad, {k: p.grad for k, p in model.named_parameters()}


def as_numpy(values):
    return [None if v is None else (v.detach().numpy() if torch.is_tensor(v) else np.asarray(getattr(v, "data", v)))
            for v in values]


def assert_same(ours, theirs):
    assert len(ours) == len(theirs)
    for a, b in zip(as_numpy(ours), as_numpy(theirs)):
        assert (a is None) == (b is None)
        if a is not None:
            np.testing.assert_allclose(a, b, rtol=1e-10, atol=1e-12)


def test_forward_hook_sees_inputs_and_output_like_torch():
    ours, theirs, x = twins()
    seen = {"ours": [], "torch": []}
    for model, key in ((ours, "ours"), (theirs, "torch")):
        model[1].register_forward_hook(lambda m, inputs, output, key=key: seen[key].append((inputs, output)))
        model(Tensor(x) if key == "ours" else torch.tensor(x))
    (in_ours, out_ours), = seen["ours"]
    (in_torch, out_torch), = seen["torch"]
    assert isinstance(in_ours, tuple) and len(in_ours) == 1
    assert_same(in_ours + (out_ours,), in_torch + (out_torch,))


@pytest.mark.parametrize("where", [0, 1, 2])
def test_forward_hook_replacing_the_output_changes_forward_and_backward_like_torch(where):
    ours, theirs, x = twins(1)
    g = np.random.default_rng(5).normal(size=(4, 3))
    ours[where].register_forward_hook(lambda m, i, out: out * 2.0 - 0.5)
    theirs[where].register_forward_hook(lambda m, i, out: out * 2.0 - 0.5)
    out_a, gx_a, grads_a = run(ours, x, "minise", g)
    out_b, gx_b, grads_b = run(theirs, x, "torch", g)
    assert_same([out_a, gx_a] + [grads_a[k] for k in sorted(grads_a)],
                [out_b, gx_b] + [grads_b[k] for k in sorted(grads_b)])
    plain, _, _ = run(twins(1)[0], x, "minise", g)
    assert not np.allclose(plain, out_a)                 # the hook did change something


def test_forward_pre_hook_replacing_the_inputs_like_torch():
    ours, theirs, x = twins(2)
    g = np.random.default_rng(6).normal(size=(4, 3))
    ours[2].register_forward_pre_hook(lambda m, inputs: (inputs[0] * 3.0,))
    theirs[2].register_forward_pre_hook(lambda m, inputs: (inputs[0] * 3.0,))
    out_a, gx_a, _ = run(ours, x, "minise", g)
    out_b, gx_b, _ = run(theirs, x, "torch", g)
    assert_same([out_a, gx_a], [out_b, gx_b])


def record_backward(model, key, seen):
    for index, layer in enumerate(model):
        layer.register_full_backward_hook(
            lambda m, gin, gout, key=key, index=index: seen[key].append((index, gin, gout)))


def test_full_backward_hook_sees_grad_input_and_grad_output_like_torch():
    ours, theirs, x = twins(3)
    g = np.random.default_rng(7).normal(size=(4, 3))
    seen = {"ours": [], "torch": []}
    record_backward(ours, "ours", seen)
    record_backward(theirs, "torch", seen)
    run(ours, x, "minise", g)
    run(theirs, x, "torch", g)
    assert [s[0] for s in seen["ours"]] == [s[0] for s in seen["torch"]] == [2, 1, 0]    # backward order
    for (_, gin_a, gout_a), (_, gin_b, gout_b) in zip(seen["ours"], seen["torch"]):
        assert_same(gin_a, gin_b)
        assert_same(gout_a, gout_b)


@pytest.mark.filterwarnings("ignore:Full backward hook is firing")
def test_full_backward_hook_on_a_layer_whose_input_needs_no_gradient():
    """The first layer of a network: grad_input is (None,), and the hook still runs (as in torch)."""
    ours, theirs, x = twins(4)
    seen = {"ours": [], "torch": []}
    ours[0].register_full_backward_hook(lambda m, gin, gout: seen["ours"].append((gin, gout)))
    theirs[0].register_full_backward_hook(lambda m, gin, gout: seen["torch"].append((gin, gout)))
    ours(Tensor(x)).sum().backward()
    theirs(torch.tensor(x)).sum().backward()
    (gin_a, gout_a), = seen["ours"]
    (gin_b, gout_b), = seen["torch"]
    assert gin_a == (None,) and gin_b == (None,)
    assert_same(gout_a, gout_b)


def test_full_backward_hook_replacing_grad_input_changes_earlier_gradients_like_torch():
    ours, theirs, x = twins(5)
    g = np.random.default_rng(8).normal(size=(4, 3))
    ours[1].register_full_backward_hook(lambda m, gin, gout: (gin[0] * 0.25 + 1.0,))
    theirs[1].register_full_backward_hook(lambda m, gin, gout: (gin[0] * 0.25 + 1.0,))
    _, gx_a, grads_a = run(ours, x, "minise", g)
    _, gx_b, grads_b = run(theirs, x, "torch", g)
    assert_same([gx_a, grads_a["0.weight"], grads_a["2.weight"]], [gx_b, grads_b["0.weight"], grads_b["2.weight"]])
    _, _, plain = run(twins(5)[0], x, "minise", g)
    assert not np.allclose(plain["0.weight"], grads_a["0.weight"])
    np.testing.assert_allclose(plain["2.weight"], grads_a["2.weight"])        # after the hook: untouched


class TwinResidualSE(torch.nn.Module):
    """y = x + SE(x), the SE block a child: its x is used twice inside it and once outside it."""

    def __init__(self, channels, hidden):
        super().__init__()
        self.se = torch.nn.Module()
        self.se.fc1, self.se.fc2 = torch.nn.Linear(channels, hidden), torch.nn.Linear(hidden, channels)
        self.se.forward = lambda x: x * torch.sigmoid(self.se.fc2(torch.relu(self.se.fc1(x.mean(dim=(2, 3))))))[
            :, :, None, None]

    def forward(self, x):
        return x + self.se(x)


class ResidualSE(nn.Module):
    def __init__(self, channels, reduction):
        super().__init__()
        self.se = nn.SEBlock(channels, reduction)

    def forward(self, x):
        return x + self.se(x)


def test_backward_hook_inside_a_residual_block_sees_only_the_gradient_through_the_block():
    """grad_input sums the block's own uses of x (squeeze path and scale), not the shortcut's."""
    torch.manual_seed(0)
    theirs = TwinResidualSE(6, 3).double()
    ours = ResidualSE(6, 2).double()
    ours.load_state_dict({k: v.detach().numpy() for k, v in theirs.state_dict().items()})
    x = np.random.default_rng(1).normal(size=(2, 6, 3, 3))
    g = np.random.default_rng(2).normal(size=(2, 6, 3, 3))
    seen = {"ours": [], "torch": []}
    ours.se.register_full_backward_hook(lambda m, gin, gout: seen["ours"].append((gin, gout)))
    theirs.se.register_full_backward_hook(lambda m, gin, gout: seen["torch"].append((gin, gout)))
    _, gx_a, _ = run(ours, x, "minise", g)
    _, gx_b, _ = run(theirs, x, "torch", g)
    (gin_a, gout_a), = seen["ours"]
    (gin_b, gout_b), = seen["torch"]
    assert_same(gin_a + gout_a + (gx_a,), gin_b + gout_b + (torch.tensor(gx_b),))
    np.testing.assert_allclose(gin_a[0] + g, gx_a)        # the shortcut adds g; grad_input leaves it out


def test_several_outputs_and_a_non_tensor_input():
    class Split(nn.Module):
        def forward(self, x, scale):
            return x * scale, x.sum(axis=1)

    seen = []
    layer = Split()
    layer.register_full_backward_hook(lambda m, gin, gout: seen.append((gin, gout)))
    x = Tensor(np.arange(6.0).reshape(2, 3), requires_grad=True)
    a, b = layer(x, 2.0)
    (a.sum() + (b * 3.0).sum()).backward()
    (gin, gout), = seen
    assert len(gin) == 1 and len(gout) == 2                 # the float 2.0 is no Tensor: no entry
    np.testing.assert_allclose(gin[0], np.full((2, 3), 5.0))
    np.testing.assert_allclose(gout[1], [3.0, 3.0])


def test_handles_remove_hooks_and_work_as_context_managers():
    ours, _, x = twins()
    calls = []
    handle = ours[0].register_forward_hook(lambda *a: calls.append("forward"))
    back = ours[0].register_full_backward_hook(lambda *a: calls.append("backward"))
    assert isinstance(handle, RemovableHandle)
    ours(Tensor(x)).sum().backward()
    assert calls == ["forward", "backward"]
    handle.remove()
    back.remove()
    back.remove()                                          # twice is harmless
    ours(Tensor(x)).sum().backward()
    assert calls == ["forward", "backward"]
    with ours[0].register_forward_hook(lambda *a: calls.append("inside")):
        ours(Tensor(x))
    ours(Tensor(x))
    assert calls == ["forward", "backward", "inside"]


def test_hooks_run_in_registration_order_and_prepend_puts_one_first():
    layer, order = nn.ReLU(), []
    layer.register_forward_hook(lambda *a: order.append(1))
    layer.register_forward_hook(lambda *a: order.append(2))
    layer.register_forward_hook(lambda *a: order.append(0), prepend=True)
    layer(Tensor(np.ones(3)))
    assert order == [0, 1, 2]


def test_under_no_grad_forward_hooks_run_and_no_graph_is_made():
    ours, _, x = twins()
    calls = []
    ours[0].register_forward_hook(lambda *a: calls.append("forward"))
    ours[0].register_full_backward_hook(lambda *a: calls.append("backward"))
    with no_grad():
        out = ours(Tensor(x, requires_grad=True))
    assert calls == ["forward"] and out.creator is None and not out.requires_grad


def test_bad_hooks_and_bad_results_are_named():
    ours, _, x = twins()
    with pytest.raises(TypeError, match="must be callable"):
        ours[1].register_forward_hook("print")
    handle = ours[1].register_full_backward_hook(lambda m, gin, gout: (gin[0], gin[0]))
    with pytest.raises(RuntimeError, match=r"ReLU\(\).*returned 2 values.*1 gradient"):
        ours(Tensor(x)).sum().backward()
    handle.remove()
    ours[1].register_full_backward_hook(lambda m, gin, gout: (gin[0][:1],))
    with pytest.raises(RuntimeError, match=r"shape \(1, 7\) for input 0.*\(4, 7\)"):
        ours(Tensor(x)).sum().backward()
    ours[0].register_full_backward_hook(lambda m, gin, gout: (np.zeros((4, 5)),))
    with pytest.raises(RuntimeError, match="no input of this module requires a gradient"):
        nn.Sequential(ours[0])(Tensor(x)).sum().backward()


def test_hooks_and_the_recorder_keep_gradients_on_the_device(device_backend):
    """Hooks hand over the device's own arrays; nothing is copied to the host behind the user's back."""
    from minise import manual_seed
    from minise.excitation import record_excitations
    xp = device_backend.xp
    manual_seed(0)
    block = nn.Sequential(nn.Conv2d(2, 6, 3, padding=1), nn.SEBlock(6, reduction=3))
    if device_backend.name != "numpy":
        block.to("cuda")
    seen = {}
    block[1].register_full_backward_hook(lambda m, gin, gout: seen.update(gin=gin[0], gout=gout[0]))
    block[1].register_forward_hook(lambda m, inputs, out: seen.update(out=out))
    x = Tensor(xp.asarray(np.random.default_rng(0).standard_normal((2, 2, 4, 4)).astype(np.float32)),
               requires_grad=True)
    block(x).sum().backward()
    assert isinstance(seen["gin"], xp.ndarray) and isinstance(seen["gout"], xp.ndarray)
    assert isinstance(x.grad, xp.ndarray) and seen["out"].device == x.device
    loader = [(xp.asarray(np.ones((3, 2, 4, 4), dtype=np.float32)), np.array([0, 1, 1]))]
    gates = record_excitations(block, loader).gates["1"]
    assert isinstance(gates, np.ndarray) and gates.shape == (3, 6)             # recorded gates come home as NumPy
