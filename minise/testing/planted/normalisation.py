"""Softmax, batch normalisation, variance and losses: the terms that couple elements together.

Several of these errors are invisible to an all-ones upstream gradient (the Σ terms vanish), which
is why a checker must weigh the outputs by random numbers.
"""
import numpy as np

from .bug import Bug, keep, rng, uniform


def _softmax(x):
    e = np.exp(x - x.max(axis=1, keepdims=True))
    y = e / e.sum(axis=1, keepdims=True)
    return y, y


def _log_softmax(x):
    y = _softmax(x)[0]
    return np.log(y), y


def _batch_norm(x, gamma, beta):
    mu, var = x.mean(axis=0), x.var(axis=0)
    x_hat = (x - mu) / np.sqrt(var + 1e-5)
    return gamma * x_hat + beta, keep(x_hat, gamma, np.sqrt(var + 1e-5))


def _bn_backward(drop=None):
    def backward(g, c):
        x_hat, gamma, sigma = c
        gh = g * gamma
        mean_term = 0 if drop == "mean" else gh.mean(axis=0)
        sigma_term = 0 if drop == "sigma" else x_hat * (gh * x_hat).mean(axis=0)
        gx = (gh - mean_term - sigma_term) / sigma
        if drop == "swap":
            return gx, g.sum(axis=0), (g * x_hat).sum(axis=0)
        return gx, (g * x_hat).sum(axis=0), g.sum(axis=0)
    return backward


def _cross_entropy(x):
    labels = np.arange(len(x)) % x.shape[1]
    y = _softmax(x)[0]
    loss = -np.log(y[np.arange(len(x)), labels]).mean()
    return loss, keep(y, labels)


def _ce_backward(divide):
    def backward(g, c):
        y, labels = c
        d = y.copy()
        d[np.arange(len(y)), labels] -= 1
        return (g * d / (len(y) if divide else 1),)
    return backward


def bugs():
    logits = uniform(30, (3, 4))
    batch = rng(31).normal(0.5, 1.5, (5, 3))
    gamma, beta = uniform(32, 3, 0.5, 2.0), uniform(33, 3)
    target = uniform(34, (3, 4))
    return [
        Bug("softmax_invisible_to_all_ones", "all-ones-invisible error", _softmax,
            lambda g, y: (y * (g - g.mean(axis=1, keepdims=True)),),
            lambda g, y: (y * (g - (g * y).sum(axis=1, keepdims=True)),), x=logits),
        Bug("softmax_missing_y", "missing factor", _softmax,
            lambda g, y: (g - (g * y).sum(axis=1, keepdims=True),),
            lambda g, y: (y * (g - (g * y).sum(axis=1, keepdims=True)),), x=logits),
        Bug("log_softmax_uniform_not_softmax", "wrong term", _log_softmax,
            lambda g, y: (g - g.sum(axis=1, keepdims=True) / y.shape[1],),
            lambda g, y: (g - y * g.sum(axis=1, keepdims=True),), x=logits),
        Bug("batch_norm_missing_sigma_path", "missing term (σ path)", _batch_norm,
            _bn_backward("sigma"), _bn_backward(), x=batch, gamma=gamma, beta=beta),
        Bug("batch_norm_missing_mean_path", "missing term (μ path)", _batch_norm,
            _bn_backward("mean"), _bn_backward(), x=batch, gamma=gamma, beta=beta),
        Bug("batch_norm_gamma_beta_swapped", "swapped inputs", _batch_norm,
            _bn_backward("swap"), _bn_backward(), x=batch, gamma=gamma, beta=beta),
        Bug("variance_missing_2", "missing constant", lambda p: (p.var(axis=0), p),
            lambda g, p: ((p - p.mean(axis=0)) / len(p) * g,),
            lambda g, p: (2 * (p - p.mean(axis=0)) / len(p) * g,), x=batch),
        Bug("cross_entropy_not_divided_by_n", "dropped 1/N", _cross_entropy,
            _ce_backward(False), _ce_backward(True), x=logits),
        Bug("mse_missing_2", "missing constant", lambda p, t: (((p - t) ** 2).mean(), keep(p, t)),
            lambda g, c: ((c[0] - c[1]) / c[0].size * g, -(c[0] - c[1]) / c[0].size * g),
            lambda g, c: (2 * (c[0] - c[1]) / c[0].size * g, -2 * (c[0] - c[1]) / c[0].size * g),
            y=logits, t=target),
    ]
