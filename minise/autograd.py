"""The backward pass: walk the recorded graph from the output back to the leaves.

Each recorded op (a :class:`~minise.function.Function`) knows, for each of its inputs, where that
input's gradient must go (its "edge"): nowhere (None), into a leaf Tensor's ``.grad``, or into
output ``k`` of the op that made it. Backward visits the ops in reverse topological order, so an op
runs only after every op that used its outputs has handed back their gradients, which are summed.
"""
from .backend import device_of


def _topological_order(starts):
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
                if type(edge) is tuple and edge[0] not in visited:
                    stack.append((edge[0], False))
    return finished[::-1]


def _check_gradient(fn, index, gx, shape):
    if not hasattr(gx, "shape"):
        raise TypeError(f"{type(fn).__name__}.backward returned {type(gx).__name__} for input {index}; "
                        "expected an array (or None)")
    if tuple(gx.shape) != tuple(shape):
        raise ValueError(f"{type(fn).__name__}.backward returned a gradient of shape {tuple(gx.shape)} for "
                         f"input {index}, whose shape is {tuple(shape)}; a gradient has its input's shape")


def run_backward(roots, grads, retain_graph=False):
    """Accumulate d(Σ roots·grads)/d(leaf) into every leaf's ``.grad``."""
    pending = {}        # op -> list with one summed gradient per output
    leaf_grads = {}     # id(leaf) -> [leaf, summed gradient]
    shared = {id(g) for g in grads}     # arrays someone else can see: a leaf must copy these

    def send(edge, g):
        if type(edge) is tuple:
            fn, k = edge
            slots = pending.setdefault(fn, [None] * len(fn.outputs_meta))
            slots[k] = g if slots[k] is None else slots[k] + g
        else:
            entry = leaf_grads.setdefault(id(edge), [edge, None])
            entry[1] = g if entry[1] is None else entry[1] + g

    for t, g in zip(roots, grads):
        send(t if t.creator is None else (t.creator, t._index), g)

    for fn in _topological_order([t.creator for t in roots if t.creator is not None]):
        gys = pending.pop(fn, None)
        if gys is None:
            continue
        if fn._freed:
            raise RuntimeError(f"backward through {type(fn).__name__} a second time: its saved arrays were "
                               "released by the first backward(). Call backward(retain_graph=True) the first "
                               "time if you need to go through the graph twice.")
        for k, ref in fn.retained.items():
            t = ref()
            if t is not None and gys[k] is not None:
                t.grad = gys[k] if t.grad is None else t.grad + gys[k]
                shared.add(id(gys[k]))
        if any(g is None for g in gys):
            xp = _module_of(gys)
            gys = [xp.zeros(shape, dtype) if g is None else g for g, (shape, dtype) in zip(gys, fn.outputs_meta)]
        gxs = fn.backward(*gys)
        if not isinstance(gxs, (tuple, list)):
            gxs = (gxs,)
        if len(gxs) != len(fn.edges):
            raise TypeError(f"{type(fn).__name__}.backward returned {len(gxs)} gradient(s) for "
                            f"{len(fn.edges)} input(s); return one per forward input (None where there is none)")
        for index, (edge, gx, shape) in enumerate(zip(fn.edges, gxs, fn.input_shapes)):
            if edge is None or gx is None:
                continue
            _check_gradient(fn, index, gx, shape)
            send(edge, gx)
        if not retain_graph:
            fn.saved, fn._freed = None, True

    for leaf, g in leaf_grads.values():
        if device_of(g) != leaf.device:
            raise RuntimeError(f"a gradient on {device_of(g)} reached a tensor on {leaf.device}")
        # A leaf may keep the engine's array itself, without a copy, when nothing else can see it:
        # not a view of another array, not the gradient passed to backward() or kept by
        # retain_grad(), not given to another leaf, no graph kept (retain_graph) whose ops may hold it.
        private = not retain_graph and g.base is None and id(g) not in shared
        g = g.astype(leaf.dtype, copy=not private)
        shared.add(id(g))
        leaf.grad = g if leaf.grad is None else leaf.grad + g


def _module_of(arrays):
    from .backend import get_array_module
    return get_array_module(*[a for a in arrays if a is not None])
