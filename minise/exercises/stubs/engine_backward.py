"""Exercise: the backward pass of a tiny autograd engine: reverse topological order, shared nodes.

Fill in ``backward`` below (NumPy only), then grade it:

    minise grade engine_backward.py

The forward builds a graph of scalar Nodes from a small program and returns the last node's value.
Each Node knows the nodes it was computed from (``inputs``) and the local derivative of its value
with respect to each of them (``partials``): for u + v they are (1, 1), for u · v they are (v, u),
for tanh(u) it is (1 − tanh(u)²,). The backward gets only the root and the leaves.

The chain rule: ∂L/∂node = Σ over the nodes c that use it of ∂L/∂c · (c's partial for it). A node
can be used by several others (and twice by one: u · u), so its gradient is complete only once every
node that uses it has sent its share. Visit the nodes in reverse topological order (every node
after all the nodes that use it) and ADD each share. A breadth-first walk from the root is not a
topological order, and walking every path from the root separately takes exponential time.

Return the gradient of every leaf, an array shaped and typed like x (0 for a leaf the root does not
use). The grader's graphs have a few thousand nodes: loop, don't recurse thousands deep.
"""
import numpy as np

EXERCISE = "engine_backward"
ADD, MUL, TANH = 0, 1, 2


class Node:
    """A scalar in the graph: its value, the nodes it came from, ∂value/∂input for each of them."""

    def __init__(self, value, inputs=(), partials=()):
        self.value, self.inputs, self.partials = value, inputs, partials


def forward(x, program):
    """x (L,) the leaves' values; program (K, 3) integers, row k = (op, a, b): node L + k is
    op(node a, node b) (tanh uses node a only) -> out: the last node's value, a 0-d array."""
    nodes = [Node(value) for value in x]
    for op, a, b in program:
        u, v = nodes[a], nodes[b]
        if op == ADD:
            nodes.append(Node(u.value + v.value, (u, v), (1, 1)))
        elif op == MUL:
            nodes.append(Node(u.value * v.value, (u, v), (v.value, u.value)))
        else:
            t = np.tanh(u.value)
            nodes.append(Node(t, (u,), (1 - t * t,)))
    cache = (nodes[-1], nodes[:len(x)])                             # the root and the leaves
    return np.asarray(nodes[-1].value), cache


def backward(gout, cache):
    """gout: a 0-d array, ∂L/∂out. Return gx, shaped and typed like x."""
    root, leaves = cache
    raise NotImplementedError("order the nodes, send the gradients back, and return the leaves' gradients")
