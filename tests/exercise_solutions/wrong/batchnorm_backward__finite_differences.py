"""A planted WRONG solution (measures the gradient a row at a time (features are independent): 2N forwards).

Exercise: the backward pass of batch normalisation (training mode), x of shape (N, D).

Fill in ``backward`` below (NumPy only), then grade it:

    minise grade tutorials/exercises/batchnorm_backward.py

Per feature d (every sum below runs over the N samples of one column):

    μ = (1/N) Σ x           σ² = (1/N) Σ (x − μ)²         σ = √(σ² + ε)
    x̂ = (x − μ) / σ         out = γ · x̂ + β

The easy two:   gβ = Σ gout,    gγ = Σ gout · x̂.

For gx, let g = gout · γ (the gradient reaching x̂). Each x̂ᵢ depends on xⱼ three ways: directly,
through μ and through σ. Work out ∂μ/∂xⱼ and ∂σ/∂xⱼ (= x̂ⱼ/N), then ∂x̂ᵢ/∂xⱼ, then sum over i.
You should reach a closed form with two sums, Σ g and Σ g·x̂. Tutorial 04 derives it.
A classic bug forgets the path through σ: with gout = all ones it is invisible (Σ x̂ = 0), so the
grader uses a random gout.
"""
import numpy as np

EXERCISE = "batchnorm_backward"
EXPECT_FAIL = "large input"       # the grader check that must catch it


def forward(x, gamma, beta, eps=1e-5):
    """x (N, D), gamma (D,), beta (D,) -> out (N, D), normalised with the batch's statistics."""
    mu = x.mean(axis=0)                                             # (D,)
    var = x.var(axis=0)                                             # (D,) biased: divide by N
    inv_std = 1 / np.sqrt(var + eps)                                # (D,) 1/σ
    x_hat = (x - mu) * inv_std                                      # (N, D)
    out = gamma * x_hat + beta
    cache = (x_hat, inv_std, gamma, x, beta)
    return out, cache


_forward = forward   # a private reference: these calls are not counted as calls of forward()



def backward(gout, cache):
    x_hat, inv_std, gamma, x, beta = cache
    dtype = x.dtype
    x, gamma, beta, g = (a.astype(np.float64) for a in (x, gamma, beta, gout))
    h = 1e-5
    gx = np.zeros_like(x)
    for i in range(x.shape[0]):
        step = np.zeros_like(x)
        step[i] = h
        gx[i] = (g * (_forward(x + step, gamma, beta)[0] - _forward(x - step, gamma, beta)[0])).sum(axis=0) / (2 * h)
    slope = (_forward(x, gamma + h, beta)[0] - _forward(x, gamma - h, beta)[0]) / (2 * h)
    return gx.astype(dtype), (g * slope).sum(axis=0).astype(dtype), g.sum(axis=0).astype(dtype)
