"""Products, broadcasting and reductions: transposes, axes, sums and divisors."""
import numpy as np

from .bug import Bug, keep, uniform


def _matmul(x, w):
    return x @ w, keep(x, w)


def _linear(x, w, b):
    return x @ w + b, keep(x, w)


def _scale_channels(x, s):
    return x * s[:, :, None, None], keep(x, s)


def _norm(x):
    n = np.sqrt((x ** 2).sum())
    return n, keep(x, n)


def bugs():
    a, b = uniform(10, (3, 3)), uniform(11, (3, 3))
    x, w, bias = uniform(12, (4, 3)), uniform(13, (3, 3)), uniform(14, 3)
    image, scale = uniform(15, (2, 3, 2, 3)), uniform(16, (2, 3))
    return [
        Bug("matmul_missing_transpose", "transpose", _matmul,
            lambda g, c: (g @ c[1], c[0].T @ g), lambda g, c: (g @ c[1].T, c[0].T @ g), x=a, w=b),
        Bug("matmul_weight_gradient_transposed", "transpose", _matmul,
            lambda g, c: (g @ c[1].T, (c[0].T @ g).T), lambda g, c: (g @ c[1].T, c[0].T @ g), x=a, w=b),
        Bug("linear_bias_mean_not_sum", "dropped factor N", _linear,
            lambda g, c: (g @ c[1].T, c[0].T @ g, g.mean(axis=0)),
            lambda g, c: (g @ c[1].T, c[0].T @ g, g.sum(axis=0)), x=x, w=w, b=bias),
        Bug("linear_bias_wrong_axis", "wrong axis", _linear,
            lambda g, c: (g @ c[1].T, c[0].T @ g, g.sum(axis=1)),
            lambda g, c: (g @ c[1].T, c[0].T @ g, g.sum(axis=0)), x=a, w=b, b=bias),
        Bug("broadcast_add_first_row_only", "wrong broadcasting reduction", lambda p, q: (p + q, None),
            lambda g, c: (g, g[0]), lambda g, c: (g, g.sum(axis=0)), x=x, b=bias),
        Bug("scale_channels_mean_not_sum", "dropped 1/(H·W)", _scale_channels,
            lambda g, c: (g * c[1][:, :, None, None], (g * c[0]).mean(axis=(2, 3))),
            lambda g, c: (g * c[1][:, :, None, None], (g * c[0]).sum(axis=(2, 3))), x=image, s=scale),
        Bug("mean_divided_by_n_minus_1", "off-by-one divisor", lambda p: (p.mean(), p.shape),
            lambda g, s: (np.full(s, g / 127),), lambda g, s: (np.full(s, g / 128),), x=uniform(17, 128)),
        Bug("mean_rows_divided_by_columns", "wrong divisor", lambda p: (p.mean(axis=1), p.shape),
            lambda g, s: (np.broadcast_to(g[:, None] / s[0], s).copy(),),
            lambda g, s: (np.broadcast_to(g[:, None] / s[1], s).copy(),), x=uniform(18, (3, 5))),
        Bug("sum_broadcast_on_wrong_axis", "wrong axis", lambda p: (p.sum(axis=1), p.shape),
            lambda g, s: (np.broadcast_to(g[None, :], s).copy(),),
            lambda g, s: (np.broadcast_to(g[:, None], s).copy(),), x=a),
        Bug("transpose_not_transposed", "transpose", lambda p: (p.T.copy(), None),
            lambda g, c: (g.copy(),), lambda g, c: (g.T.copy(),), x=a),
        Bug("reused_weight_overwritten", "= where += belongs", lambda p, q: (q * p + q ** 2, keep(p, q)),
            lambda g, c: (g * c[1], 2 * c[1] * g), lambda g, c: (g * c[1], g * c[0] + 2 * c[1] * g),
            x=uniform(19, 5), w=uniform(20, 5)),
        Bug("outer_product_wrong_axis", "wrong axis", lambda p, q: (p[:, None] * q[None, :], keep(p, q)),
            lambda g, c: ((g * c[1][None, :]).sum(axis=0), (g * c[0][:, None]).sum(axis=0)),
            lambda g, c: ((g * c[1][None, :]).sum(axis=1), (g * c[0][:, None]).sum(axis=0)),
            a=uniform(21, 3), b=uniform(22, 3)),
        Bug("cumsum_not_reversed", "wrong direction", lambda p: (np.cumsum(p), None),
            lambda g, c: (np.cumsum(g),), lambda g, c: (np.cumsum(g[::-1])[::-1].copy(),), x=uniform(23, 6)),
        Bug("slice_gradient_off_by_one", "off by one", lambda p: (p[1:].copy(), p.shape),
            lambda g, s: (np.concatenate([g, [0.0]]),), lambda g, s: (np.concatenate([[0.0], g]),),
            x=uniform(24, 6)),
        Bug("concat_halves_swapped", "swapped inputs", lambda p, q: (np.concatenate([p, q]), None),
            lambda g, c: (g[3:], g[:3]), lambda g, c: (g[:3], g[3:]), a=uniform(25, 3), b=uniform(26, 3)),
        Bug("l2_norm_missing_division", "missing term", _norm,
            lambda g, c: (c[0] * g,), lambda g, c: (c[0] / c[1] * g,), x=uniform(27, 4)),
    ]
