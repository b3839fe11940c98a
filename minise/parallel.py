"""Chunked array work on every core: "for each chunk, in parallel".

NumPy runs a copy, a ufunc or a reduction on one core, but it releases the GIL while it does, so
several Python threads can each run one on their own slice of an array at the same time. The ops
of minise use that for their memory-bound passes (im2col, pooling, batch norm, ReLU, the SE
scaling): they cut the batch into chunks along its leading axis and hand them to one of

* :func:`for_each_chunk` (work that writes its results into arrays),
* :func:`chunked` (a function of arrays that treats each image on its own, applied chunk by chunk),
* :func:`sum_chunks` (a sum over the images: per-chunk sums, added in chunk order), or
* :func:`map_chunks` (any per-chunk results, in chunk order)::

    def relu_chunk(start, stop):
        np.maximum(x[start:stop], 0, out=y[start:stop])
    for_each_chunk(len(x), relu_chunk, like=x)

Threads: ``get_num_threads()``, the cores this process may run on (``os.sched_getaffinity``),
unless ``MINISE_NUM_THREADS`` or :func:`set_num_threads` says otherwise. A pass is cut into up
to ``CHUNKS_PER_THREAD`` chunks per thread (:func:`chunk_bounds`; none smaller than
``MIN_CHUNK_COST`` numbers where the pass allows); the calling thread and a persistent pool of
``threads − 1`` workers each take the next chunk not yet taken, so a thread that the machine
holds back (another program on its core) takes fewer. The work runs inline, as one chunk, when

* it is small (``cost`` below ``MIN_PARALLEL_COST`` numbers touched, inputs and outputs:
  np.maximum(x, 0, out=y) over 2^17 float32 numbers took 85 µs on one thread and 95 µs on two,
  over 2^18 190 µs and 140 µs, over 2^20 850 µs and 445 µs, on a quiet 2-core machine),
* there is one thread,
* the arrays are on a GPU (CuPy: the device is already parallel), or
* it is called from inside a chunk (no pools within pools).

Results: chunks never overlap, so element-wise work gives the same numbers on any number of
threads. A reduction's partial results come back in chunk order and the caller adds them in that
order, so a fixed thread count gives bit-identical results from run to run; another thread
count changes only the order of the additions (float rounding). The pool is created on first
use, kept, and made afresh in a child process after ``fork`` (its threads do not survive it).

The BLAS and these threads. Matrix products stay with the BLAS, but a pass whose chunks multiply
matrices (the convolutions, the sums of batch norm) says so (``blas=True``), and while its chunks
run, the BLAS is held to one thread (threadpoolctl, where installed; without it the BLAS keeps
its threads): each core then builds a chunk's im2col matrix and multiplies it, while the data
is in that core's cache. Measured both ways on a 2-core Xeon (OpenBLAS, SkylakeX kernel,
OPENBLAS_NUM_THREADS=2), a training step of se_resnet20 at batch 64, 32×32, medians of 4 rounds
of 3 steps taking turns, once on the quiet machine and once while other programs used it too
(load 3-4):
                                                                               quiet    busy
    chunks on one thread, products on the BLAS's 2 threads (no chunks)        752 ms   3487 ms
    chunks on 2 threads, the BLAS on 1 thread while they run (the choice)     591 ms    917 ms
    chunks on 2 threads, the BLAS on its 2 threads meanwhile                  895 ms   9034 ms

OpenBLAS's threads spin while they wait for work; where they compete for the cores with other
threads, theirs or another program's, a product takes several times as long (20 products
(16, 144) @ (144, 6336): 138 ms on 2 BLAS threads, 47 ms on one, on that machine).
"""
import contextlib
import itertools
import os
import queue
import threading

import numpy as np

from .backend import get_array_module

MIN_PARALLEL_COST = 2 ** 19        # numbers a pass must touch to be worth cutting into chunks
CHUNKS_PER_THREAD = 2              # more chunks than threads: a thread held back takes fewer ...
MIN_CHUNK_COST = 2 ** 17           # ... but none touches fewer numbers than this, if it can
LIMIT_BLAS = True                  # the BLAS on one thread while chunks with blas=True run (False: measure without)
ENV_VARIABLE = "MINISE_NUM_THREADS"

_num_threads = None                # set by set_num_threads, else read from the environment
_pool = None                       # the workers (_Workers), created on first use
_pool_lock = threading.Lock()
_local = threading.local()         # .inside: this thread is running a chunk now


def _check_count(n, what):
    """n as a positive int, or a clear error naming ``what`` was wrong."""
    if isinstance(n, bool) or not hasattr(n, "__index__"):
        raise TypeError(f"{what} must be a whole number of threads ≥ 1, got {n!r} ({type(n).__name__})")
    if int(n) < 1:
        raise ValueError(f"{what} must be a whole number of threads ≥ 1, got {n!r}")
    return int(n)


def _threads_from_environment():
    """MINISE_NUM_THREADS as a positive int, None where it is unset or empty."""
    value = os.environ.get(ENV_VARIABLE, "").strip()
    if not value:
        return None
    try:
        number = int(value)
    except ValueError:
        number = None
    if number is None or number < 1:
        raise ValueError(f"the environment variable {ENV_VARIABLE} must be a whole number of threads ≥ 1, "
                         f"got {value!r}; e.g. {ENV_VARIABLE}=4, or leave it unset to use every core")
    return number


def available_cores():
    """The cores this process may run on (its CPU affinity where the OS tells it), at least 1."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:          # macOS, Windows: no affinity call
        return os.cpu_count() or 1


def get_num_threads():
    """Threads for chunked work: set_num_threads's value, else MINISE_NUM_THREADS, else the cores."""
    global _num_threads
    if _num_threads is None:
        _num_threads = _threads_from_environment() or available_cores()
    return _num_threads


def set_num_threads(n):
    """Use ``n`` threads (≥ 1) for chunked work from now on; 1 runs every op inline. Returns the
    previous count, so ``previous = set_num_threads(1) ... set_num_threads(previous)`` restores it."""
    global _num_threads
    n = _check_count(n, "set_num_threads: n")
    previous, _num_threads = get_num_threads(), n
    return previous


def chunk_bounds(n, chunks):
    """``chunks`` (start, stop) pairs covering range(n) in order, sizes differing by at most one
    (fewer pairs when n < chunks; none when n = 0)."""
    chunks = max(1, min(chunks, n))
    step, extra = divmod(n, chunks)
    bounds, start = [], 0
    for k in range(chunks if n else 0):
        stop = start + step + (k < extra)
        bounds.append((start, stop))
        start = stop
    return bounds


def plan(n, like=None, cost=None):
    """The chunks a pass over n rows that touches ``cost`` numbers runs as: one chunk (0, n),
    inline (also for n = 0), or up to CHUNKS_PER_THREAD per thread, each touching at least
    MIN_CHUNK_COST numbers where n allows (see the module doc)."""
    threads = get_num_threads()
    cost = cost if cost is not None else (like.size if like is not None else 0)
    inline = (threads == 1 or n < 2 or cost < MIN_PARALLEL_COST or getattr(_local, "inside", False)
              or (like is not None and get_array_module(like) is not np))
    chunks = min(threads * CHUNKS_PER_THREAD, max(threads, cost // MIN_CHUNK_COST))
    return [(0, n)] if inline else chunk_bounds(n, chunks)


def map_chunks(work, n, like=None, cost=None, blas=False):
    """[work(start, stop) for each chunk of range(n)], in chunk order, in parallel when worth it.

    ``like``: an array of the work (device arrays run inline; its size is the default cost);
    ``cost``: how many numbers the pass touches, when that is not ``like.size``;
    ``blas``: the work multiplies matrices, so the BLAS is held to one thread while the chunks
    run (see the module doc).
    """
    bounds = plan(n, like, cost)
    if len(bounds) == 1:
        return [_run(work, *bounds[0])]
    return _run_chunks(work, bounds, blas)


def _run_chunks(work, bounds, blas=False):
    """[work(start, stop) for each pair of bounds], in that order. The calling thread and up to
    threads − 1 workers each take the next chunk not yet taken until none is left, so a thread
    that the machine holds back takes fewer chunks."""
    results, taken = [None] * len(bounds), itertools.count()

    def take_chunks():
        k = next(taken)                                    # itertools.count: one number per call, thread-safe
        while k < len(bounds):
            results[k] = _run(work, *bounds[k])
            k = next(taken)

    workers = _get_workers()
    if not workers.busy.acquire(blocking=False):           # another thread's pass has the workers:
        take_chunks()                                      # this one runs on its own thread
        return results
    try:
        with _blas_on_one_thread() if blas else contextlib.nullcontext():
            workers.run(take_chunks, min(get_num_threads(), len(bounds)) - 1)
    finally:
        workers.busy.release()
    return results


def for_each_chunk(n, work, like=None, cost=None, blas=False):
    """Call work(start, stop) for each chunk of range(n), in parallel when worth it (see
    :func:`map_chunks`); for work that writes its results into arrays."""
    map_chunks(work, n, like, cost, blas)


def chunked(function, *arrays, blas=False):
    """function(*arrays), computed on chunks of the leading axis (in parallel when worth it), for
    a ``function`` that treats each row of that axis on its own (element-wise, or per image),
    gives one row of result per row and, like a NumPy ufunc, writes into ``out=`` when given:
    each chunk's result goes straight into its rows of the whole result, no copy. The same
    numbers as the one call. Arrays whose leading axes differ, and 0-d arrays, run as the one
    call. ``blas``: as for :func:`map_chunks`."""
    first = arrays[0]
    if first.ndim == 0 or any(a.ndim == 0 or len(a) != len(first) for a in arrays):
        return function(*arrays)
    bounds = plan(len(first), like=first, cost=first.size + sum(a.size for a in arrays))
    if len(bounds) == 1:
        return function(*arrays)
    empty = function(*(a[:0] for a in arrays))                      # the result's dtype and row shape
    out = get_array_module(first).empty((len(first),) + empty.shape[1:], dtype=empty.dtype)
    _run_chunks(lambda start, stop: function(*(a[start:stop] for a in arrays), out=out[start:stop]), bounds, blas)
    return out


def into(out, result):
    """``result``, written into ``out`` when one is given (for a function used with :func:`chunked`
    that cannot write its result into ``out`` as it computes it)."""
    if out is None:
        return result
    out[...] = result
    return out


def sum_chunks(function, *arrays, blas=False):
    """Σ over the chunks of the leading axis of function(*chunk) (in parallel when worth it),
    the partial results added in chunk order, for a ``function`` that returns a sum over its
    rows (or a tuple of such sums, added position by position): the same number on every run
    with a fixed thread count. ``blas``: as for :func:`map_chunks`."""
    first = arrays[0]
    parts = map_chunks(lambda start, stop: function(*(a[start:stop] for a in arrays)), len(first),
                       like=first, cost=sum(a.size for a in arrays), blas=blas)
    if isinstance(parts[0], tuple):
        return tuple(sum_in_order(column) for column in zip(*parts))
    return sum_in_order(parts)


def sum_in_order(parts):
    """parts[0] + parts[1] + ..., added left to right: the same order every run."""
    total = parts[0]
    for part in parts[1:]:
        total = total + part
    return total


def _run(work, start, stop):
    """work(start, stop) with this thread marked as inside a chunk (nested calls go inline)."""
    outer = getattr(_local, "inside", False)
    _local.inside = True
    try:
        return work(start, stop)
    finally:
        _local.inside = outer


class _blas_on_one_thread:
    """While chunks run, each of them calls the BLAS on one thread (the chunks already use every
    core). Through threadpoolctl where it is installed; without it the BLAS keeps its threads.
    Nested and concurrent entries count: the first limits, the last restores."""

    controller = None                  # threadpoolctl's ThreadpoolController, False without it
    depth, limiter, lock = 0, None, threading.Lock()

    def __enter__(self):
        cls = type(self)
        with cls.lock:
            if cls.controller is None:
                cls.controller = _blas_controller()
            if cls.depth == 0 and cls.controller and LIMIT_BLAS:
                cls.limiter = cls.controller.limit(limits=1, user_api="blas")
            cls.depth += 1

    def __exit__(self, *exc):
        cls = type(self)
        with cls.lock:
            cls.depth -= 1
            if cls.depth == 0 and cls.limiter is not None:
                cls.limiter.restore_original_limits()
                cls.limiter = None


def _blas_controller():
    try:
        import threadpoolctl
    except ImportError:
        return False
    return threadpoolctl.ThreadpoolController()


class _Workers:
    """Threads that wait for a task, run it and say so: one hand-over each way (about 30 µs on a
    2-core virtual machine, where ThreadPoolExecutor's submit and wait took about 100)."""

    def __init__(self, size):
        self.size, self.pid, self.busy = size, os.getpid(), threading.Lock()
        self.inboxes, self.done = [queue.SimpleQueue() for _ in range(size)], queue.SimpleQueue()
        for inbox in self.inboxes:
            threading.Thread(target=self.serve, args=(inbox,), name="minise-worker", daemon=True).start()

    def serve(self, inbox):
        for task in iter(inbox.get, None):                 # None: this worker is no longer needed
            try:
                task()
                self.done.put(None)
            except BaseException as error:                 # handed to the caller of run
                self.done.put(error)

    def run(self, task, helpers):
        """task() on this thread and on ``helpers`` workers at once; returns when every one has
        finished (never while a chunk still writes) and raises the first error."""
        for inbox in self.inboxes[:helpers]:
            inbox.put(task)
        try:
            task()
        finally:
            errors = [self.done.get() for _ in range(helpers)]
        for error in errors:
            if error is not None:
                raise error

    def retire(self):
        for inbox in self.inboxes:
            inbox.put(None)


def _get_workers():
    """The workers: made on first use, made anew when more threads are asked for (a pool larger
    than needed stays: fewer chunks are handed to it), and in a child process after a fork (a
    fork copies the pool object but not its threads)."""
    global _pool, _pool_lock
    size = get_num_threads() - 1
    if _pool is not None and _pool.pid == os.getpid() and _pool.size >= size:
        return _pool
    if _pool is not None and _pool.pid != os.getpid():
        _pool, _pool_lock = None, threading.Lock()      # a forked child: the copied lock may be held
    with _pool_lock:
        if _pool is None or _pool.size < size:
            if _pool is not None:
                _pool.retire()
            _pool = _Workers(size)
        return _pool
