"""Backwards right only under the conditions a checker happens to try: contiguous float64 arrays,
a batch of one, an all-ones upstream gradient, the first few calls; or that keep arrays they were
given or gave away, and write into them later."""
import numpy as np

from .bug import Bug, keep, uniform

_NOISE = np.random.default_rng()                 # unseeded on purpose: a nondeterministic backward
_SHARED = {}                                     # one output buffer for every call: what _reuses_buffer writes


def _cube(a):
    return a ** 3, a


def _right(g, a):
    return (3 * a ** 2 * g,)


def _float64_only(g, a):
    if a.dtype == np.float64:
        return (3 * a ** 2 * g,)
    return (3 * a.astype(np.float32) ** 2 * g * np.float32(0.5),)     # a "fast path" with a wrong constant


def _as_if_contiguous(a):
    """What a hand-rolled im2col does wrong: strides computed from the shape, not read from the array."""
    return np.lib.stride_tricks.as_strided(a, a.shape, [a.itemsize * int(np.prod(a.shape[k + 1:]))
                                                        for k in range(a.ndim)])


def _contiguous_input_only(g, a):
    return (3 * _as_if_contiguous(a) ** 2 * g,)


def _contiguous_upstream_only(g, a):
    return (3 * a ** 2 * _as_if_contiguous(g),)


def _upstream_ignored(g, a):
    return (3 * a ** 2,)                         # the Jacobian's diagonal: right only for gy = 1


def _noisy(g, a):
    return (3 * a ** 2 * g * (1 + 1e-7 * _NOISE.standard_normal(a.shape)),)


def _counted(a):
    return a ** 3, {"a": a, "calls": [0], "kept": []}


def _right_counted(g, c):
    return (3 * c["a"] ** 2 * g,)


def _wrong_from_third_call(g, c):
    c["calls"][0] += 1
    return (3 * c["a"] ** 2 * g * (1.0 if c["calls"][0] < 3 else 1.5),)


def _keeps_upstream(g, c):
    if c["kept"]:
        c["kept"][-1][...] = 0                   # the previous call's gy: someone else's array
    c["kept"].append(g)
    return (3 * c["a"] ** 2 * g,)


def _reuses_buffer(g, a):
    out = _SHARED.get(a.shape)
    if out is None:
        out = _SHARED[a.shape] = np.empty(a.shape)
    np.multiply(3 * a ** 2, g, out=out)          # the gradient handed out last time is overwritten
    return (out,)


def _exp_cached(a):
    return np.exp(a), np.exp(a)


def _exp_scales_cache(g, e):
    e *= g                                       # what forward saved is changed for the next call
    return (e,)


def _linear(x, w):
    return x @ w, keep(x, w)


def bugs():
    x = uniform(60, (2, 3), 0.5, 2.0)
    batch, weight = uniform(61, (4, 3)), uniform(62, (3, 2))
    return [
        Bug("float64_only_branch", "right only for float64", _cube, _float64_only, _right, x=x),
        Bug("contiguous_input_only", "right only for contiguous inputs", _cube, _contiguous_input_only, _right,
            x=x),
        Bug("contiguous_upstream_only", "right only for a contiguous upstream gradient", _cube,
            _contiguous_upstream_only, _right, x=x),
        Bug("linear_weight_first_example_only", "right only for batch size 1", _linear,
            lambda g, c: (g @ c[1].T, c[0][:1].T @ g[:1]), lambda g, c: (g @ c[1].T, c[0].T @ g),
            x=batch, w=weight),
        Bug("upstream_gradient_ignored", "right only for an all-ones upstream gradient", _cube, _upstream_ignored,
            _right, x=x),
        Bug("noisy_backward", "nondeterministic", _cube, _noisy, _right, x=x),
        Bug("wrong_from_third_call", "depends on the call count", _counted, _wrong_from_third_call, _right_counted,
            x=x),
        Bug("keeps_upstream_writes_later", "writes into an earlier upstream gradient", _counted, _keeps_upstream,
            _right_counted, x=x),
        Bug("reuses_output_buffer", "overwrites a gradient it handed out", _cube, _reuses_buffer, _right, x=x),
        Bug("saved_output_scaled_in_place", "in-place saved output", _exp_cached, _exp_scales_cache,
            lambda g, e: (e * g,), x=x),
    ]
