"""minise.parallel, and every op pass that uses it, held to the one-thread result and to references.

The ops cut their memory-bound passes into chunks of the batch and run them on a pool of threads
when an array is large. Here the size threshold is set to 0, so that small test arrays take the
parallel path too, on 2 and 3 threads and with batches that no chunk count divides.
"""
import os
import threading

import numpy as np
import pytest

import minise
from minise import Tensor, parallel
from minise import functional as F
from minise.functional import conv_reference
from minise.functional.activation import relu_backward_reference, relu_reference, sigmoid_reference
from minise.functional.conv import Conv2dFunction
from minise.functional.norm import BatchNorm2dFunction, batch_norm_backward_reference
from minise.testing import strict_device


@pytest.fixture
def threads(request, monkeypatch):
    """Run the test with ``request.param`` threads and every pass, however small, cut into one
    chunk per thread; count the passes that went through the pool (the fixture's value)."""
    runs = []
    run_chunks = parallel._run_chunks

    def counted(work, bounds, blas=False):
        runs.append(len(bounds))
        return run_chunks(work, bounds, blas)

    monkeypatch.setattr(parallel, "MIN_PARALLEL_COST", 0)
    monkeypatch.setattr(parallel, "CHUNKS_PER_THREAD", 1)
    monkeypatch.setattr(parallel, "_run_chunks", counted)
    previous = parallel.set_num_threads(request.param)
    yield runs
    parallel.set_num_threads(previous)


def at_threads(n):
    return pytest.mark.parametrize("threads", n, indirect=True)


# -- the module itself --------------------------------------------------------------------------

def test_a_pass_is_cut_into_chunks_per_thread_none_too_small(monkeypatch):
    monkeypatch.setattr(parallel, "_num_threads", 2)
    big = parallel.MIN_CHUNK_COST * 2 * parallel.CHUNKS_PER_THREAD
    assert parallel.plan(64, cost=parallel.MIN_PARALLEL_COST - 1) == [(0, 64)]                  # small: inline
    assert len(parallel.plan(64, cost=big)) == 2 * parallel.CHUNKS_PER_THREAD                    # large: 4 a thread
    monkeypatch.setattr(parallel, "MIN_PARALLEL_COST", 0)
    assert len(parallel.plan(64, cost=3 * parallel.MIN_CHUNK_COST)) == 3                        # none too small
    assert len(parallel.plan(64, cost=10)) == 2                                                  # one a thread at least
    assert parallel.plan(3, cost=big) == [(0, 1), (1, 2), (2, 3)]                                # one image a chunk
    monkeypatch.setattr(parallel, "_num_threads", 1)
    assert parallel.plan(64, cost=big) == [(0, 64)]


@pytest.mark.parametrize("n, chunks", [(10, 3), (7, 2), (2, 5), (1, 1), (64, 2), (5, 5), (0, 3)])
def test_chunk_bounds_cover_the_range_in_order_nearly_evenly(n, chunks):
    bounds = parallel.chunk_bounds(n, chunks)
    assert len(bounds) == min(n, chunks)
    assert [i for start, stop in bounds for i in range(start, stop)] == list(range(n))
    sizes = [stop - start for start, stop in bounds]
    assert not sizes or (min(sizes) >= 1 and max(sizes) - min(sizes) <= 1)


@at_threads([3])
def test_map_chunks_runs_on_several_threads_and_keeps_chunk_order(threads):
    arrived, met = set(), threading.Event()

    def work(start, stop):
        arrived.add(threading.get_ident())
        if len(arrived) > 1:
            met.set()
        met.wait(timeout=10)                 # hold every chunk until a second thread took one
        return (start, stop)

    assert parallel.map_chunks(work, 10, cost=10) == [(0, 4), (4, 7), (7, 10)]
    assert threads == [3] and len(arrived) > 1


@pytest.mark.parametrize("why", ["small", "one thread", "device", "nested"])
def test_map_chunks_runs_inline_as_one_chunk(why, monkeypatch):
    previous = parallel.set_num_threads(1 if why == "one thread" else 2)
    try:
        x = np.ones((8, 100))
        if why != "small":
            monkeypatch.setattr(parallel, "MIN_PARALLEL_COST", 0)
        if why == "device":
            with strict_device.enabled():
                calls = parallel.map_chunks(lambda a, b: (a, b, threading.get_ident()), 8,
                                            like=strict_device.to_device(x))
        elif why == "nested":
            calls = parallel.map_chunks(lambda a, b: parallel.map_chunks(
                lambda c, d: (c, d, threading.get_ident()), 8, like=x), 2, like=x)
            assert len(calls) == 2                        # the outer pass was cut in two ...
            calls = [inner for outer in calls for inner in outer]
            assert len(calls) == 2                        # ... each inner pass ran as one chunk
            assert {c[:2] for c in calls} == {(0, 8)}
            return
        else:
            calls = parallel.map_chunks(lambda a, b: (a, b, threading.get_ident()), 8, like=x)
        assert calls == [(0, 8, threading.get_ident())]
    finally:
        parallel.set_num_threads(previous)


@at_threads([2])
def test_an_error_in_a_chunk_reaches_the_caller(threads):
    def work(start, stop):
        if start > 0:
            raise ValueError("chunk failed")
    with pytest.raises(ValueError, match="chunk failed"):
        parallel.for_each_chunk(10, work, cost=10)


def test_thread_count_from_the_environment_and_set_num_threads(monkeypatch):
    previous = parallel.get_num_threads()
    try:
        monkeypatch.setattr(parallel, "_num_threads", None)
        monkeypatch.setenv("MINISE_NUM_THREADS", "3")
        assert parallel.get_num_threads() == 3
        monkeypatch.setattr(parallel, "_num_threads", None)
        monkeypatch.delenv("MINISE_NUM_THREADS")
        assert parallel.get_num_threads() == parallel.available_cores() >= 1
        if hasattr(os, "sched_getaffinity"):
            assert parallel.available_cores() == len(os.sched_getaffinity(0))
        for bad in ("0", "-2", "two", "1.5"):
            monkeypatch.setattr(parallel, "_num_threads", None)
            monkeypatch.setenv("MINISE_NUM_THREADS", bad)
            with pytest.raises(ValueError, match=f"MINISE_NUM_THREADS must be a whole number.*'{bad}'"):
                parallel.get_num_threads()
        monkeypatch.setattr(parallel, "_num_threads", 4)
        assert parallel.set_num_threads(2) == 4 and parallel.get_num_threads() == 2
        for bad, error in ((0, ValueError), (-1, ValueError), (1.5, TypeError), (True, TypeError), ("2", TypeError)):
            with pytest.raises(error, match="set_num_threads: n must be a whole number of threads"):
                parallel.set_num_threads(bad)
    finally:
        parallel.set_num_threads(previous)


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs fork")
@pytest.mark.filterwarnings("ignore::DeprecationWarning")          # fork() of a process with threads
@at_threads([2])
def test_the_pool_works_in_a_forked_child(threads):
    parallel.map_chunks(lambda a, b: None, 4, cost=4)            # the parent's pool exists
    pid = os.fork()
    if pid == 0:                                                  # the child: a new pool, same answers
        try:
            sizes = parallel.map_chunks(lambda a, b: b - a, 10, cost=10)
            ok = sizes == [5, 5]
        finally:
            os._exit(0 if ok else 1)
    _, status = os.waitpid(pid, 0)
    assert os.WEXITSTATUS(status) == 0


def blas_threads():
    threadpoolctl = pytest.importorskip("threadpoolctl")
    found = [info["num_threads"] for info in threadpoolctl.threadpool_info() if info["user_api"] == "blas"]
    if not found:
        pytest.skip("threadpoolctl finds no BLAS")
    return found


@at_threads([2])
def test_the_blas_is_on_one_thread_while_chunks_that_multiply_matrices_run(threads):
    before = blas_threads()
    seen = {True: [], False: []}
    for blas in (True, False):
        parallel.for_each_chunk(4, lambda a, b, blas=blas: seen[blas].append(blas_threads()), cost=4, blas=blas)
    assert all(found == [1] * len(before) for found in seen[True])
    assert all(found == before for found in seen[False])
    assert blas_threads() == before                                # restored


@at_threads([2])
def test_sum_chunks_adds_in_chunk_order(threads):
    """Lists add by concatenation, so the sum shows the order the partial results were added in."""
    x = np.arange(10)
    starts, count = parallel.sum_chunks(lambda chunk: ([int(chunk[0])], len(chunk)), x)
    assert starts == [0, 5] and count == 10
    assert threads


# -- the ops, against the one-thread result and against references -------------------------------

def rng_array(shape, seed, dtype=np.float64):
    return np.random.default_rng(seed).standard_normal(shape).astype(dtype)


def run_op(fn, arrays, seed, to_device=None):
    """Forward and backward of fn on Tensors made from arrays (moved by ``to_device``, if given):
    [y, grad of each input]."""
    move = to_device or (lambda a: a)
    tensors = [Tensor(move(a), requires_grad=True) for a in arrays]
    y = fn(*tensors)
    y.backward(move(rng_array(y.shape, seed, y.dtype)))
    return [y.data] + [t.grad for t in tensors]


def scale_case(N):
    return lambda x, s: F.scale_channels(x, s), [rng_array((N, 3, 4, 5), 1), rng_array((N, 3), 2) + 1]


def batch_norm_case(N, training):
    running = [np.zeros(3), np.ones(3)] if not training else [None, None]    # (None: also on a device)
    return (lambda x, w, b: F.batch_norm(x, *running, w, b, training=training),
            [rng_array((N, 3, 4, 5), 3) * 2 + 1, rng_array(3, 4) + 1, rng_array(3, 5)])


OPS = {   # name -> N -> (function of Tensors, input arrays); the batch sizes below divide by no chunk count
    "relu": lambda N: (F.relu, [rng_array((N, 3, 4, 5), 6)]),
    "sigmoid": lambda N: (F.sigmoid, [rng_array((N, 7), 7) * 3]),
    "scale_channels": scale_case,
    "batch_norm_train": lambda N: batch_norm_case(N, True),
    "batch_norm_eval": lambda N: batch_norm_case(N, False),
    "max_pool2d": lambda N: (lambda x: F.max_pool2d(x, 3, stride=2, padding=1), [rng_array((N, 3, 7, 6), 8)]),
    "avg_pool2d": lambda N: (lambda x: F.avg_pool2d(x, 3, stride=2, padding=1), [rng_array((N, 3, 7, 6), 9)]),
    "conv2d": lambda N: (lambda x, w: F.conv2d(x, w, padding=1),
                         [rng_array((N, 4, 6, 5), 10), rng_array((6, 4, 3, 3), 11)]),
    "conv2d_1x1": lambda N: (lambda x, w: F.conv2d(x, w, stride=2),                          # no im2col
                             [rng_array((N, 4, 7, 6), 14), rng_array((6, 4, 1, 1), 15)]),
    "conv2d_strided": lambda N: (lambda x, w: F.conv2d(x, w, stride=2, padding=1, groups=2),   # gx by col2im
                                 [rng_array((N, 4, 7, 6), 12), rng_array((6, 2, 3, 3), 13)]),
}
# ops whose results hold float sums that chunks reorder
SUMS = {"batch_norm_train", "batch_norm_eval", "scale_channels", "conv2d", "conv2d_1x1", "conv2d_strided"}


def one_thread_result(name, N):
    previous = parallel.set_num_threads(1)
    try:
        fn, arrays = OPS[name](N)
        return run_op(fn, arrays, seed=N)
    finally:
        parallel.set_num_threads(previous)


@at_threads([2, 3])
@pytest.mark.parametrize("N", [5, 7])
@pytest.mark.parametrize("name", sorted(OPS))
def test_parallel_op_equals_the_one_thread_result_and_repeats_bit_for_bit(name, N, threads):
    expected = one_thread_result(name, N)
    fn, arrays = OPS[name](N)
    first = run_op(fn, arrays, seed=N)
    assert threads, f"{name}: no pass went through the pool"
    for ours, theirs in zip(first, expected):
        if name in SUMS:
            np.testing.assert_allclose(ours, theirs, rtol=1e-12, atol=1e-12)
        else:
            np.testing.assert_array_equal(ours, theirs)
    for ours, again in zip(first, run_op(fn, arrays, seed=N)):
        np.testing.assert_array_equal(ours, again)


@at_threads([1, 2, 3])
def test_parallel_paths_match_their_references(threads):
    N = 5
    x, w, gy = rng_array((N, 4, 6, 5), 20), rng_array((6, 4, 3, 3), 21), rng_array((N, 6, 6, 5), 22)
    op = Conv2dFunction(padding=1)
    op.needs_input_grad = (True, True, False)
    y, (gx, gw, _) = op.forward(x, w, None), op.backward(gy)
    geometry = ((1, 1), (1, 1), (1, 1), 1)
    np.testing.assert_allclose(y, conv_reference.conv2d(x, w, None, *geometry), rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(gx, conv_reference.conv_transpose2d(gy, w, x.shape, *geometry), rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(gw, conv_reference.conv2d_weight_grad(x, gy, w.shape, *geometry), rtol=1e-10, atol=1e-12)

    xb, gyb, weight = rng_array((N, 3, 4, 4), 23) * 3 + 2, rng_array((N, 3, 4, 4), 24), rng_array(3, 25) + 1
    bn = BatchNorm2dFunction(True, 0.1, 1e-5)
    bn.needs_input_grad = (True, False, False, True, True)
    y = bn.forward(xb, None, None, weight, None)
    mean, var = xb.mean(axis=(0, 2, 3), keepdims=True), xb.var(axis=(0, 2, 3), keepdims=True)
    x_hat = (xb - mean) / np.sqrt(var + 1e-5)
    np.testing.assert_allclose(y, x_hat * weight.reshape(1, 3, 1, 1), rtol=1e-10, atol=1e-12)
    gx, _, _, gw, gb = bn.backward(gyb)
    np.testing.assert_allclose(gx, batch_norm_backward_reference(gyb, x_hat, 1 / np.sqrt(var.ravel() + 1e-5),
                                                                 weight, True), rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(gw, (gyb * x_hat).sum(axis=(0, 2, 3)), rtol=1e-10)
    np.testing.assert_allclose(gb, gyb.sum(axis=(0, 2, 3)), rtol=1e-10)

    xr = rng_array((N, 3, 4), 26)
    relu = run_op(F.relu, [xr], seed=27)
    np.testing.assert_array_equal(relu[0], relu_reference(xr))
    np.testing.assert_array_equal(relu[1], relu_backward_reference(rng_array(xr.shape, 27), relu_reference(xr)))
    np.testing.assert_array_equal(run_op(F.sigmoid, [xr], seed=28)[0], sigmoid_reference(xr))
    assert (threads == []) == (parallel.get_num_threads() == 1)


@at_threads([2])
@pytest.mark.parametrize("name", ["relu", "sigmoid", "scale_channels", "batch_norm_train", "max_pool2d",
                                  "avg_pool2d", "conv2d", "conv2d_1x1", "conv2d_strided"])
def test_gradcheck_passes_on_the_parallel_paths(name, threads):
    """Finite differences at a sample of 16 elements per input (each costs two passes through
    the pool), on a batch of 3 cut into chunks of 2 and 1."""
    fn, arrays = OPS[name](3)
    if name in ("relu", "max_pool2d"):                   # away from ReLU's kink and the pool's ties
        arrays = [a + np.sign(a) * 0.1 for a in arrays]
        arrays[0] = arrays[0] + np.arange(arrays[0].size).reshape(arrays[0].shape) * 1e-3
    assert minise.gradcheck(fn, [Tensor(a, requires_grad=True) for a in arrays], seed=1, max_elements=16)
    assert threads


@at_threads([2])
@pytest.mark.parametrize("name", ["relu", "scale_channels", "batch_norm_train", "max_pool2d", "conv2d_strided"])
def test_device_arrays_stay_inline_and_agree(name, threads):
    fn, arrays = OPS[name](5)
    expected = run_op(fn, arrays, seed=5)
    threads.clear()
    with strict_device.enabled():
        ours = [strict_device.asnumpy(a) for a in run_op(fn, arrays, seed=5, to_device=strict_device.to_device)]
    assert threads == [], "a pass on device arrays went to the thread pool"
    for a, b in zip(ours, expected):
        np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-12)
