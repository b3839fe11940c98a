"""Every op of the engine against finite differences, over hypothesis-drawn shapes."""
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as hst

import minise
from minise import Tensor
from minise.functional import arithmetic
from minise.testing import strategies as st


def leaf(a):
    return Tensor(np.asarray(a, dtype=np.float64), requires_grad=True)


@given(st.broadcastable_shapes(), st.seeds(), hst.sampled_from(["add", "sub", "mul", "div"]))
def test_binary_ops_with_broadcasting(shapes, seed, op):
    a = st.make_array(shapes[0], seed)
    b = st.make_array(shapes[1], seed + 1, away_from_zero=0.5)       # keeps division tame
    f = {"add": lambda x, y: x + y, "sub": lambda x, y: x - y,
         "mul": lambda x, y: x * y, "div": lambda x, y: x / y}[op]
    assert minise.gradcheck(f, [leaf(a), leaf(b)], seed=seed)


@given(st.shapes(max_dims=3), st.seeds(), hst.sampled_from([2, 3, -1, 0.5, 1.5]))
def test_power_by_a_constant(shape, seed, c):
    x = st.make_array(shape, seed, low=0.5, high=2.0)
    assert minise.gradcheck(lambda t: t ** c, [leaf(x)], seed=seed)


@given(st.broadcastable_shapes(max_dims=3), st.seeds())
def test_power_of_two_tensors(shapes, seed):
    a = st.make_array(shapes[0], seed, low=0.5, high=2.0)
    b = st.make_array(shapes[1], seed + 1)
    assert minise.gradcheck(lambda x, y: x ** y, [leaf(a), leaf(b)], seed=seed)


@given(st.shapes(max_dims=3), st.seeds())
def test_exp_log_neg(shape, seed):
    x = st.make_array(shape, seed, low=0.2, high=2.0)
    assert minise.gradcheck(lambda t: -(t.log() + t.exp()), [leaf(x)], seed=seed)


@given(hst.lists(hst.integers(1, 3), min_size=0, max_size=2), hst.integers(1, 4), hst.integers(1, 4),
       hst.integers(1, 4), hst.sampled_from(["mm", "vec-left", "vec-right", "dot"]), st.seeds())
def test_matmul_shapes(batch, n, k, m, kind, seed):
    a_shape = {"vec-left": (k,), "dot": (k,)}.get(kind, (*batch, n, k))
    b_shape = {"vec-right": (k,), "dot": (k,)}.get(kind, (k, m) if batch and seed % 2 else (*batch, k, m))
    a, b = st.make_array(a_shape, seed), st.make_array(b_shape, seed + 1)
    assert minise.gradcheck(lambda x, y: x @ y, [leaf(a), leaf(b)], seed=seed)


@hst.composite
def shape_and_axis(draw):
    shape = draw(st.shapes(min_dims=1, max_dims=4, max_side=4))
    axes = draw(hst.one_of(hst.none(), hst.integers(-len(shape), len(shape) - 1),
                           hst.sets(hst.integers(0, len(shape) - 1), min_size=1).map(tuple)))
    return shape, axes


@given(shape_and_axis(), hst.booleans(), st.seeds(), hst.sampled_from(["sum", "mean"]))
def test_sum_and_mean(shape_axes, keepdims, seed, op):
    shape, axis = shape_axes
    x = st.make_array(shape, seed)
    assert minise.gradcheck(lambda t: getattr(t, op)(axis=axis, keepdims=keepdims), [leaf(x)], seed=seed)


@given(shape_and_axis(), hst.booleans(), st.seeds())
def test_max_on_tie_free_inputs(shape_axes, keepdims, seed):
    shape, axis = shape_axes
    x = st.make_array(shape, seed, tie_free=True)
    assert minise.gradcheck(lambda t: t.max(axis=axis, keepdims=keepdims), [leaf(x)], seed=seed)


@given(st.shapes(min_dims=2, max_dims=4, max_side=4), st.seeds())
def test_reshape_transpose_flatten(shape, seed):
    x = st.make_array(shape, seed)
    perm = tuple(np.random.default_rng(seed).permutation(len(shape)))
    f = lambda t: t.transpose(*perm).flatten(1).reshape(-1) * 2
    assert minise.gradcheck(f, [leaf(x)], seed=seed)


@given(st.shapes(min_dims=1, max_dims=3, min_side=2, max_side=5), st.seeds())
def test_indexing(shape, seed):
    x = st.make_array(shape, seed)
    rng = np.random.default_rng(seed)
    picks = rng.integers(0, shape[0], size=4)                         # repeats on purpose
    f = lambda t: (t[1:], t[picks], t[..., ::2], t[t.data > 0])
    assert minise.gradcheck(f, [leaf(x)], seed=seed)


def test_a_planted_broadcasting_bug_is_caught(monkeypatch):
    """A backward that forgets to sum the gradient back over broadcast axes must fail."""
    def broken_backward(self, gy):
        a, b = self.saved
        return arithmetic.sum_to(gy * b, a.shape), (gy * a)[:1].reshape(b.shape)   # takes one row, not the sum
    monkeypatch.setattr(arithmetic.Mul, "backward", broken_backward)
    a = leaf(np.random.default_rng(0).standard_normal((3, 4)))
    b = leaf(np.random.default_rng(1).standard_normal((1, 4)))
    with pytest.raises(minise.GradcheckError, match="input 1"):
        minise.gradcheck(lambda x, y: x * y, [a, b], seed=0)


def test_a_planted_sign_bug_is_caught(monkeypatch):
    monkeypatch.setattr(arithmetic.Sub, "backward", lambda self, gy: (gy, gy))
    with pytest.raises(minise.GradcheckError):
        minise.gradcheck(lambda x, y: x - y, [leaf(np.ones(3)), leaf(np.zeros(3))], seed=0)


# -- the same engine on the strict device stand-in ------------------------------------------------

def expression(x, w, b):
    h = (x @ w + b).exp() / (1 + (x @ w).exp())
    return (h[:, 1:] ** 2).mean(axis=0).sum() - h.max(axis=1).sum() + h.T.reshape(-1)[[0, 0, 2]].sum()


def test_engine_gives_the_same_results_on_the_device_stand_in(device_backend):
    rng = np.random.default_rng(0)
    host = [rng.standard_normal((4, 3)), rng.standard_normal((3, 5)), rng.standard_normal(5)]
    reference = [leaf(a) for a in host]
    expression(*reference).backward()

    tensors = [Tensor(device_backend.asarray(a), requires_grad=True) for a in host]
    y = expression(*tensors)
    y.backward()
    assert tensors[0].device == device_backend.device
    np.testing.assert_allclose(y.item(), expression(*[leaf(a) for a in host]).item())
    for t, r in zip(tensors, reference):
        assert type(t.grad) is type(t.data)
        np.testing.assert_allclose(device_backend.to_numpy(t.grad), r.grad, rtol=1e-12)


# Every op of the engine on its own, on data of these shapes drawn from [0.5, 2] (a log, a real power
# and a division all need that); max gets tie-free values instead.
ENGINE_OPS = {
    "add-broadcast": (lambda a, b: a + b, [(3, 4), (4,)]),
    "sub-broadcast": (lambda a, b: a - b, [(3, 1), (3, 4)]),
    "mul-broadcast": (lambda a, b: a * b, [(2, 3, 4), (3, 1)]),
    "div-broadcast": (lambda a, b: a / b, [(3, 4), (1, 4)]),
    "scalars": (lambda a: (2 - a) * 3 / 4 + 1, [(2, 3)]),
    "neg": (lambda a: -a, [(2, 3)]),
    "pow-constant": (lambda a: a ** 1.5, [(2, 3)]),
    "pow-tensors": (lambda a, b: a ** b, [(2, 3), (3,)]),
    "exp-log": (lambda a: a.exp() + a.log(), [(2, 3)]),
    "matmul-batched": (lambda a, b: a @ b, [(2, 3, 4), (4, 2)]),
    "matmul-vector": (lambda a, b: a @ b, [(3, 4), (4,)]),
    "sum-axes": (lambda a: a.sum(axis=(0, 2), keepdims=True), [(2, 3, 4)]),
    "mean": (lambda a: a.mean(axis=1), [(2, 3, 4)]),
    "max": (lambda a: a.max(axis=-1), [(3, 4)]),
    "max-dim-keepdim": (lambda a: a.max(1, keepdim=True).values, [(3, 4)]),
    "amin": (lambda a: a.amin(dim=(0, 1)), [(3, 4)]),
    "mean-dim-keepdim": (lambda a: a.mean(dim=-1, keepdim=True), [(2, 3, 4)]),
    "views-clone": (lambda a: a.unsqueeze(0).permute(2, 0, 1).squeeze(1).swapaxes(0, 1).clone().view(-1), [(3, 4)]),
    "reshape-transpose-T": (lambda a: a.transpose(2, 0, 1).reshape(4, -1).T, [(2, 3, 4)]),
    "flatten": (lambda a: a.flatten(1), [(2, 3, 4)]),
    "index-basic": (lambda a: a[1:, ..., ::2], [(3, 4, 2)]),
    "index-repeated": (lambda a: a[[0, 0, 2]], [(3, 4)]),
    "index-mask": (lambda a: a[a.data > 1.0], [(3, 4)]),
}


@pytest.mark.parametrize("name", ENGINE_OPS)
def test_each_engine_op_on_the_device_stand_in(device_backend, name):
    """Each op alone on the stand-in: the same values and gradients as on NumPy, gradients on the
    device, and gradcheck passing there."""
    fn, shapes = ENGINE_OPS[name]
    tie_free = name.startswith(("max", "amin"))
    host = [st.make_array(shape, k, low=0.5, high=2.0, tie_free=tie_free) for k, shape in enumerate(shapes)]
    reference = [leaf(a) for a in host]
    y_reference = fn(*reference)
    gy = np.random.default_rng(1).standard_normal(y_reference.shape)
    y_reference.backward(gy)

    tensors = [Tensor(device_backend.asarray(a), requires_grad=True) for a in host]
    y = fn(*tensors)
    y.backward(device_backend.asarray(gy))
    assert y.device == tensors[0].device == device_backend.device
    np.testing.assert_allclose(device_backend.to_numpy(y.data), y_reference.data, rtol=1e-12)
    for t, r in zip(tensors, reference):
        assert type(t.grad) is type(t.data)
        np.testing.assert_allclose(device_backend.to_numpy(t.grad), r.grad, rtol=1e-12, atol=1e-15)
    fresh = [Tensor(device_backend.asarray(a), requires_grad=True) for a in host]
    assert minise.gradcheck(fn, fresh, seed=2)


def test_gradcheck_runs_on_the_device_stand_in(device_backend):
    x = Tensor(device_backend.asarray(np.random.default_rng(0).standard_normal((2, 3))), requires_grad=True)
    assert minise.gradcheck(lambda t: (t * t).sum(axis=1).exp(), [x])
