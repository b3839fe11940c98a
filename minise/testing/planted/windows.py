"""Sliding windows (1-D, so the loops stay readable): strides, dilation, flipped kernels, pooling."""
import numpy as np

from .bug import Bug, keep, rng, uniform


def _conv(x, w, stride=1, dilation=1):
    """y[i] = Σ_p x[i·stride + p·dilation] · w[p]   (valid positions only)"""
    span = (len(w) - 1) * dilation + 1
    n = (len(x) - span) // stride + 1
    y = np.array([sum(x[i * stride + p * dilation] * w[p] for p in range(len(w))) for i in range(n)])
    return y, keep(x, w)


def _conv_backward(stride=1, dilation=1, flip=False, stride_seen=None, dilation_seen=None, shift=0):
    s, d = stride if stride_seen is None else stride_seen, dilation if dilation_seen is None else dilation_seen

    def backward(g, c):
        x, w = c
        w_used = w[::-1] if flip else w
        gx, gw = np.zeros_like(x), np.zeros_like(w)
        for i in range(len(g)):
            for p in range(len(w)):
                gx[i * s + p * d] += g[i] * w_used[p]
                gw[p] += g[i] * x[(i * stride + p * dilation + shift) % len(x)]
        return gx, gw
    return backward


def _tie_free(seed, n):
    return rng(seed).permutation(np.arange(n) - n / 2) * 0.37 + 0.05


def _max_pool(x):
    windows = x.reshape(-1, 2)                                # windows of 2, stride 2
    return windows.max(axis=1), keep(x.shape, windows.argmax(axis=1))


def _pool_backward(where):
    def backward(g, c):
        shape, arg = c
        gx = np.zeros((len(g), 2))
        if where == "all":
            gx += g[:, None]
        else:
            gx[np.arange(len(g)), 0 if where == "first" else arg] = g
        return (gx.reshape(shape),)
    return backward


def bugs():
    x, w = uniform(40, 9), uniform(41, 3)
    pooled = _tie_free(42, 8)
    return [
        Bug("conv_kernel_flipped", "flipped kernel", _conv,
            _conv_backward(flip=True), _conv_backward(), x=x, w=w),
        Bug("conv_stride_ignored", "stride ignored in backward", lambda a, b: _conv(a, b, stride=2),
            _conv_backward(stride=2, stride_seen=1), _conv_backward(stride=2), x=x, w=w),
        Bug("conv_dilation_ignored", "dilation ignored in backward", lambda a, b: _conv(a, b, dilation=2),
            _conv_backward(dilation=2, dilation_seen=1), _conv_backward(dilation=2), x=x, w=w),
        Bug("conv_weight_gradient_off_by_one", "off by one", _conv,
            _conv_backward(shift=1), _conv_backward(), x=x, w=w),
        Bug("max_pool_to_first_not_argmax", "wrong index", _max_pool,
            _pool_backward("first"), _pool_backward("argmax"), x=pooled),
        Bug("max_pool_to_every_element", "missing mask", _max_pool,
            _pool_backward("all"), _pool_backward("argmax"), x=pooled),
        Bug("avg_pool_not_divided", "dropped 1/window", lambda a: (a.reshape(-1, 3).mean(axis=1), a.shape),
            lambda g, s: (np.repeat(g, 3).reshape(s),), lambda g, s: (np.repeat(g / 3, 3).reshape(s),),
            x=uniform(43, 9)),
    ]
