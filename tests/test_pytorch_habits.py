"""PyTorch habits work in minise with PyTorch's meaning: the README's script, comparisons, creation
functions, tensor methods, reductions with dim / keepdim, cat / stack, dropout and the layers."""
import os
import pathlib
import re
import subprocess
import sys

import numpy as np
import pytest
from hypothesis import given
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
                   .view(-1) * Tensor(np.arange(t.size, dtype=np.float64)))
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


def test_dropout_says_there_are_no_in_place_ops():
    with pytest.raises(ValueError, match="in-place"):
        nn.Dropout(0.5, inplace=True)
    with pytest.raises(ValueError, match="in-place"):
        NF.dropout(Tensor(np.ones(2)), 0.5, True, True)


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
