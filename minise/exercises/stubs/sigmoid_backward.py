"""Exercise: the backward pass of the logistic sigmoid.

Fill in ``backward`` below (NumPy only), then grade it:

    minise grade sigmoid_backward.py

    out = σ(x) = 1 / (1 + e^(−x)),  elementwise, x of any shape

The forward below never computes e^(−x) (which overflows for x below −709): it uses the identity
σ(x) = (1 + tanh(x/2)) / 2 and keeps only t = tanh(x/2) in its cache. Derive dσ/dx in terms of t
alone (d tanh(u)/du = 1 − tanh(u)²; mind the chain rule's 1/2), then gx = gout · dσ/dx. The grader
uses logits far beyond ±709 too.
"""
import numpy as np

EXERCISE = "sigmoid_backward"


def forward(x):
    """x (any shape) -> out (the same shape)."""
    t = np.tanh(0.5 * x)
    out = 0.5 * (1 + t)
    cache = t
    return out, cache


def backward(gout, cache):
    """gout (x's shape). Return gx, shaped like x."""
    t = cache
    raise NotImplementedError("derive dσ/dx from t = tanh(x/2) and write gx here")
