"""Exercise: the backward pass of batch normalisation (training mode), x of shape (N, D).

Fill in ``backward`` below (NumPy only), then grade it:

    minise grade batchnorm_backward.py

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


def forward(x, gamma, beta, eps=1e-5):
    """x (N, D), gamma (D,), beta (D,) -> out (N, D), normalised with the batch's statistics."""
    mu = x.mean(axis=0)                                             # (D,)
    var = x.var(axis=0)                                             # (D,) biased: divide by N
    inv_std = 1 / np.sqrt(var + eps)                                # (D,) 1/σ
    x_hat = (x - mu) * inv_std                                      # (N, D)
    out = gamma * x_hat + beta
    cache = (x_hat, inv_std, gamma)
    return out, cache


def backward(gout, cache):
    """gout (N, D). Return (gx, ggamma, gbeta), shaped like x, gamma and beta."""
    x_hat, inv_std, gamma = cache
    raise NotImplementedError("derive gx, ggamma and gbeta and write them here")
