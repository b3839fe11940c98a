"""Element-wise ops: a sign, a constant, a power, a mask, a term forgotten."""
import numpy as np

from .bug import Bug, away_from_zero, keep, uniform


def _sigmoid(x):
    return 1 / (1 + np.exp(-x))


def bugs():
    x = uniform(1, (2, 3))
    signed = away_from_zero(2, (2, 3))
    positive = uniform(3, (2, 3), 0.5, 2.0)
    return [
        Bug("cube_missing_3", "missing constant", lambda a: (a ** 3, a),
            lambda g, a: (a ** 2 * g,), lambda g, a: (3 * a ** 2 * g,), x=x),
        Bug("cube_off_by_1_percent", "slightly wrong scale", lambda a: (a ** 3, a),
            lambda g, a: (3.03 * a ** 2 * g,), lambda g, a: (3 * a ** 2 * g,), x=x),
        Bug("sin_sign", "sign error", lambda a: (np.sin(a), a),
            lambda g, a: (-np.cos(a) * g,), lambda g, a: (np.cos(a) * g,), x=x),
        Bug("log_wrong_power", "wrong formula", lambda a: (np.log(a), a),
            lambda g, a: (g / a ** 2,), lambda g, a: (g / a,), x=positive),
        Bug("sqrt_missing_half", "missing constant", lambda a: (np.sqrt(a), np.sqrt(a)),
            lambda g, s: (g / s,), lambda g, s: (g / (2 * s),), x=positive),
        Bug("exp_uses_input", "wrong saved value", lambda a: (np.exp(a), keep(a, np.exp(a))),
            lambda g, c: (g * c[0],), lambda g, c: (g * c[1],), x=x),
        Bug("tanh_missing_square", "missing power", lambda a: (np.tanh(a), np.tanh(a)),
            lambda g, y: ((1 - y) * g,), lambda g, y: ((1 - y ** 2) * g,), x=x),
        Bug("sigmoid_plus", "sign error", lambda a: (_sigmoid(a), _sigmoid(a)),
            lambda g, y: (y * (1 + y) * g,), lambda g, y: (y * (1 - y) * g,), x=x),
        Bug("relu_unmasked", "missing mask", lambda a: (np.maximum(a, 0), a > 0),
            lambda g, m: (g,), lambda g, m: (g * m,), x=signed),
        Bug("leaky_relu_slope", "wrong constant", lambda a: (np.where(a > 0, a, 0.01 * a), a > 0),
            lambda g, m: (np.where(m, g, 0.1 * g),), lambda g, m: (np.where(m, g, 0.01 * g),), x=signed),
        Bug("abs_without_sign", "missing factor", lambda a: (np.abs(a), np.sign(a)),
            lambda g, s: (g,), lambda g, s: (s * g,), x=signed),
        Bug("softplus_wrong_sigmoid", "sign error", lambda a: (np.log1p(np.exp(a)), a),
            lambda g, a: (_sigmoid(-a) * g,), lambda g, a: (_sigmoid(a) * g,), x=x),
        Bug("clip_leaks_outside", "missing mask", lambda a: (np.clip(a, -1, 1), np.abs(a) < 1),
            lambda g, m: (g,), lambda g, m: (g * m,),
            x=np.hstack([away_from_zero(4, (2, 2), 0.2, 0.8), away_from_zero(5, (2, 2), 1.3, 2.0)])),
        Bug("pow_missing_log", "missing term", lambda a, b: (a ** b, keep(a, b, a ** b)),
            lambda g, c: (c[1] * c[0] ** (c[1] - 1) * g, c[2] * g),
            lambda g, c: (c[1] * c[0] ** (c[1] - 1) * g, c[2] * np.log(c[0]) * g),
            a=positive, b=uniform(5, (2, 3))),
        Bug("div_sign_of_denominator", "sign error", lambda a, b: (a / b, keep(a, b)),
            lambda g, c: (g / c[1], g * c[0] / c[1] ** 2), lambda g, c: (g / c[1], -g * c[0] / c[1] ** 2),
            a=x, b=positive),
        Bug("product_gradients_swapped", "swapped inputs", lambda a, b: (a * b, keep(a, b)),
            lambda g, c: (g * c[0], g * c[1]), lambda g, c: (g * c[1], g * c[0]), a=x, b=uniform(6, (2, 3))),
        Bug("tiny_values_2x", "2x error at values ~1e-6", lambda a: (1e-6 * np.sin(a).sum(), a),
            lambda g, a: (2e-6 * np.cos(a) * g,), lambda g, a: (1e-6 * np.cos(a) * g,), x=uniform(7, (4,))),
    ]
