"""PyTorch habits work in minise with PyTorch's meaning: the README's script, comparisons, creation
functions, tensor methods, reductions with dim / keepdim, cat / stack, dropout and the layers."""
import json
import os
import pathlib
import re
import runpy
import subprocess
import sys

import numpy as np
import pytest
from hypothesis import assume, given
from hypothesis import strategies as hst

import minise
import minise.nn.functional as NF
from minise import Tensor, nn
from minise.data import DataLoader, TensorDataset
from minise.functional import join
from minise.functional.dropout import DropoutFunction, dropout_mask
from minise.testing import strategies as st

ROOT = pathlib.Path(__file__).resolve().parent.parent
README = (ROOT / "README.md").read_text(encoding="utf-8")


def leaf(a):
    return Tensor(np.asarray(a, dtype=np.float64), requires_grad=True)


# -- the README's script ---------------------------------------------------------------------------

def readme_script():
    section = README.split("## Coming from PyTorch", 1)[1].split("\n## ", 1)[0]
    (script,) = re.findall(r"```python\n(.*?)```", section, re.DOTALL)
    return script


def run_script(source, tmp_path):
    path = tmp_path / "script.py"
    path.write_text(source, encoding="utf-8")
    env = dict(os.environ, PYTHONPATH=str(ROOT), OMP_NUM_THREADS="1")      # one thread: no oversubscription
    return subprocess.run([sys.executable, str(path)], capture_output=True, text=True, env=env, timeout=300)


def test_the_readme_script_runs_on_minise(tmp_path):
    result = run_script(readme_script(), tmp_path)
    assert result.returncode == 0, result.stderr
    assert re.search(r"train accuracy (0\.9\d\d|1\.000)", result.stdout)


def test_the_readme_script_runs_on_pytorch_with_only_the_imports_changed(tmp_path):
    pytest.importorskip("torch")
    script = readme_script()
    imports = {"import minise as torch": "import torch", "import minise.nn as nn": "import torch.nn as nn",
               "import minise.nn.functional as F": "import torch.nn.functional as F",
               "from minise.data import": "from torch.utils.data import"}
    lines = script.splitlines()
    swapped = [next((line.replace(a, b) for a, b in imports.items() if line.startswith(a)), line) for line in lines]
    changed = [a for a, b in zip(lines, swapped) if a != b]
    assert len(changed) == len(imports) and all(line.startswith(("import", "from")) for line in changed)
    assert "minise" not in "\n".join(swapped)
    result = run_script("\n".join(swapped) + "\n", tmp_path)
    assert result.returncode == 0, result.stderr
    assert "train accuracy" in result.stdout


# -- comparisons -------------------------------------------------------------------------------------

COMPARISONS = {"==": lambda a, b: a == b, "!=": lambda a, b: a != b, "<": lambda a, b: a < b,
               "<=": lambda a, b: a <= b, ">": lambda a, b: a > b, ">=": lambda a, b: a >= b}


@pytest.mark.parametrize("op", COMPARISONS)
def test_comparisons_are_element_wise_bool_tensors_outside_the_graph(device_backend, op):
    a = np.array([[1.0, 2.0, 3.0], [3.0, 2.0, 1.0]])
    b = np.array([2.0, 2.0, 2.0])
    x = Tensor(device_backend.asarray(a), requires_grad=True)
    compare = COMPARISONS[op]
    for other, expected in ((Tensor(device_backend.asarray(b)), compare(a, b)), (2.0, compare(a, 2.0)),
                            (device_backend.asarray(b), compare(a, b))):
        result = compare(x, other)
        assert isinstance(result, Tensor) and result.dtype == bool and result.device == device_backend.device
        assert not result.requires_grad and result.creator is None
        np.testing.assert_array_equal(device_backend.to_numpy(result.data), expected)
    reflected = compare(2.0, x)                                  # Python turns 2 < x into x > 2
    np.testing.assert_array_equal(device_backend.to_numpy(reflected.data), compare(2.0, a))


def test_accuracy_the_pytorch_way():
    pred = Tensor(np.array([0, 2, 1, 1]))
    y = Tensor(np.array([0, 1, 1, 1]))
    assert (pred == y).sum().item() == 3
    assert (pred == y).float().mean().item() == pytest.approx(0.75)
    assert (pred == y.data).float().dtype == np.float32          # a label array works the same


def test_tensors_stay_usable_in_sets_and_dicts_and_only_one_element_has_a_truth_value():
    a, b = Tensor(np.ones(2)), Tensor(np.ones(2))
    assert len({a, b, a}) == 2 and {a: 1, b: 2}[b] == 2
    assert a in [a] and (a == None) is False                     # noqa: E711  (not element-wise)
    assert bool(Tensor([3.0]) > 2) and not Tensor(0.0)
    with pytest.raises(ValueError, match="ambiguous"):
        bool(a == b)
    assert (a == b).all() and not (a != b).any()


# -- making tensors ----------------------------------------------------------------------------------

def test_creation_functions_follow_pytorch_dtypes_and_shapes():
    assert minise.tensor([1, 2]).dtype == np.int64 and minise.tensor([1.0, 2]).dtype == np.float32
    assert minise.tensor(np.zeros(2)).dtype == np.float64 and minise.tensor([True]).dtype == bool
    assert minise.tensor([1, 2], dtype=minise.float64).dtype == np.float64
    assert minise.tensor([[1.0]], requires_grad=True).requires_grad
    assert minise.zeros(2, 3).shape == minise.zeros((2, 3)).shape == (2, 3)
    assert minise.ones(4).dtype == np.float32 and float(minise.ones(4).sum().item()) == 4.0
    assert minise.arange(5).tolist() == [0, 1, 2, 3, 4] and minise.arange(5).dtype == np.int64
    assert minise.arange(0, 1, 0.25).tolist() == [0.0, 0.25, 0.5, 0.75]
    assert minise.arange(1, 4).dtype == minise.long
    r = minise.randint(3, 5, (100,))
    assert r.dtype == np.int64 and r.shape == (100,) and set(r.tolist()) == {3, 4}
    assert minise.randint(2, (3, 2)).shape == (3, 2)
    u = minise.rand(1000)
    assert u.dtype == np.float32 and 0 <= u.data.min() and u.data.max() < 1
    assert abs(float(minise.randn(4000).data.std()) - 1) < 0.1
    with pytest.raises(ValueError, match="non-negative"):
        minise.zeros(-1)
    with pytest.raises(ValueError, match="below"):
        minise.randint(3, 3, (2,))


def test_random_creation_repeats_under_manual_seed():
    minise.manual_seed(7)
    first = (minise.randn(3), minise.rand(2), minise.randint(10, (4,)))
    minise.manual_seed(7)
    again = (minise.randn(3), minise.rand(2), minise.randint(10, (4,)))
    for a, b in zip(first, again):
        np.testing.assert_array_equal(a.data, b.data)


def test_from_numpy_shares_memory_and_tensor_copies():
    a = np.zeros(3)
    shared, copied = minise.from_numpy(a), minise.tensor(a)
    a[0] = 5
    assert shared.data[0] == 5 and copied.data[0] == 0
    with pytest.raises(TypeError, match="numpy.ndarray"):
        minise.from_numpy([1, 2])


def test_creation_functions_use_the_default_backend():
    from minise.testing import strict_device
    with strict_device.enabled():
        for t in (minise.tensor([1.0]), minise.zeros(2), minise.ones(2), minise.rand(2), minise.randn(2),
                  minise.randint(3, (2,)), minise.arange(3)):
            assert t.device == "cuda" and isinstance(t.data, strict_device.module.ndarray)
        assert minise.from_numpy(np.ones(2)).device == "cpu"


# -- tensor methods --------------------------------------------------------------------------------

def test_size_numel_dim_item_and_views():
    x = Tensor(np.arange(24.0).reshape(2, 3, 4))
    assert x.size() == (2, 3, 4) and x.size(1) == 3 and x.size(-1) == 4 and x.size == 24
    assert x.numel() == 24 and x.dim() == 3 and x[1, 2, 3].item() == 23.0
    assert x.view(6, 4).shape == (6, 4) and x.view(-1).shape == (24,)
    assert x.unsqueeze(0).shape == (1, 2, 3, 4) and x.unsqueeze(-1).shape == (2, 3, 4, 1)
    assert x.unsqueeze(1).squeeze().shape == (2, 3, 4) and x.unsqueeze(1).squeeze(1).shape == (2, 3, 4)
    assert x.unsqueeze(1).squeeze(0).shape == (2, 1, 3, 4)                      # size 2: left alone
    assert x.permute(2, 0, 1).shape == (4, 2, 3) and x.swapaxes(0, 2).shape == (4, 3, 2)
    np.testing.assert_array_equal(x.permute(2, 0, 1).data, np.transpose(x.data, (2, 0, 1)))
    with pytest.raises(IndexError, match="out of range"):
        x.size(3)
    with pytest.raises(ValueError, match="permute"):
        x.permute(0, 1)
    with pytest.raises(ValueError, match="unsqueeze: dim 4"):
        x.unsqueeze(4)


def test_clone_copies_and_keeps_the_graph_detach_cuts_it():
    x = leaf([1.0, 2.0])
    c = x.clone()
    c.data[0] = 9
    assert x.data[0] == 1.0 and c.requires_grad
    (c * 3).sum().backward()
    np.testing.assert_allclose(x.grad, [3.0, 3.0])
    assert not x.detach().requires_grad and x.detach().data is x.data


def test_activation_methods_are_the_functional_ops():
    x = Tensor(np.array([-1.0, 0.5]))
    np.testing.assert_allclose(x.relu().data, [0.0, 0.5])
    np.testing.assert_allclose(x.sigmoid().data, 1 / (1 + np.exp(-x.data)))
    np.testing.assert_allclose(x.exp().data, np.exp(x.data))
    np.testing.assert_allclose(x.softmax(0).data, np.exp(x.data) / np.exp(x.data).sum())


@given(st.shapes(min_dims=2, max_dims=4, max_side=4), st.seeds())
def test_view_methods_pass_gradcheck(shape, seed):
    x = st.make_array(shape, seed)
    f = lambda t: (t.unsqueeze(1).permute(*range(t.ndim, -1, -1)).squeeze(-2).clone().swapaxes(0, -1)
                   .view(-1) * Tensor(np.arange(1.0, t.size + 1)))          # weights 1, 2, ...: none is 0
    assert minise.gradcheck(f, [leaf(x)], seed=seed)


def test_a_planted_clone_bug_is_caught(monkeypatch):
    from minise.functional import shape
    monkeypatch.setattr(shape.CloneFunction, "backward", lambda self, gy: (gy[::-1].copy(),))
    with pytest.raises(minise.GradcheckError):
        minise.gradcheck(lambda t: t.clone() * t, [leaf(np.arange(1.0, 4.0))], seed=0)


# -- reductions with dim / keepdim -------------------------------------------------------------------

def test_reductions_take_dim_and_keepdim_and_the_numpy_aliases():
    a = np.random.default_rng(0).standard_normal((2, 3, 4))
    x = Tensor(a)
    np.testing.assert_allclose(x.sum(dim=1, keepdim=True).data, a.sum(axis=1, keepdims=True))
    np.testing.assert_allclose(x.sum(1).data, a.sum(axis=1))
    np.testing.assert_allclose(x.mean(dim=(0, 2)).data, a.mean(axis=(0, 2)))
    np.testing.assert_allclose(x.mean(axis=-1, keepdims=True).data, a.mean(axis=-1, keepdims=True))
    np.testing.assert_allclose(x.amin(dim=0).data, a.min(axis=0))
    np.testing.assert_array_equal(x.argmax(dim=2, keepdim=True).data, a.argmax(axis=2)[..., None])
    assert x.argmax().item() == a.argmax() and x.argmax().dtype == np.int64
    np.testing.assert_allclose(x.max(axis=1).data, a.max(axis=1))        # NumPy's habit: the values
    np.testing.assert_allclose(x.max().data, a.max())
    with pytest.raises(TypeError, match="not both"):
        x.sum(dim=0, axis=0)
    with pytest.raises(TypeError, match="amax"):
        x.max(dim=(0, 1))


def test_max_and_min_with_one_dim_give_values_and_indices_as_torch():
    torch = pytest.importorskip("torch")
    a = st.make_array((3, 5), 0, tie_free=True)
    for name in ("max", "min"):
        for keepdim in (False, True):
            values, indices = getattr(Tensor(a), name)(1, keepdim=keepdim)
            theirs = getattr(torch.tensor(a), name)(1, keepdim=keepdim)
            np.testing.assert_allclose(values.data, theirs.values.numpy())
            np.testing.assert_array_equal(indices.data, theirs.indices.numpy())
            assert not indices.requires_grad


@given(st.shapes(min_dims=1, max_dims=3, max_side=4), st.seeds(), hst.booleans(),
       hst.sampled_from(["sum", "mean", "amax", "amin", "max-dim", "min-dim"]))
def test_reductions_with_dim_pass_gradcheck(shape, seed, keepdim, op):
    x = st.make_array(shape, seed, tie_free=True)
    dim = seed % len(shape)
    if op.endswith("-dim"):
        f = lambda t: getattr(t, op[:3])(dim, keepdim=keepdim).values
    else:
        f = lambda t: getattr(t, op)(dim=dim, keepdim=keepdim)
    assert minise.gradcheck(f, [leaf(x)], seed=seed)


def test_a_planted_min_bug_is_caught(monkeypatch):
    from minise.functional import reduction
    def to_the_maximum(self, gy):                                   # routes gy to the largest element
        x, _ = self.saved
        winners = (x == x.max(axis=self.dims, keepdims=True)).astype(x.dtype)
        return (winners * np.expand_dims(gy, self.dims),)
    monkeypatch.setattr(reduction.MinFunction, "backward", to_the_maximum)
    x = leaf(st.make_array((3, 4), 0, tie_free=True))
    with pytest.raises(minise.GradcheckError):
        minise.gradcheck(lambda t: reduction.amin(t, dim=1) + 0 * t.sum(), [x], seed=0)


# -- cat and stack ------------------------------------------------------------------------------------

@given(st.shapes(min_dims=1, max_dims=3, max_side=3), hst.lists(hst.integers(1, 3), min_size=1, max_size=3),
       st.seeds())
def test_cat_and_stack_pass_gradcheck(shape, sizes, seed):
    dim = seed % len(shape)
    parts = [st.make_array(shape[:dim] + (n,) + shape[dim + 1:], seed + k) for k, n in enumerate(sizes)]
    assert minise.gradcheck(lambda *ts: minise.cat(list(ts), dim=dim), [leaf(p) for p in parts], seed=seed)
    same = [st.make_array(shape, seed + k) for k in range(len(sizes))]
    new_dim = seed % (len(shape) + 1)
    assert minise.gradcheck(lambda *ts: minise.stack(ts, dim=new_dim), [leaf(p) for p in same], seed=seed)


def test_cat_and_stack_match_numpy_and_refuse_bad_input():
    a, b = np.ones((2, 3)), np.zeros((1, 3))
    np.testing.assert_array_equal(minise.cat([Tensor(a), Tensor(b)]).data, np.concatenate([a, b]))
    np.testing.assert_array_equal(minise.stack([Tensor(a), Tensor(a)], dim=-1).data, np.stack([a, a], axis=-1))
    with pytest.raises(ValueError, match="differ outside dim 0"):
        minise.cat([Tensor(a), Tensor(np.ones((2, 2)))])
    with pytest.raises(ValueError, match="same shape"):
        minise.stack([Tensor(a), Tensor(b)])
    with pytest.raises(TypeError, match="list or tuple"):
        minise.cat(Tensor(a))
    with pytest.raises(ValueError, match="dim 2"):
        minise.cat([Tensor(a)], dim=2)


@pytest.mark.parametrize("op", ["cat", "stack"])
def test_a_planted_join_bug_is_caught(monkeypatch, op):
    cls = join.CatFunction if op == "cat" else join.StackFunction
    right = cls.backward
    monkeypatch.setattr(cls, "backward", lambda self, gy: tuple(reversed(right(self, gy))))    # swapped inputs
    a, b = leaf(np.arange(6.0).reshape(2, 3)), leaf(np.arange(6.0, 12.0).reshape(2, 3))
    with pytest.raises(minise.GradcheckError):
        minise.gradcheck(lambda x, y: getattr(minise, op)([x, y], dim=1), [a, b], seed=0)


def test_cat_and_stack_on_the_device_stand_in(device_backend):
    host = [st.make_array((2, 3), k) for k in range(2)]
    for op in (minise.cat, minise.stack):
        tensors = [Tensor(device_backend.asarray(a), requires_grad=True) for a in host]
        y = op(tensors, dim=1)
        gy = np.random.default_rng(0).standard_normal(y.shape)
        y.backward(device_backend.asarray(gy))
        reference = [leaf(a) for a in host]
        op(reference, dim=1).backward(gy)
        assert y.device == device_backend.device
        for t, r in zip(tensors, reference):
            assert type(t.grad) is type(t.data)
            np.testing.assert_allclose(device_backend.to_numpy(t.grad), r.grad)
        fresh = [Tensor(device_backend.asarray(a), requires_grad=True) for a in host]
        assert minise.gradcheck(lambda *ts, op=op: op(list(ts), dim=0), fresh, seed=1)


# -- dropout ------------------------------------------------------------------------------------------

def test_dropout_zeroes_about_p_and_keeps_the_expected_value():
    minise.manual_seed(0)
    x = Tensor(np.ones((200, 100)))
    y = NF.dropout(x, p=0.3)
    dropped = float((y == 0).float().mean().item())
    assert abs(dropped - 0.3) < 0.02
    np.testing.assert_allclose(np.unique(y.data), [0.0, 1 / 0.7], rtol=1e-6)
    assert abs(float(y.mean().item()) - 1.0) < 0.03
    assert NF.dropout(x, p=0.3, training=False) is x and NF.dropout(x, p=0.0) is x
    assert float(NF.dropout(x, p=1.0).sum().item()) == 0.0


@pytest.mark.parametrize("p", [-0.1, 1.5, "0.5", True])
def test_dropout_refuses_a_probability_outside_zero_one(p):
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        NF.dropout(Tensor(np.ones(3)), p=p)
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        nn.Dropout(p)


def test_inplace_is_accepted_the_input_is_kept_and_the_result_is_the_same():
    x = np.linspace(-1.0, 1.0, 12).reshape(3, 4)
    for make in (lambda inplace: nn.Dropout(0.5, inplace=inplace), lambda inplace: nn.ReLU(inplace=inplace)):
        results = []
        for inplace in (False, True):
            minise.manual_seed(3)
            t = Tensor(x.copy())
            results.append(make(inplace)(t).numpy())
            np.testing.assert_array_equal(t.numpy(), x)          # the input is never overwritten
        np.testing.assert_array_equal(results[0], results[1])
    minise.manual_seed(3)
    kept = NF.dropout(Tensor(x.copy()), 0.5, True, True).numpy()
    minise.manual_seed(3)
    np.testing.assert_array_equal(kept, NF.dropout(Tensor(x.copy()), 0.5, True, False).numpy())
    np.testing.assert_array_equal(NF.relu(Tensor(x.copy()), inplace=True).numpy(), np.maximum(x, 0))


# The functional names PyTorch has too, with the parameters of PyTorch's signature (positional
# order, names and defaults) that a script may pass. minise refuses by name what it lacks
# (dilation != 1 in pooling, return_indices, divisor_override) instead of reading it as the next
# argument.
TORCH_SIGNATURES = {
    "conv2d": "input weight bias=None stride=1 padding=0 dilation=1 groups=1",
    "linear": "input weight bias=None",
    "relu": "input inplace=False",
    "sigmoid": "input",
    "tanh": "input",
    "softmax": "input dim=None",
    "log_softmax": "input dim=None",
    "dropout": "input p=0.5 training=True inplace=False",
    "batch_norm": "input running_mean running_var weight=None bias=None training=False momentum=0.1 eps=1e-05",
    "max_pool2d": "input kernel_size stride=None padding=0 dilation=1 ceil_mode=False return_indices=False",
    "avg_pool2d": ("input kernel_size stride=None padding=0 ceil_mode=False count_include_pad=True "
                   "divisor_override=None"),
    "adaptive_avg_pool2d": "input output_size",
    "adaptive_max_pool2d": "input output_size return_indices=False",
    "cross_entropy": "input target",
    "nll_loss": "input target",
}


def _positional(function):
    import inspect
    kinds = (inspect.Parameter.POSITIONAL_ONLY, inspect.Parameter.POSITIONAL_OR_KEYWORD)
    return " ".join(name if p.default is inspect.Parameter.empty else f"{name}={p.default!r}"
                    for name, p in inspect.signature(function).parameters.items() if p.kind in kinds)


@pytest.mark.parametrize("name", sorted(TORCH_SIGNATURES))
def test_functional_takes_pytorchs_arguments_in_pytorchs_order(name):
    assert _positional(getattr(NF, name)).startswith(TORCH_SIGNATURES[name])


def _torch_positional(name):
    """PyTorch's own positional parameters of torch.nn.functional.<name>, in the same notation."""
    import inspect

    import torch
    function = getattr(torch.nn.functional, name)
    try:
        if "args" in inspect.signature(function).parameters:      # a dispatcher on return_indices
            function = getattr(torch.nn.functional, "_" + name)
        return _positional(function)
    except ValueError:                 # a builtin: its signature is the first line of its docstring
        inside = function.__doc__.strip().split("(", 1)[1].split(")", 1)[0]
        return " ".join(part.replace(" ", "") for part in inside.split(","))


@pytest.mark.parametrize("name", sorted(TORCH_SIGNATURES))
def test_the_expected_signatures_are_pytorchs_own(name):
    pytest.importorskip("torch")
    assert _torch_positional(name).startswith(TORCH_SIGNATURES[name])


def test_pytorchs_pooling_arguments_minise_lacks_are_refused_by_name():
    x = Tensor(np.ones((1, 1, 6, 6)))
    with pytest.raises(NotImplementedError, match="dilation"):
        NF.max_pool2d(x, 3, 2, 1, 2)
    with pytest.raises(NotImplementedError, match="return_indices"):
        nn.MaxPool2d(2, return_indices=True)
    with pytest.raises(NotImplementedError, match="divisor_override"):
        nn.AvgPool2d(2, divisor_override=3)
    assert NF.max_pool2d(x, 3, 2, 1, 1, True).shape == (1, 1, 4, 4)       # dilation 1, then ceil_mode


def test_dropout_backward_sends_gradient_only_through_kept_elements():
    minise.manual_seed(1)
    x = leaf(np.ones((4, 5)))
    y = NF.dropout(x, p=0.5)
    gy = np.random.default_rng(2).standard_normal((4, 5))
    y.backward(gy)
    kept = y.data != 0
    np.testing.assert_allclose(x.grad, np.where(kept, gy * 2.0, 0.0))


@given(st.shapes(max_dims=3), st.seeds(), hst.sampled_from([0.2, 0.5, 0.9]))
def test_dropout_passes_gradcheck_with_a_fixed_mask(shape, seed, p):
    mask = Tensor(dropout_mask(shape, p, np.zeros(1)))
    assume(mask.data.any())                     # an all-zero mask has a zero gradient: nothing to check
    x = st.make_array(shape, seed)
    assert minise.gradcheck(lambda t: DropoutFunction()(t, mask), [leaf(x)], seed=seed)


def test_a_planted_dropout_bug_is_caught(monkeypatch):
    monkeypatch.setattr(DropoutFunction, "backward", lambda self, gy: (gy, None))   # forgets the mask
    mask = Tensor(dropout_mask((3, 4), 0.5, np.zeros(1, dtype=np.float64)))
    with pytest.raises(minise.GradcheckError):
        minise.gradcheck(lambda t: DropoutFunction()(t, mask), [leaf(np.ones((3, 4)))], seed=0)


def test_dropout_layer_trains_and_evaluates_on_the_device_stand_in(device_backend):
    layer = nn.Dropout(0.5)
    x = Tensor(device_backend.asarray(np.ones((3, 8))), requires_grad=True)
    minise.manual_seed(3)
    y = layer(x)
    y.backward(device_backend.asarray(np.ones((3, 8))))
    assert y.device == device_backend.device and type(x.grad) is type(x.data)
    np.testing.assert_allclose(device_backend.to_numpy(x.grad), device_backend.to_numpy(y.data))
    assert layer.eval()(x) is x and repr(layer) == "Dropout(p=0.5)"


# -- layers and the functional alias -------------------------------------------------------------

def test_nn_functional_is_minise_functional():
    import minise.functional
    assert NF.relu is minise.functional.relu and NF.cross_entropy is minise.functional.cross_entropy
    assert set(minise.functional.__all__) <= set(dir(NF))


def test_cross_entropy_loss_matches_the_functional_op_and_torch():
    logits = np.random.default_rng(0).standard_normal((5, 4))
    target = np.array([0, 3, 1, 1, 2])
    for reduction in ("mean", "sum", "none"):
        mine = nn.CrossEntropyLoss(reduction=reduction, label_smoothing=0.1)(Tensor(logits), Tensor(target))
        np.testing.assert_allclose(mine.data, NF.cross_entropy(Tensor(logits), target, reduction=reduction,
                                                               label_smoothing=0.1).data)
        torch = pytest.importorskip("torch")
        theirs = torch.nn.CrossEntropyLoss(reduction=reduction, label_smoothing=0.1)(torch.tensor(logits),
                                                                                     torch.tensor(target))
        np.testing.assert_allclose(mine.data, theirs.numpy(), rtol=1e-10)
    log_p = NF.log_softmax(Tensor(logits), 1)
    np.testing.assert_allclose(nn.NLLLoss()(log_p, target).data, NF.nll_loss(log_p, target).data)
    with pytest.raises(ValueError, match="reduction"):
        nn.CrossEntropyLoss(reduction="avg")
    with pytest.raises(ValueError, match="label_smoothing"):
        nn.CrossEntropyLoss(label_smoothing=2)


def test_flatten_and_identity_accept_tensors_and_arrays():
    x = np.zeros((2, 3, 4, 5))
    assert nn.Flatten()(x).shape == (2, 60) and nn.Flatten(0, 1)(Tensor(x)).shape == (6, 4, 5)
    t = Tensor(x)
    assert nn.Identity(54, unused="ignored")(t) is t


# -- TensorDataset ----------------------------------------------------------------------------------

def test_tensor_dataset_of_tensors_batches_through_the_loader():
    X = minise.tensor(np.arange(20.0).reshape(10, 2))
    Y = minise.tensor(np.arange(10) % 3)
    dataset = TensorDataset(X, Y)
    assert len(dataset) == 10
    x3, y3 = dataset[3]
    np.testing.assert_array_equal(x3, [6.0, 7.0]) and int(y3) == 0
    batches = list(DataLoader(dataset, batch_size=4, shuffle=True, seed=0))
    assert [b[0].shape for b in batches] == [(4, 2), (4, 2), (2, 2)]
    assert batches[0][0].dtype == np.float64 and batches[0][1].dtype == np.int64      # dtypes kept
    seen = np.concatenate([b[0][:, 0] for b in batches])
    np.testing.assert_array_equal(np.sort(seen), X.data[:, 0])
    for xb, yb in batches:
        np.testing.assert_array_equal(yb, (xb[:, 0] / 2).astype(np.int64) % 3)       # rows stay paired


def test_tensor_dataset_refuses_mismatched_rows():
    with pytest.raises(ValueError, match="10 rows but targets have 9"):
        TensorDataset(minise.zeros(10, 2), minise.zeros(9))
    with pytest.raises(TypeError, match="first dimension"):
        TensorDataset(minise.zeros(2), 3)


# -- a PyTorch user's script, on minise and on PyTorch ----------------------------------------------

SCRIPT = ROOT / "tests" / "pytorch_script.py"
TORCH_IMPORTS = {"import minise as torch": "import torch", "import minise.nn as nn": "import torch.nn as nn",
                 "import minise.nn.functional as F": "import torch.nn.functional as F",
                 "import minise.optim as optim": "import torch.optim as optim",
                 "from minise.data import": "from torch.utils.data import"}


def with_torch_imports(source):
    """``source`` with its minise import lines switched to PyTorch's; nothing else may change."""
    lines = source.splitlines()
    swapped = [next((line.replace(a, b) for a, b in TORCH_IMPORTS.items() if line.startswith(a)), line)
               for line in lines]
    changed = [a for a, b in zip(lines, swapped) if a != b]
    assert changed and all(line.startswith(("import", "from")) for line in changed)
    assert "minise" not in "\n".join(line for line in swapped if not line.startswith(("#", '"""')))
    return "\n".join(swapped) + "\n"


def last_json(result):
    assert result.returncode == 0, result.stderr[-3000:]
    return json.loads(result.stdout.strip().splitlines()[-1])


def assert_same_results(mine, theirs, where="results"):
    """Every entry equal: numbers (and nested lists of them) to float32 round-off, the rest exactly."""
    if isinstance(theirs, dict):
        assert isinstance(mine, dict) and sorted(mine) == sorted(theirs), f"{where}: keys differ"
        for key in theirs:
            assert_same_results(mine[key], theirs[key], f"{where}[{key!r}]")
    elif _numbers(theirs):
        a, b = np.asarray(mine, dtype=np.float64), np.asarray(theirs, dtype=np.float64)
        assert a.shape == b.shape, f"{where}: shape {a.shape} differs from PyTorch's {b.shape}"
        np.testing.assert_allclose(a, b, rtol=2e-4, atol=2e-5, err_msg=where)
    elif isinstance(theirs, list):
        assert isinstance(mine, list) and len(mine) == len(theirs), f"{where}: {mine!r} differs from {theirs!r}"
        for i, (a, b) in enumerate(zip(mine, theirs)):
            assert_same_results(a, b, f"{where}[{i}]")
    else:
        assert mine == theirs, f"{where}: {mine!r} differs from PyTorch's {theirs!r}"


def _numbers(value):
    """A number, or a rectangular (nested) list of numbers only."""
    if isinstance(value, list):
        flat = np.asarray(value, dtype=object).ravel() if _rectangular(value) else None
        return flat is not None and flat.size > 0 and all(_numbers(v) for v in flat)
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _rectangular(value):
    try:
        return np.asarray(value, dtype=object).dtype == object and not any(
            isinstance(v, list) for v in np.asarray(value, dtype=object).ravel())
    except ValueError:
        return False


@pytest.fixture(scope="module")
def script_results(tmp_path_factory):
    """The script's results on minise, in a fresh interpreter."""
    return last_json(run_script(SCRIPT.read_text(encoding="utf-8"), tmp_path_factory.mktemp("minise")))


def test_a_pytorch_users_script_gives_pytorchs_numbers(script_results, tmp_path):
    """The same script, imports switched: every loss, learning rate, gradient norm, logit, gradient and the
    restored checkpoint's logits agree with PyTorch's."""
    pytest.importorskip("torch")
    theirs = last_json(run_script(with_torch_imports(SCRIPT.read_text(encoding="utf-8")), tmp_path))
    assert_same_results(script_results, theirs)
    assert script_results["load"] == "<All keys matched successfully>" and script_results["frozen_have_no_grad"]


def test_the_comparison_catches_a_changed_number(script_results):
    changed = json.loads(json.dumps(script_results))
    changed["losses"][-1] *= 1.001
    with pytest.raises(AssertionError, match="losses"):
        assert_same_results(changed, script_results)
    changed = json.loads(json.dumps(script_results))
    changed["names"] = changed["names"][::-1]
    with pytest.raises(AssertionError, match="names"):
        assert_same_results(changed, script_results)


def test_the_script_runs_on_the_device_stand_in_with_the_same_numbers(script_results, monkeypatch, capsys):
    """``device = minise.device("cuda" if minise.cuda.is_available() else "cpu")`` picks the (stand-in) GPU;
    model.to(device), inputs.to(device) and the checkpoint's map_location="cpu" work as on PyTorch."""
    from minise.testing import strict_device
    monkeypatch.setattr(sys, "argv", [str(SCRIPT), "--cuda"])
    with strict_device.enabled(default=False):
        assert minise.cuda.is_available() and minise.cuda.device_count() == 1
        runpy.run_path(str(SCRIPT), run_name="__main__")
    on_device = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert_same_results(on_device, script_results)


# -- in-place updates, outside the graph -----------------------------------------------------------

def test_updating_parameters_by_hand_changes_them_as_sgd_does():
    """``p -= lr * p.grad`` under no_grad changes the Parameter itself (Python would otherwise bind p to
    a new tensor and leave the model as it was)."""
    def trained(by_hand):
        minise.manual_seed(0)
        model = nn.Sequential(nn.Linear(3, 4), nn.ReLU(), nn.Linear(4, 2))
        opt = minise.optim.SGD(model.parameters(), lr=0.1)
        x, y = minise.randn(8, 3), minise.randint(0, 2, (8,))
        for _ in range(3):
            model.zero_grad()
            NF.cross_entropy(model(x), y).backward()
            if by_hand:
                with minise.no_grad():
                    for p in model.parameters():
                        p -= 0.1 * p.grad
            else:
                opt.step()
        return [p.data.copy() for p in model.parameters()]
    for mine, sgd in zip(trained(True), trained(False)):
        np.testing.assert_allclose(mine, sgd, rtol=1e-6)


def test_in_place_refusals_follow_pytorch_and_name_the_way_out():
    w = leaf([1.0, 2.0])
    with pytest.raises(RuntimeError, match=r"-=: a leaf tensor that requires grad .* minise\.no_grad\(\)"):
        w -= 1
    with pytest.raises(RuntimeError, match="leaf tensor"):
        w.zero_()
    y = w * 2
    with pytest.raises(RuntimeError, match=r"add_: minise records no in-place op .* \(x = x \+ y\)"):
        y.add_(1)
    with pytest.raises(RuntimeError, match="records no in-place op"):
        y[0] = 5
    counts = minise.zeros(2)
    with pytest.raises(RuntimeError, match="records no in-place op"):
        counts.add_(w)                               # w's gradient would be lost
    with pytest.raises(TypeError, match="dtype int64"):
        minise.arange(3).__iadd__(0.5)
    with pytest.raises(ValueError, match=r"does not broadcast to this tensor's shape \(2,\)"):
        minise.zeros(2).add_(minise.ones(3, 2))


def test_augmented_assignment_inside_the_graph_records_the_op():
    """``y += x`` on a tensor in the graph (or on a constant, with an x that needs grad) is ``y = y + x``,
    so the gradient is right; PyTorch records it in place, with the same values."""
    def f(x):
        y = x * 3
        y += x * x                                   # y is in the graph
        total = minise.zeros(x.shape, dtype=x.dtype)
        total += y                                   # a constant plus a tensor that needs grad
        total *= 2
        return total
    x = leaf(st.make_array((2, 3), 0))
    assert minise.gradcheck(f, [x], seed=0)
    x = leaf([1.0, -2.0])
    f(x).sum().backward()
    np.testing.assert_allclose(x.grad, 2 * (3 + 2 * x.data))


def test_in_place_methods_change_the_same_memory_and_keep_dtype_and_shape():
    a = np.zeros((2, 3), dtype=np.float32)
    t = minise.from_numpy(a)
    assert t.add_(1) is t and a[0, 0] == 1 and t.dtype == np.float32
    t.mul_(np.float64(3)).sub_(minise.ones(3)).div_(2)           # a row broadcasts into the tensor
    np.testing.assert_allclose(a, 1.0) and t.dtype == np.float32
    t.copy_(minise.arange(3))                                     # converts, as PyTorch's copy_
    np.testing.assert_array_equal(a, [[0, 1, 2], [0, 1, 2]])
    t[t > 0.5] = -1
    t[0, 0] = 7
    np.testing.assert_array_equal(a, [[7, -1, -1], [0, -1, -1]])
    t.clamp_(min=0)
    np.testing.assert_array_equal(a, [[7, 0, 0], [0, 0, 0]])
    t.fill_(2.5).pow_(2)
    np.testing.assert_allclose(a, 6.25)
    t.zero_()
    assert not a.any()
    minise.manual_seed(3)
    first = minise.zeros(4).uniform_(-1, 1).tolist() + minise.zeros(4).normal_(0, 2).tolist()
    minise.manual_seed(3)
    assert first == minise.zeros(4).uniform_(-1, 1).tolist() + minise.zeros(4).normal_(0, 2).tolist()
    assert all(-1 <= v < 1 for v in first[:4])


def test_in_place_on_the_device_stand_in(device_backend):
    t = Tensor(device_backend.asarray(np.zeros(3)))
    t += Tensor(device_backend.asarray(np.ones(3)))
    t.copy_(minise.from_numpy(np.array([1.0, 2.0, 3.0])) * 2)    # from the host, as PyTorch allows
    assert t.device == device_backend.device
    np.testing.assert_allclose(device_backend.to_numpy(t.data), [2, 4, 6])
    if device_backend.device == "cuda":
        with pytest.raises(RuntimeError, match="different devices"):
            t += minise.from_numpy(np.ones(3))


# -- conversions, methods and operators --------------------------------------------------------------

def test_dtype_conversions_and_to_follow_pytorch():
    torch = pytest.importorskip("torch")
    a = np.array([[1.7, -2.2], [0.0, 3.5]], dtype=np.float32)
    x, tx = leaf(a).float(), torch.tensor(a, requires_grad=True)
    for name in ("long", "int", "bool", "half", "double", "float"):
        mine, theirs = getattr(x, name)(), getattr(tx, name)()
        assert str(mine.dtype) == str(theirs.dtype).split(".")[1]
        np.testing.assert_array_equal(mine.data, theirs.detach().numpy())
        assert mine.requires_grad == theirs.requires_grad, name        # integers and bools leave the graph
    assert x.to(minise.float64).dtype == np.float64 and x.to("cpu") is x and x.to("cpu", minise.long).dtype == np.int64
    assert x.to(dtype=minise.float16).dtype == np.float16 and x.to(minise.arange(2)).dtype == np.int64
    assert x.to("cpu", copy=True) is not x and x.type(minise.float64).dtype == np.float64
    assert x.type() == "minise.float32" and x.contiguous() is x and x.type_as(minise.arange(1)).dtype == np.int64
    assert leaf(np.arange(4.0)).view_as(x).shape == x.shape == leaf(np.arange(4.0)).reshape_as(x).shape
    assert x.is_floating_point() and not x.long().is_floating_point()
    assert x.grad_fn is not None and leaf(a).grad_fn is None
    w = leaf(a)
    (w.to(minise.float32) * 3).sum().backward()                  # a float cast stays in the graph
    assert w.grad.dtype == np.float64 and (w.grad == 3).all()


def test_python_numbers_and_indices_from_one_element_tensors():
    assert float(minise.tensor([2.5])) == 2.5 and int(minise.tensor(3.9)) == 3
    assert isinstance(int(minise.tensor(2)), int) and isinstance(float(minise.tensor(2)), float)
    assert ["a", "b", "c"][minise.tensor([2])[0]] == "c" and list(range(minise.tensor(3))) == [0, 1, 2]
    with pytest.raises(ValueError, match="one element"):
        float(minise.ones(2))
    with pytest.raises(TypeError, match="integer tensor with one element"):
        ["a"][minise.tensor([0.0])]


def test_floor_division_and_remainder_match_pytorch_outside_the_graph():
    torch = pytest.importorskip("torch")
    a = np.array([-7, -3, 0, 4, 9])
    f = np.array([-7.5, -0.5, 0.25, 3.0, 8.75])
    for mine, theirs in ((minise.tensor(a) // 2, torch.tensor(a) // 2), (minise.tensor(a) % 3, torch.tensor(a) % 3),
                         (10 // minise.tensor([3, 4]), 10 // torch.tensor([3, 4])),
                         (leaf(f) // 2, torch.tensor(f) // 2), (leaf(f) % 2, torch.tensor(f) % 2),
                         (7 % minise.tensor([2.5]), 7 % torch.tensor([2.5], dtype=torch.float64))):
        np.testing.assert_array_equal(mine.data, theirs.numpy())
        assert not mine.requires_grad


def test_t_mm_pow_and_the_comparison_methods():
    a, b = st.make_array((2, 3), 0), st.make_array((3, 4), 1)
    assert minise.gradcheck(lambda x, y: x.t().t().mm(y).pow(2), [leaf(a), leaf(b)], seed=0)
    assert leaf(a).t().shape == (3, 2) and leaf(a[0]).t().shape == (3,)
    with pytest.raises(ValueError, match="at most 2 dimensions"):
        minise.zeros(2, 2, 2).t()
    with pytest.raises(ValueError, match="x @ y"):
        minise.zeros(3).mm(minise.zeros(3, 2))
    x = Tensor(a)
    for name, op in (("eq", "=="), ("ne", "!="), ("lt", "<"), ("le", "<="), ("gt", ">"), ("ge", ">=")):
        np.testing.assert_array_equal(getattr(x, name)(0.1).data, COMPARISONS[op](a, 0.1))


# -- making tensors, grad modes, devices ---------------------------------------------------------

def test_like_and_full_eye_linspace_match_pytorch():
    torch = pytest.importorskip("torch")
    x = minise.tensor(np.ones((2, 3)), dtype=minise.float64)
    for name in ("zeros_like", "ones_like", "empty_like", "rand_like", "randn_like"):
        y = getattr(minise, name)(x)
        assert y.shape == (2, 3) and y.dtype == np.float64 and not y.requires_grad
    assert minise.zeros_like(x, dtype=minise.long).dtype == np.int64
    assert minise.full_like(x, 7).tolist() == [[7.0] * 3] * 2 and minise.empty(2, 3).shape == (2, 3)
    for value in (0.5, 3, True):
        assert str(minise.full((2,), value).dtype) == str(torch.full((2,), value).dtype).split(".")[1]
    np.testing.assert_array_equal(minise.eye(3, 2).data, torch.eye(3, 2).numpy())
    np.testing.assert_allclose(minise.linspace(-1, 2, 7).data, torch.linspace(-1, 2, 7).numpy(), rtol=1e-6)


def test_like_functions_follow_the_input_device(device_backend):
    x = Tensor(device_backend.asarray(np.ones((2, 2), dtype=np.float32)))
    for name in ("zeros_like", "ones_like", "rand_like", "randn_like"):
        assert getattr(minise, name)(x).device == device_backend.device
    assert minise.full_like(x, 2.0).device == device_backend.device


def test_grad_modes_as_in_pytorch():
    x = leaf([1.0])
    try:
        minise.set_grad_enabled(False)                       # called: switches recording off from here on
        assert not (x * 2).requires_grad
    finally:
        minise.set_grad_enabled(True)
    with minise.set_grad_enabled(False):
        assert not (x * 2).requires_grad
        with minise.enable_grad():
            assert (x * 2).requires_grad
    assert (x * 2).requires_grad
    with minise.inference_mode():
        assert not (x * 2).requires_grad
    with minise.inference_mode(False):
        assert (x * 2).requires_grad
    assert not minise.no_grad()(lambda: (x * 2).requires_grad)()
    assert minise.enable_grad()(lambda: (x * 2).requires_grad)()
    with pytest.raises(TypeError, match="bool"):
        minise.set_grad_enabled("no")


def test_devices_as_pytorch_names_them():
    assert minise.device("cuda:0") == minise.device("cuda", 0) == "cuda" and minise.device("cpu").type == "cpu"
    assert repr(minise.device("cuda")) == "device(type='cuda', index=0)" and minise.device("cuda").index == 0
    with pytest.raises(ValueError, match="one GPU"):
        minise.device("cuda:1")
    with pytest.raises(ValueError, match="unknown device"):
        minise.device("tpu")
    model = nn.Linear(2, 2).to(minise.device("cpu"))
    assert model.to("cuda:0" if minise.cuda.is_available() else "cpu") is model
    minise.backends.cudnn.benchmark = True                   # set by many scripts; changes nothing here
    minise.cuda.manual_seed_all(5)
    assert minise.rng.initial_seed() == 5
    assert not minise.backends.mps.is_available()
    if minise.backend.device_module(required=False) is None:
        assert not minise.cuda.is_available() and minise.cuda.device_count() == 0
        assert not minise.accelerator.is_available() and minise.accelerator.current_accelerator() is None


def test_the_accelerator_is_the_gpu_where_there_is_one(device_backend):
    assert minise.accelerator.is_available() == (device_backend.device == "cuda") or device_backend.device == "cpu"
    if device_backend.device == "cuda":
        assert minise.accelerator.current_accelerator().type == "cuda" and minise.cuda.is_available()


# -- data --------------------------------------------------------------------------------------------

def test_the_loader_yields_tensors_and_manual_seed_fixes_its_order_without_drawing():
    X, Y = minise.arange(20).float().view(10, 2), minise.arange(10)
    def epoch():
        return [yb.tolist() for _, yb in DataLoader(TensorDataset(X, Y), batch_size=4, shuffle=True)]
    minise.manual_seed(0)
    first, after = epoch(), minise.randn(3)
    minise.manual_seed(0)
    second, again = epoch(), minise.randn(3)
    assert first == second and sorted(sum(first, [])) == list(range(10))
    np.testing.assert_array_equal(after.data, again.data)             # making a loader drew nothing
    xb, yb = next(iter(DataLoader(TensorDataset(X, Y), batch_size=4, num_workers=2, pin_memory=True)))
    assert isinstance(xb, Tensor) and xb.size(0) == 4 and yb.to("cpu") is yb and not xb.requires_grad
    with pytest.raises(TypeError, match="no sampler=; shuffle=True"):
        DataLoader(TensorDataset(X, Y), sampler=object())
    with pytest.raises(TypeError, match="unexpected keyword argument 'shufle'"):
        DataLoader(TensorDataset(X, Y), shufle=True)


def test_tensor_dataset_of_arrays_and_its_items():
    dataset = TensorDataset(np.arange(12.0).reshape(6, 2), np.arange(6))          # arrays, not Tensors
    xb, yb = next(iter(DataLoader(dataset, batch_size=6)))
    np.testing.assert_array_equal(xb.data, np.arange(12.0).reshape(6, 2)) and yb.tolist() == list(range(6))
    x0, y0 = dataset[0]
    assert isinstance(x0, Tensor) and x0.tolist() == [0.0, 1.0] and y0.item() == 0
    with pytest.raises(TypeError, match="two tensors"):
        TensorDataset(np.zeros(2), np.zeros(2), np.zeros(2))


# -- layers, utilities, schedules ----------------------------------------------------------------

def test_softmax_layers_module_dict_and_clip_grad_match_pytorch():
    torch = pytest.importorskip("torch")
    a = st.make_array((3, 4), 0)
    np.testing.assert_allclose(nn.Softmax(dim=1)(Tensor(a)).data, torch.nn.Softmax(dim=1)(torch.tensor(a)).numpy())
    np.testing.assert_allclose(nn.LogSoftmax(dim=0)(Tensor(a)).data,
                               torch.nn.LogSoftmax(dim=0)(torch.tensor(a)).numpy(), rtol=1e-12)
    heads = nn.ModuleDict({"a": nn.Linear(2, 3)})
    heads["b"] = nn.Linear(3, 1)
    assert list(heads) == ["a", "b"] and "b" in heads and len(heads) == 2
    assert [n for n, _ in heads.named_parameters()] == ["a.weight", "a.bias", "b.weight", "b.bias"]
    assert heads.pop("a") is not None and list(heads.keys()) == ["b"]
    with pytest.raises(KeyError, match="keys are"):
        heads["a"]
    grads = [st.make_array((3, 2), 1) * 4, st.make_array((5,), 2)]
    for norm_type in (2.0, 1.0, float("inf")):
        for max_norm in (0.5, 100.0):
            mine = [nn.Parameter(np.zeros_like(g)) for g in grads]
            theirs = [torch.nn.Parameter(torch.zeros(g.shape, dtype=torch.float64)) for g in grads]
            for p, q, g in zip(mine, theirs, grads):
                p.grad, q.grad = g.copy(), torch.tensor(g)
            total = nn.utils.clip_grad_norm_(mine, max_norm, norm_type=norm_type)
            expected = torch.nn.utils.clip_grad_norm_(theirs, max_norm, norm_type=norm_type)
            assert total == pytest.approx(expected.item(), rel=1e-9)
            for p, q in zip(mine, theirs):
                np.testing.assert_allclose(p.grad, q.grad.numpy(), rtol=1e-9)
    p = nn.Parameter(np.zeros(3))
    p.grad = np.array([-2.0, 0.5, 3.0])
    nn.utils.clip_grad_value_([p], 1.0)
    np.testing.assert_array_equal(p.grad, [-1.0, 0.5, 1.0])


def test_conv2d_same_and_valid_padding_as_pytorch():
    torch = pytest.importorskip("torch")
    x = np.zeros((1, 2, 7, 9), dtype=np.float32)
    for kernel, dilation in ((3, 1), ((5, 3), 1), (3, 2), (1, 1)):
        for padding in ("same", "valid"):
            mine = nn.Conv2d(2, 3, kernel, padding=padding, dilation=dilation)(Tensor(x)).shape
            theirs = tuple(torch.nn.Conv2d(2, 3, kernel, padding=padding, dilation=dilation)(torch.tensor(x)).shape)
            assert mine == theirs, (kernel, dilation, padding)
    with pytest.raises(ValueError, match="stride 1"):
        nn.Conv2d(2, 3, 3, stride=2, padding="same")
    with pytest.raises(ValueError, match="odd kernel_size"):
        nn.Conv2d(2, 3, 2, padding="same")


def test_load_state_dict_reports_as_pytorch():
    model = nn.Linear(2, 2)
    assert repr(model.load_state_dict(model.state_dict())) == "<All keys matched successfully>"
    result = model.load_state_dict({"weight": np.zeros((2, 2))}, strict=False)
    assert result.missing_keys == ["bias"] and "missing_keys=['bias']" in repr(result)


# -- PyTorch names minise lacks: an error that says what to write instead ---------------------------

def _owners():
    import minise.optim.lr_scheduler as schedules
    return {"minise": minise, "minise.Tensor": minise.ones(2), "minise.nn": nn, "minise.nn.functional": NF,
            "minise.optim": minise.optim, "minise.optim.lr_scheduler": schedules, "minise.data": minise.data}


def test_every_missing_pytorch_name_says_what_to_write_instead():
    from minise.pytorch_names import MISSING
    owners = _owners()
    assert set(MISSING) == set(owners)
    for owner, names in MISSING.items():
        for name, hint in names.items():
            with pytest.raises(AttributeError) as error:
                getattr(owners[owner], name)
            assert str(error.value) == f"{owner} has no attribute {name!r} (PyTorch's {name} is not part of minise: " \
                                       f"{hint})", "catalogued, yet minise has it now: take it out of MISSING"
    assert not hasattr(minise, "no_such_name") and not hasattr(minise.ones(1), "no_such_name")
    with pytest.raises(AttributeError, match=r"^minise.nn has no attribute 'Nothing'$"):
        nn.Nothing


def test_the_catalogue_names_only_what_pytorch_has():
    torch = pytest.importorskip("torch")
    places = {"minise": torch, "minise.Tensor": torch.ones(2), "minise.nn": torch.nn,
              "minise.nn.functional": torch.nn.functional, "minise.optim": torch.optim,
              "minise.optim.lr_scheduler": torch.optim.lr_scheduler, "minise.data": torch.utils.data}
    from minise.pytorch_names import MISSING
    for owner, names in MISSING.items():
        absent = [name for name in names if not hasattr(places[owner], name)]
        assert not absent, f"{owner}: PyTorch has no {absent}"


@pytest.mark.parametrize("shape", [(6, 3), (4, 3, 5), (2, 3, 4, 4)])
@pytest.mark.parametrize("affine,track", [(True, True), (False, True), (True, False)])
def test_batch_norm_layers_and_their_options_match_pytorch(shape, affine, track):
    """BatchNorm1d on (N, C) and (N, C, L), BatchNorm2d on (N, C, H, W); affine=False (no γ, β) and
    track_running_stats=False (batch statistics in evaluation too): outputs, gradients, running statistics."""
    torch = pytest.importorskip("torch")
    name = "BatchNorm2d" if len(shape) == 4 else "BatchNorm1d"
    mine = getattr(nn, name)(3, momentum=0.3, affine=affine, track_running_stats=track).double()
    theirs = getattr(torch.nn, name)(3, momentum=0.3, affine=affine, track_running_stats=track).double()
    assert sorted(mine.state_dict()) == sorted(theirs.state_dict())
    assert [n for n, _ in mine.named_parameters()] == [n for n, _ in theirs.named_parameters()]
    for training in (True, False):
        mine.train(training)
        theirs.train(training)
        x = st.make_array(shape, 7 + training)
        gy = st.make_array(shape, 9)
        a, b = leaf(x), torch.tensor(x, requires_grad=True)
        y, z = mine(a), theirs(b)
        y.backward(gy)
        z.backward(torch.tensor(gy))
        np.testing.assert_allclose(y.data, z.detach().numpy(), rtol=1e-10, atol=1e-12)
        np.testing.assert_allclose(a.grad, b.grad.numpy(), rtol=1e-9, atol=1e-12)
        for key, value in theirs.state_dict().items():
            np.testing.assert_allclose(mine.state_dict()[key], value.numpy(), rtol=1e-10)
    with pytest.raises(ValueError, match=r"expects an input of shape \(N, 3\) or \(N, 3, L\)"):
        nn.BatchNorm1d(3)(minise.zeros(2, 3, 4, 4))


def test_optimizer_defaults_are_pytorchs():
    torch = pytest.importorskip("torch")
    import inspect
    for name in ("SGD", "Adam", "AdamW"):
        mine = inspect.signature(getattr(minise.optim, name)).parameters
        theirs = inspect.signature(getattr(torch.optim, name)).parameters
        for argument, p in mine.items():
            if p.default is not inspect.Parameter.empty:
                assert p.default == theirs[argument].default, (name, argument)
