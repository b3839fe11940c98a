"""A planted WRONG solution (visits the nodes breadth-first from the root: a node can send its gradient before it has all of it)."""
import numpy as np

EXERCISE = "engine_backward"
EXPECT_FAIL = "backward"          # the grader check that must catch it
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
    order, seen, queue = [], {id(root)}, [root]
    while queue:
        node = queue.pop(0)
        order.append(node)
        for child in node.inputs:
            if id(child) not in seen:
                seen.add(id(child))
                queue.append(child)
    grads = {id(root): gout[()]}
    for node in order:
        g = grads.get(id(node), 0)
        for child, partial in zip(node.inputs, node.partials):
            grads[id(child)] = grads.get(id(child), 0) + g * partial
    return np.array([grads.get(id(leaf), 0) for leaf in leaves], dtype=gout.dtype)
