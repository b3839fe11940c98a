"""Reference solution of the exercise: the gradient checker itself. Write the tool that tells a right backward from a wrong one.

Fill in ``check_gradient`` below (NumPy only), then grade it:

    minise grade gradient_checker.py

check_gradient(forward, inputs, gout, grads) gets a function ``forward(*inputs) -> (out, cache)``, its
inputs (float64 arrays, read-only: perturb copies), an upstream gradient gout shaped like out, and
``grads``: someone's claim for the gradients of L = Σ out · gout with respect to each input. Return
True when every claimed gradient is right, False otherwise.

Measure each gradient with central finite differences: for every element i of an input a,
    ∂L/∂a[i] ≈ (L(a[i] + ε) − L(a[i] − ε)) / (2ε),    L(·) = Σ forward(...)[0] · gout,
with ε around 1e-6 (float64: the error is then about ε² from the curvature and 1e-16/ε from
rounding), and compare with a tolerance that scales with the gradient's size. Check EVERY element:
the grader hides single wrong elements. Its mistakes also include a sign, a factor 2, a zero
gradient, and a gradient computed for an all-ones gout instead of the one given: a random gout is
what catches that last one, and it is why gout is an argument. (Lesson 2 shows one checker; write
your own from the formula.)
"""
import numpy as np

EXERCISE = "gradient_checker"


def forward(x, w):
    """x (N, D), w (D, K) -> out (N, K) = tanh(x @ w). The grader checks claims about this function."""
    out = np.tanh(x @ w)
    return out, None


def check_gradient(forward, inputs, gout, grads, eps=1e-6, rtol=1e-5, atol=1e-8):
    """True if ``grads`` are the gradients of Σ forward(*inputs)[0] · gout, input by input."""
    def loss(arrays):
        return float((forward(*arrays)[0] * gout).sum())

    arrays = [np.array(a, dtype=np.float64) for a in inputs]       # copies we may perturb
    for a, claimed in zip(arrays, grads):
        if claimed.shape != a.shape:
            return False
        measured = np.zeros_like(a)
        for i in range(a.size):
            old = a.flat[i]
            a.flat[i] = old + eps
            up = loss(arrays)
            a.flat[i] = old - eps
            down = loss(arrays)
            a.flat[i] = old
            measured.flat[i] = (up - down) / (2 * eps)
        scale = np.abs(measured).max(initial=0)
        if np.any(np.abs(claimed - measured) > atol + rtol * scale + rtol * np.abs(measured)):
            return False
    return True
