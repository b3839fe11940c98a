"""The strict CuPy stand-in: it must refuse what CuPy refuses and compute what NumPy computes."""
import copy
import pickle

import numpy as np
import pytest

import minise.backend as backend
from minise.testing import strict_device
from minise.testing.strict_device import xp

RNG = np.random.default_rng(1234)


def host(*shape):
    return RNG.standard_normal(shape)


def dev(a):
    return strict_device.to_device(a)


# -- strictness --------------------------------------------------------------------------------------

@pytest.mark.parametrize("convert", [np.asarray, np.array, np.ascontiguousarray,
                                     lambda x: x.__array__(), lambda x: np.array([x, x])])
def test_implicit_conversion_to_numpy_is_refused(convert):
    with pytest.raises(TypeError, match="Implicit conversion"):
        convert(dev(host(3)))


@pytest.mark.parametrize("mix", [lambda d, h: d + h, lambda d, h: h + d, lambda d, h: h * d,
                                 lambda d, h: d @ h, lambda d, h: d < h, lambda d, h: np.add(d, h),
                                 lambda d, h: np.add(h, d), lambda d, h: np.maximum(d, h, out=d),
                                 lambda d, h: np.add(d, 1.0, out=h), lambda d, h: xp.maximum(d, h),
                                 lambda d, h: np.concatenate([d, h]), lambda d, h: xp.where(d > 0, d, h),
                                 lambda d, h: xp.einsum("ij,ij->", d, h)])
def test_mixing_host_and_device_arrays_is_refused(mix):
    with pytest.raises(TypeError, match="Unsupported type <class 'numpy.ndarray'>"):
        mix(dev(host(3, 3)), host(3, 3))


def test_in_place_operator_with_a_host_operand_is_refused():
    d = dev(host(3))
    with pytest.raises(TypeError, match="Unsupported type"):
        d += np.ones(3)


def test_numpy_array_index_and_value_are_refused():
    d = dev(host(4, 2))
    with pytest.raises(TypeError, match="Unsupported index type"):
        d[np.array([0, 2])]
    with pytest.raises(TypeError, match="Unsupported index type"):
        d[np.array([0, 2]), 1] = 0.0
    with pytest.raises(TypeError, match="Unsupported type"):
        d[0] = np.zeros(2)


def test_python_sequence_as_ufunc_operand_is_refused():
    with pytest.raises(TypeError, match="list"):
        xp.maximum(dev(host(3)), [0.0, 0.0, 0.0])


def test_scalar_conversions_only_for_one_element():
    d = dev(host(3))
    for convert in (float, int, complex):
        with pytest.raises(TypeError, match="size-1"):
            convert(d)
    with pytest.raises(ValueError):
        bool(d)
    one = dev(np.array([2.5]))
    assert float(one) == 2.5 and int(one) == 2 and bool(one)
    assert f"{dev(np.array(1.25)):.1f}" == "1.2"


def test_what_cupy_lacks_is_absent():
    with pytest.raises(AttributeError):
        xp.acos                                  # a NumPy-2 alias CuPy does not have
    with pytest.raises(AttributeError):
        xp.random.default_rng(0).normal          # CuPy's Generator has no normal()
    with pytest.raises(AttributeError):
        dev(host(2)).data                        # would be host memory here
    with pytest.raises(NotImplementedError, match="maximum.reduce"):
        xp.maximum.reduce(dev(host(3)))
    with pytest.raises(NotImplementedError):
        np.multiply.at(dev(host(3)), dev(np.array([0])), 2.0)
    with pytest.raises(TypeError):               # CuPy's einsum has no out argument
        np.einsum("i,i->i", dev(host(2)), dev(host(2)), out=xp.zeros(2))
    with pytest.raises(TypeError):               # CuPy's as_strided has no writeable argument
        xp.lib.stride_tricks.as_strided(dev(host(4)), (2,), (8,), writeable=True)


def test_unsupported_dtypes_are_refused():
    with pytest.raises(ValueError, match="Unsupported dtype"):
        xp.asarray(["a", "b"])


# -- routing -----------------------------------------------------------------------------------------

def test_numpy_functions_on_device_arrays_return_device_arrays():
    a, b = host(2, 3), host(2, 3)
    total = np.sum(dev(a))
    assert isinstance(total, xp.ndarray) and total.ndim == 0
    assert float(total) == pytest.approx(a.sum())
    both = np.concatenate([dev(a), dev(b)])
    assert isinstance(both, xp.ndarray)
    np.testing.assert_array_equal(both.get(), np.concatenate([a, b]))
    assert isinstance(dev(a).max(), xp.ndarray) and dev(a).max().ndim == 0
    assert isinstance(dev(a)[1, 2], xp.ndarray) and dev(a)[1, 2].ndim == 0
    assert all(isinstance(row, xp.ndarray) for row in dev(a))
    assert np.shape(dev(a)) == (2, 3)


def test_backend_sees_the_stand_in_only_while_enabled():
    d = dev(host(3))
    with strict_device.enabled() as module:
        assert module is xp
        assert backend.get_array_module(d) is xp
        assert backend.get_array_module(host(3)) is np
        assert backend.default_module() is xp
        assert backend.device_of(d) == "cuda"
        out = backend.to_numpy(d)
        assert type(out) is np.ndarray
        np.testing.assert_array_equal(out, d.get())
        assert isinstance(backend.to_device(host(2), "cuda"), xp.ndarray)
    assert backend.get_array_module(d) is np


def test_enabled_restores_state_even_on_exception():
    before = (backend._device_module, backend.current_backend())
    sentinel = object()
    with pytest.raises(RuntimeError, match="boom"):
        with strict_device.enabled():
            assert backend.current_backend() == "cupy"
            raise RuntimeError("boom")
    assert (backend._device_module, backend.current_backend()) == before
    previous = backend.set_device_module(sentinel)    # an outer device module is put back too
    try:
        with strict_device.enabled(default=False):
            assert backend.current_backend() == before[1]
        assert backend._device_module is sentinel
    finally:
        backend.set_device_module(previous)


def test_explicit_transfers_copy():
    a = host(3)
    d = xp.asarray(a)
    a[0] = 100.0                                  # the device copy must not alias host memory
    assert d.get()[0] != 100.0
    h = xp.asnumpy(d)
    h[1] = -100.0
    assert d.get()[1] != -100.0
    assert xp.get_array_module(d) is xp and xp.get_array_module(a) is np
    d.set(np.zeros(3))
    np.testing.assert_array_equal(d.get(), np.zeros(3))


def test_repr_says_device_and_copies_round_trip():
    d = dev(np.arange(3.0))
    assert repr(d).startswith("device_array(")
    for clone in (copy.copy(d), copy.deepcopy(d), pickle.loads(pickle.dumps(d))):
        assert isinstance(clone, xp.ndarray)
        np.testing.assert_array_equal(clone.get(), d.get())


def test_empty_is_filled_with_garbage():
    assert np.isnan(xp.empty((2, 2)).get()).all()
    assert np.isnan(np.empty_like(dev(host(3))).get()).all()


# -- results agree with NumPy ------------------------------------------------------------------------

def test_arithmetic_matches_numpy():
    a, b, w = host(2, 3), host(2, 3), host(3, 4)
    da, db, dw = dev(a), dev(b), dev(w)
    cases = [
        (da * db + 2.0 - da / (db ** 2 + 1.0), a * b + 2.0 - a / (b ** 2 + 1.0)),
        (da @ dw, a @ w),
        (xp.matmul(da, dw), np.matmul(a, w)),
        (xp.einsum("nc,ck->nk", da, dw), np.einsum("nc,ck->nk", a, w)),
        (xp.tensordot(da, dw, axes=([1], [0])), np.tensordot(a, w, axes=([1], [0]))),
        (xp.where(da > 0, da, 0.1 * da), np.where(a > 0, a, 0.1 * a)),
        (xp.maximum(da, 0), np.maximum(a, 0)),
        (xp.exp(-da).sum(axis=1, keepdims=True), np.exp(-a).sum(axis=1, keepdims=True)),
        (da.var(axis=0), a.var(axis=0)),
        (da.reshape(3, 2).T.argmax(axis=1), a.reshape(3, 2).T.argmax(axis=1)),
        (xp.add.reduce(da, axis=0), np.add.reduce(a, axis=0)),
        (da[:, [0, 2]], a[:, [0, 2]]),
        (da[dev(np.array([1, 0]))], a[np.array([1, 0])]),
        (da[da > 0], a[a > 0]),
    ]
    for got, want in cases:
        assert isinstance(got, xp.ndarray)
        np.testing.assert_allclose(got.get(), want, rtol=1e-12)


def test_in_place_operations_and_index_assignment_match_numpy():
    a = host(3, 4)
    d = dev(a)
    alias = d
    d += 1.0
    d *= dev(np.full(4, 2.0))
    d[0, :] = 0.0
    d[dev(np.array([2])), 1] = dev(np.array([7.0]))
    want = (a + 1.0) * 2.0
    want[0, :] = 0.0
    want[2, 1] = 7.0
    assert d is alias
    np.testing.assert_allclose(d.get(), want)


def test_add_at_accumulates_repeated_indices():
    idx, vals = np.array([0, 2, 2, 4, 0]), host(5)
    want = np.zeros(5)
    np.add.at(want, idx, vals)
    for add_at in (xp.add.at, np.add.at):
        got = xp.zeros(5)
        assert add_at(got, dev(idx), dev(vals)) is None
        np.testing.assert_allclose(got.get(), want)


def test_strided_views_read_and_write_like_numpy():
    a = np.arange(12.0)
    d = dev(a)
    s = a.strides[0]
    view = xp.lib.stride_tricks.as_strided(d, shape=(5, 4), strides=(2 * s, s))
    np.testing.assert_array_equal(view.get(), np.lib.stride_tricks.as_strided(a, (5, 4), (2 * s, s)))
    view[1, 0] = -1.0                            # element 2 of the base array
    assert float(d[2]) == -1.0
    windows = xp.lib.stride_tricks.sliding_window_view(d, 3)
    assert isinstance(windows, xp.ndarray)
    np.testing.assert_array_equal(windows.sum(axis=1).get(),
                                  np.lib.stride_tricks.sliding_window_view(d.get(), 3).sum(axis=1))
    with pytest.raises(ValueError):              # read-only by default, as in NumPy
        windows[0, 0] = 1.0
    row = d[3]
    row[...] = 42.0                              # 0-d results of indexing are views, as in CuPy
    assert float(d[3]) == 42.0


def test_random_generator_returns_device_arrays_of_the_asked_dtype():
    rng = xp.random.default_rng(0)
    assert xp.random.default_rng(rng) is rng
    for draw in (rng.standard_normal((2, 3), dtype=xp.float32), rng.random((2, 3), dtype=xp.float32),
                 rng.uniform(-1.0, 1.0, (2, 3), dtype=xp.float32)):
        assert isinstance(draw, xp.ndarray) and draw.dtype == np.float32 and draw.shape == (2, 3)
    ints = rng.integers(0, 5, size=100)
    assert isinstance(ints, xp.ndarray) and 0 <= int(ints.min()) and int(ints.max()) < 5
    assert isinstance(rng.random(), xp.ndarray) and rng.random().ndim == 0
