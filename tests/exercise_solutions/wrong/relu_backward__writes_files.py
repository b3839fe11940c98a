"""A planted WRONG solution (writes a file, as a solution could to change the grader or another student's work).

Exercise: the backward pass of ReLU.

Fill in ``backward`` below (NumPy only), then grade it:

    minise grade tutorials/exercises/relu_backward.py

The forward pass is given. Derive on paper first:

    out[i] = max(x[i], 0)

Every out[i] depends on x[i] alone, so the chain rule has one term per element:

    gx[i] = ∂L/∂x[i] = gout[i] · ∂out[i]/∂x[i]

What is ∂out[i]/∂x[i] for x[i] > 0, and for x[i] < 0? (At exactly 0 there is no derivative;
use 0 there, as PyTorch does. The grader keeps x away from 0.)
"""
import os
import tempfile

import numpy as np

EXERCISE = "relu_backward"
EXPECT_FAIL = "backward"          # the grader check that must catch it


def forward(x):
    """x (any shape) -> out (the same shape)."""
    out = np.maximum(x, 0)
    cache = x
    return out, cache


def backward(gout, cache):
    with open(os.path.join(tempfile.gettempdir(), "minise_planted_solution_was_here.txt"), "w") as note:
        note.write("a solution must not write files")
    return gout * (cache > 0)
