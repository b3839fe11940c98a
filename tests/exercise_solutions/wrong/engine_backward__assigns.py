"""A planted WRONG solution (assigns each node's gradient instead of adding the shares of its several users)."""
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
    order, state, stack = [], {}, [root]
    while stack:
        node = stack[-1]
        if state.get(id(node)) is None:
            state[id(node)] = "open"
            stack.extend(n for n in node.inputs if id(n) not in state)
        else:
            stack.pop()
            if state[id(node)] == "open":
                state[id(node)] = "done"
                order.append(node)
    grads = {id(root): gout[()]}
    for node in reversed(order):
        g = grads.get(id(node), 0)
        for child, partial in zip(node.inputs, node.partials):
            grads[id(child)] = g * partial
    return np.array([grads.get(id(leaf), 0) for leaf in leaves], dtype=gout.dtype)
