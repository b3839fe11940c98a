"""The Tensor and the autograd engine: construction, operators, backward, errors."""
import numpy as np
import pytest

import minise
from minise import Tensor


def test_quick_start_example_gives_gradients_shaped_like_inputs():
    x = Tensor(np.random.randn(3, 1), requires_grad=True)
    y = Tensor(np.random.randn(4), requires_grad=True)
    z = ((x + y) * x).sum()
    z.backward()
    xd, yd = x.data, y.data
    np.testing.assert_allclose(x.grad, (2 * xd + yd).sum(axis=1, keepdims=True))
    np.testing.assert_allclose(y.grad, np.full(4, xd.sum()))
    assert x.grad.shape == (3, 1) and y.grad.shape == (4,)


def test_python_data_becomes_float32_and_arrays_keep_their_dtype():
    assert Tensor([1, 2, 3]).dtype == np.float32
    assert Tensor(2.5).dtype == np.float32
    assert Tensor(np.zeros(2)).dtype == np.float64
    assert Tensor(np.zeros(2, dtype=np.int64)).dtype == np.int64
    assert Tensor([1, 2], dtype=np.float64).dtype == np.float64


def test_float32_stays_float32_through_python_scalars():
    x = Tensor(np.ones(3, dtype=np.float32), requires_grad=True)
    y = (2 * x + 1.5) / 3 - x ** 2
    assert y.dtype == np.float32
    y.sum().backward()
    assert x.grad.dtype == np.float32


def test_properties():
    t = Tensor(np.arange(6.0).reshape(2, 3))
    assert t.shape == (2, 3) and t.ndim == 2 and t.size == 6 and len(t) == 2
    assert t.T.shape == (3, 2) and t.device == "cpu" and t.is_leaf
    assert Tensor(np.array([4.0])).item() == 4.0
    assert "requires_grad=True" in repr(Tensor([1.0], requires_grad=True))


def test_numpy_returns_a_copy():
    t = Tensor(np.zeros(3))
    a = t.numpy()
    a[0] = 5
    assert t.data[0] == 0


def test_integer_tensor_cannot_require_grad():
    with pytest.raises(TypeError, match="floating-point"):
        Tensor(np.arange(3), requires_grad=True)


def test_non_numeric_data_is_refused():
    with pytest.raises(TypeError, match="Tensor"):
        Tensor(["a", "b"])
    with pytest.raises(TypeError, match="None"):
        Tensor(None)


def test_tensor_used_twice_accumulates():
    x = Tensor(np.array([1.0, -2.0, 3.0]), requires_grad=True)
    (x * x + x).sum().backward()
    np.testing.assert_allclose(x.grad, 2 * x.data + 1)


def test_grad_accumulates_across_backward_calls_until_zeroed():
    x = Tensor(np.array([1.0, 2.0]), requires_grad=True)
    (3 * x).sum().backward()
    (3 * x).sum().backward()
    np.testing.assert_allclose(x.grad, [6.0, 6.0])
    x.zero_grad()
    assert x.grad is None


def test_leaf_gradients_do_not_alias_each_other():
    a = Tensor(np.zeros(2), requires_grad=True)
    b = Tensor(np.zeros(2), requires_grad=True)
    (a + b).sum().backward()
    a.grad += 1
    np.testing.assert_allclose(b.grad, [1.0, 1.0])


def test_backward_on_non_scalar_needs_a_gradient():
    x = Tensor(np.ones((2, 2)), requires_grad=True)
    with pytest.raises(RuntimeError, match=r"scalar.*\(2, 2\)"):
        (x * 2).backward()
    g = np.array([[1.0, 2.0], [3.0, 4.0]])
    (x * 2).backward(g)
    np.testing.assert_allclose(x.grad, 2 * g)


def test_backward_gradient_of_wrong_shape_is_refused():
    x = Tensor(np.ones((2, 2)), requires_grad=True)
    with pytest.raises(ValueError, match=r"\(2, 2\)"):
        (x * 2).backward(np.ones(3))


def test_backward_twice_through_a_freed_graph_is_a_clear_error():
    x = Tensor(np.ones(3), requires_grad=True)
    y = (x * x).sum()
    y.backward()
    with pytest.raises(RuntimeError, match="retain_graph"):
        y.backward()


def test_retain_graph_allows_a_second_backward():
    x = Tensor(np.ones(3), requires_grad=True)
    y = (x * x).sum()
    y.backward(retain_graph=True)
    y.backward()
    np.testing.assert_allclose(x.grad, 4 * np.ones(3))


def test_saved_arrays_are_released_after_backward():
    x = Tensor(np.ones(3), requires_grad=True)
    y = x * x
    fn = y.creator
    assert fn.saved is not None
    y.sum().backward()
    assert fn.saved is None


def test_backward_without_requires_grad_is_explained():
    with pytest.raises(RuntimeError, match="requires_grad"):
        Tensor(np.ones(2)).sum().backward()


def test_no_grad_records_nothing_and_saves_nothing():
    x = Tensor(np.ones(3), requires_grad=True)
    with minise.no_grad():
        y = x * x
    assert not y.requires_grad and y.creator is None
    assert minise.is_grad_enabled()

    @minise.no_grad()
    def f(t):
        return t * 2
    assert not f(x).requires_grad


def test_detach_cuts_the_graph():
    x = Tensor(np.ones(2), requires_grad=True)
    d = (x * 2).detach()
    assert not d.requires_grad and d.creator is None


def test_retain_grad_keeps_an_intermediate_gradient():
    x = Tensor(np.array([1.0, 2.0]), requires_grad=True)
    h = (x * 3).retain_grad()
    (h * h).sum().backward()
    np.testing.assert_allclose(h.grad, 2 * h.data)


def test_a_deep_graph_does_not_hit_the_recursion_limit():
    x = Tensor(np.ones(2), requires_grad=True)
    y = x
    for _ in range(3000):
        y = y * 1.0 + 0.0
    y.sum().backward()
    np.testing.assert_allclose(x.grad, np.ones(2))


def test_shapes_that_do_not_broadcast_are_named():
    with pytest.raises(ValueError, match=r"\(2, 3\).*\(4,\)"):
        Tensor(np.ones((2, 3))) + Tensor(np.ones(4))


def test_matmul_mismatch_is_named():
    with pytest.raises(ValueError, match=r"\(2, 3\).*\(4, 5\)"):
        Tensor(np.ones((2, 3))) @ Tensor(np.ones((4, 5)))


def test_bad_reshape_and_transpose_and_axis_are_named():
    t = Tensor(np.ones((2, 3)))
    with pytest.raises(ValueError, match=r"start_dim 2 .*\(2, 3\)"):
        t.flatten(2)
    with pytest.raises(ValueError, match=r"end_dim -3 .*\(2, 3\)"):
        t.flatten(0, -3)
    assert t.flatten(-2, -1).shape == (6,) and t.flatten(1).shape == (2, 3)
    with pytest.raises(ValueError, match=r"\(2, 3\).*\(4, 2\)"):
        t.reshape(4, 2)
    with pytest.raises(ValueError, match="permutation"):
        t.transpose(0, 0)
    with pytest.raises(ValueError, match="dim 2"):
        t.sum(axis=2)
    with pytest.raises(ValueError, match=r"dim \(1, -1\) names a dimension twice"):
        t.mean(axis=(1, -1))


def test_numpy_array_on_the_left_defers_to_the_tensor():
    x = Tensor(np.ones(2), requires_grad=True)
    y = np.array([2.0, 3.0]) * x
    assert isinstance(y, Tensor)
    y.sum().backward()
    np.testing.assert_allclose(x.grad, [2.0, 3.0])


def test_a_user_defined_backward_with_the_wrong_shape_is_reported():
    class Bad(minise.Function):
        def forward(self, a):
            return a * 2

        def backward(self, gy):
            return (gy.sum(),)

    x = Tensor(np.ones((2, 3)), requires_grad=True)
    with pytest.raises(ValueError, match=r"Bad.backward.*\(2, 3\)"):
        Bad()(x).sum().backward()


def test_a_user_defined_backward_with_too_few_gradients_is_reported():
    class Bad(minise.Function):
        def forward(self, a, b):
            return a * b

        def backward(self, gy):
            return (gy,)

    x = Tensor(np.ones(2), requires_grad=True)
    with pytest.raises(TypeError, match="1 gradient.*2 input"):
        Bad()(x, x).sum().backward()


def test_needs_input_grad_lets_an_op_skip_work():
    seen = {}

    class Spy(minise.Function):
        def forward(self, a, b):
            seen["needs"] = self.needs_input_grad
            return a * b

        def backward(self, gy):
            return gy, gy

    Spy()(Tensor(np.ones(2), requires_grad=True), Tensor(np.ones(2)))
    assert seen["needs"] == (True, False)


def test_indexing_with_repeated_indices_adds_gradients():
    x = Tensor(np.arange(4.0), requires_grad=True)
    x[[0, 0, 3]].sum().backward()
    np.testing.assert_allclose(x.grad, [2.0, 0.0, 0.0, 1.0])


def test_indexing_with_slices_and_masks():
    x = Tensor(np.arange(6.0).reshape(2, 3), requires_grad=True)
    (x[:, 1:] * 2).sum().backward()
    np.testing.assert_allclose(x.grad, [[0, 2, 2], [0, 2, 2]])
    x.zero_grad()
    x[x.data > 2].sum().backward()
    np.testing.assert_allclose(x.grad, [[0, 0, 0], [1, 1, 1]])


def test_argmax_and_max():
    x = Tensor(np.array([[1.0, 5.0, 2.0], [7.0, 0.0, 7.0]]), requires_grad=True)
    np.testing.assert_array_equal(x.argmax(axis=1).data, [1, 0])
    x.max(axis=1).sum().backward()
    np.testing.assert_allclose(x.grad, [[0, 1, 0], [0.5, 0, 0.5]])   # ties share the gradient


# -- the recorded graph: edges ---------------------------------------------------------------------

def test_edges_name_where_each_gradient_goes():
    from minise.autograd import Edge, LeafEdge
    x = Tensor(np.ones(2), requires_grad=True)
    c = Tensor(np.ones(2))                               # a constant: no gradient wanted
    h = x * 2
    y = h + c
    assert y.creator.edges == (Edge(h.creator, 0), None)
    assert h.creator.edges[0] == LeafEdge(x) and h.creator.edges[0].leaf is x
    assert type(h.creator.edges[1]) is not LeafEdge      # the constant 2: no edge
    assert h.creator.edges[1] is None


def test_an_op_with_two_outputs_sends_each_gradient_to_its_own_slot():
    class Split(minise.Function):
        def forward(self, a):
            return a[:1] * 1.0, a[1:] * 1.0

        def backward(self, g0, g1):
            return (np.concatenate([g0, 3 * g1]),)

    x = Tensor(np.ones(3), requires_grad=True)
    first, rest = Split()(x)
    (first.sum() * 5 + rest.sum()).backward(retain_graph=True)   # output 0 gets 5, output 1 gets 1 (·3)
    np.testing.assert_allclose(x.grad, [5.0, 3.0, 3.0])
    x.grad = None
    rest.sum().backward()                                # output 0 reached by nothing: zeros
    np.testing.assert_allclose(x.grad, [0.0, 3.0, 3.0])


# -- hooks on tensors ----------------------------------------------------------------------------------

def test_a_hook_sees_the_summed_gradient_and_may_replace_it():
    x = Tensor(np.array([1.0, 2.0]), requires_grad=True)
    h = x * 3
    seen = []
    h.register_hook(lambda g: seen.append(g.copy()))
    h.register_hook(lambda g: g * 10)                    # runs after the first: replaces h's gradient
    (h * h + h).sum().backward()                         # dL/dh = 2h + 1, from two uses of h
    np.testing.assert_allclose(seen[0], 2 * h.data + 1)
    np.testing.assert_allclose(x.grad, 3 * 10 * (2 * h.data + 1))


def test_a_removed_hook_is_not_called_and_leaf_hooks_change_what_accumulates():
    x = Tensor(np.array([1.0, -1.0]), requires_grad=True)
    calls = []
    handle = x.register_hook(lambda g: calls.append(1))
    doubled = x.register_hook(lambda g: Tensor(2 * g))   # a Tensor is a fine return value too
    (x * 4).sum().backward()
    np.testing.assert_allclose(x.grad, [8.0, 8.0])
    handle.remove()
    handle.remove()                                      # a second remove is harmless
    doubled.remove()
    (x * 4).sum().backward()
    np.testing.assert_allclose(x.grad, [12.0, 12.0])
    assert calls == [1]


def test_a_hook_on_a_tensor_that_is_gone_still_runs_and_retain_grad_sees_the_hooked_gradient():
    x = Tensor(np.ones(2), requires_grad=True)
    h = (x * 2).retain_grad()
    h.register_hook(lambda g: g + 1)
    out = (h * 3).sum()
    out.backward()
    np.testing.assert_allclose(h.grad, [4.0, 4.0])       # 3, then + 1 by the hook
    np.testing.assert_allclose(x.grad, [8.0, 8.0])
    y = x * 1.0
    y.register_hook(lambda g: g * 0)
    z = (y * 5).sum()
    del y
    x.grad = None
    z.backward()
    np.testing.assert_allclose(x.grad, [0.0, 0.0])


def test_a_hook_returning_the_wrong_shape_or_on_a_constant_is_refused():
    x = Tensor(np.ones(2), requires_grad=True)
    h = x * 2
    h.register_hook(lambda g: np.ones(3))
    with pytest.raises(ValueError, match=r"shape \(2,\)"):
        h.sum().backward()
    with pytest.raises(RuntimeError, match="does not require grad"):
        Tensor(np.ones(2)).register_hook(print)
    with pytest.raises(TypeError, match="register_hook: a hook must be callable"):
        x.register_hook("not a function")


def test_hooks_match_torch_on_a_small_graph():
    torch = pytest.importorskip("torch")
    data = np.random.default_rng(0).standard_normal((3, 4))
    gy = np.random.default_rng(1).standard_normal((3, 4))

    def run(x, upstream):
        """The same code for both libraries: hooks on an intermediate and on the leaf."""
        h = (x * x).exp()
        h.register_hook(lambda g: g * 0.5)
        x.register_hook(lambda g: g - 1)
        seen = []
        h.register_hook(lambda g: seen.append(np.asarray(g).copy()))       # an array here, a torch.Tensor there
        (h * 2 + x).backward(upstream)
        return x.grad, seen[0]

    grad, seen = run(Tensor(data.copy(), requires_grad=True), gy)
    torch_grad, torch_seen = run(torch.tensor(data, requires_grad=True), torch.tensor(gy))
    np.testing.assert_allclose(grad, torch_grad.numpy(), rtol=1e-12)
    np.testing.assert_allclose(seen, torch_seen, rtol=1e-12)


def test_a_backward_that_returns_the_wrong_thing_is_named():
    def op(returned):
        class Wrong(minise.Function):
            def forward(self, a, b):
                return a * b

            def backward(self, gy):
                return returned(gy)
        return Wrong

    x, w = Tensor(np.ones((2, 3)), requires_grad=True), Tensor(np.ones((2, 3)), requires_grad=True)
    with pytest.raises(TypeError, match=r"returned 1 gradient\(s\) for 2 input\(s\)"):
        op(lambda gy: gy)()(x, w).sum().backward()
    with pytest.raises(TypeError, match="returned float for input 1; expected an array"):
        op(lambda gy: (gy, 2.0))()(x, w).sum().backward()
    with pytest.raises(ValueError, match=r"shape \(3,\) for input 0, whose shape is \(2, 3\)"):
        op(lambda gy: (gy[0], gy))()(x, w).sum().backward()
    op(lambda gy: [gy, None])()(x, w).sum().backward()              # a list and a None are fine
    np.testing.assert_allclose(x.grad, np.ones((2, 3)))
    assert w.grad is None
