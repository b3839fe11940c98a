"""A planted WRONG solution (sends the gradient down every path from the root separately: right, but exponential in the depth)."""
import numpy as np

EXERCISE = "engine_backward"
EXPECT_FAIL = "large input"          # the grader check that must catch it
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
    root, leaves = cache
    grads = {}

    def send(node, g):
        if not node.inputs:
            grads[id(node)] = grads.get(id(node), 0) + g
        for child, partial in zip(node.inputs, node.partials):
            send(child, g * partial)
    send(root, gout[()])
    return np.array([grads.get(id(leaf), 0) for leaf in leaves], dtype=gout.dtype)
