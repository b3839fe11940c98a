"""The backward pass: walk the recorded graph from the output back to the leaves.

Each recorded op (a :class:`~minise.function.Function`) keeps, for each of its inputs, an *edge*
saying where that input's gradient must go:

    Edge(fn, index)   into output ``index`` of the op ``fn`` that made the input
    LeafEdge(leaf)    into ``leaf.grad``: the input is a tensor you made yourself
    None              nowhere: the input needs no gradient

:func:`run_backward` visits the ops in reverse topological order, so an op runs only after every op
that used its outputs has handed back its gradient; gradients that meet at one place are summed.
"""
from typing import NamedTuple

from .backend import device_of, get_array_module


class Edge(NamedTuple):
    """Where an input's gradient goes: output ``index`` of ``fn``, the op that made the input."""
    fn: object
    index: int


class LeafEdge(NamedTuple):
    """Where a leaf's gradient goes: ``leaf.grad``, written when the backward pass is over."""
    leaf: object


def edge_of(t):
    """The edge of tensor ``t``: where a gradient that reaches it must go (None if nowhere)."""
    if t is None or not t.requires_grad:
        return None
    return LeafEdge(t) if t.creator is None else Edge(t.creator, t._index)


def run_backward(roots, grads, retain_graph=False):
    """Accumulate d(Σ roots·grads)/d(leaf) into every leaf's ``.grad``."""
    sums = GradientSums(shared=grads)
    for t, g in zip(roots, grads):
        sums.send(edge_of(t), g)

    for fn in topological_order([t.creator for t in roots if t.creator is not None]):
        gys = sums.gather(fn)                         # the summed gradient of each output
        if gys is None:
            continue                                  # no gradient reached this op
        if fn.retained or fn.hooks:
            gys = watch_outputs(fn, gys, sums.shared)
        gxs = call_backward(fn, gys)                  # one gradient per input
        for edge, gx in zip(fn.edges, gxs):
            if edge is not None and gx is not None:
                sums.send(edge, gx)
        if not retain_graph:
            fn.saved, fn._freed = None, True          # release what forward saved

    for leaf, g in sums.leaves.values():
        write_leaf_grad(leaf, g, sums.shared, retain_graph)


def topological_order(starts):
    """Ops reachable from ``starts``, each listed before every op that made one of its inputs."""
    finished, visited = [], set()
    for start in starts:
        stack = [(start, False)]
        while stack:
            fn, children_done = stack.pop()
            if children_done:
                finished.append(fn)
                continue
            if fn in visited:
                continue
            visited.add(fn)
            stack.append((fn, True))
            for edge in fn.edges:
                if type(edge) is Edge and edge.fn not in visited:
                    stack.append((edge.fn, False))
    return finished[::-1]


class GradientSums:
    """The gradients sent so far: per op, one running sum per output; per leaf, one.

    ``shared`` holds the ids of arrays that someone outside the engine can see (the gradient given
    to backward(), one kept by retain_grad() or already given to a leaf): a leaf must copy those.
    """

    def __init__(self, shared):
        self.ops = {}                                 # op -> [summed gradient of output k, ...]
        self.leaves = {}                              # id(leaf) -> [leaf, summed gradient]
        self.shared = {id(g) for g in shared}

    def send(self, edge, g):
        if type(edge) is Edge:
            slots = self.ops.get(edge.fn)
            if slots is None:
                slots = self.ops[edge.fn] = [None] * len(edge.fn.outputs_meta)
            k = edge.index
            slots[k] = g if slots[k] is None else slots[k] + g
        else:
            entry = self.leaves.setdefault(id(edge.leaf), [edge.leaf, None])
            entry[1] = g if entry[1] is None else entry[1] + g

    def gather(self, fn):
        """The summed output gradients of ``fn`` (zeros for an output no gradient reached), or
        None when none reached it."""
        gys = self.ops.pop(fn, None)
        if gys is None:
            return None
        if fn._freed:
            raise RuntimeError(f"backward through {type(fn).__name__} a second time: its saved arrays were "
                               "released by the first backward(). Call backward(retain_graph=True) the first "
                               "time if you need to go through the graph twice.")
        if len(gys) > 1 and any(g is None for g in gys):            # one output: it was sent something
            xp = get_array_module(*[g for g in gys if g is not None])
            gys = [xp.zeros(shape, dtype) if g is None else g for g, (shape, dtype) in zip(gys, fn.outputs_meta)]
        return gys


def call_backward(fn, gys):
    """``fn.backward(*gys)``, checked: one gradient per input, each an array shaped like its input."""
    gxs = fn.backward(*gys)
    if not isinstance(gxs, (tuple, list)):
        gxs = (gxs,)
    if len(gxs) != len(fn.edges):
        raise TypeError(f"{type(fn).__name__}.backward returned {len(gxs)} gradient(s) for "
                        f"{len(fn.edges)} input(s); return one per forward input (None where there is none)")
    for index, gx in enumerate(gxs):
        if gx is not None and getattr(gx, "shape", None) != fn.input_shapes[index]:
            refuse_gradient(fn, index, gx)
    return gxs


def refuse_gradient(fn, index, gx):
    """The error for a gradient that is not an array of its input's shape."""
    if not hasattr(gx, "shape"):
        raise TypeError(f"{type(fn).__name__}.backward returned {type(gx).__name__} for input {index}; "
                        "expected an array (or None)")
    shape = fn.input_shapes[index]
    if tuple(gx.shape) != tuple(shape):
        raise ValueError(f"{type(fn).__name__}.backward returned a gradient of shape {tuple(gx.shape)} for "
                         f"input {index}, whose shape is {tuple(shape)}; a gradient has its input's shape")


def watch_outputs(fn, gys, shared):
    """Run the hooks registered on ``fn``'s outputs (each may replace its gradient), then keep the
    gradient of every output that asked for it with retain_grad()."""
    gys = list(gys)
    for k, hooks in (fn.hooks or {}).items():
        gys[k] = run_hooks(hooks, gys[k])
    for k, ref in (fn.retained or {}).items():
        t = ref()
        if t is not None:
            t.grad = gys[k] if t.grad is None else t.grad + gys[k]
            shared.add(id(gys[k]))
    return gys


def run_hooks(hooks, g):
    """Call each hook (a dict: handle id -> function of an array) on the gradient ``g``, in the
    order registered; a hook that returns an array (of g's shape) replaces the gradient."""
    for hook in list(hooks.values()):
        result = hook(g)
        if result is None:
            continue
        if tuple(getattr(result, "shape", ())) != tuple(g.shape) or device_of(result) != device_of(g):
            raise ValueError(f"a gradient hook returned {type(result).__name__} of shape "
                             f"{tuple(getattr(result, 'shape', ()))}; it must return None or a gradient of "
                             f"shape {tuple(g.shape)} on {device_of(g)}")
        g = result
    return g


def write_leaf_grad(leaf, g, shared, retain_graph):
    """Add ``g`` (after the leaf's hooks) to ``leaf.grad``, cast to the leaf's dtype.

    The leaf may keep the engine's array itself, without a copy, when nothing else can see it: not
    a view of another array, not a shared one (see GradientSums), not returned by a hook, and no
    graph kept (retain_graph) whose ops may still hold it.
    """
    if leaf._hooks:
        hooked = run_hooks(leaf._hooks, g)
        if hooked is not g:
            g = hooked
            shared.add(id(g))
    if device_of(g) != leaf.device:
        raise RuntimeError(f"a gradient on {device_of(g)} reached a tensor on {leaf.device}")
    private = not retain_graph and g.base is None and id(g) not in shared
    g = g.astype(leaf.dtype, copy=not private)
    shared.add(id(g))
    leaf.grad = g if leaf.grad is None else leaf.grad + g
