"""Draw the recorded graph: ``to_dot(y)`` gives Graphviz DOT text, ``draw(y)`` shows it.

    y = model(x).sum()
    print(minise.viz.to_dot(y, model))    # text: ops, shapes, dtypes, parameters by their names
    minise.viz.draw(y, model)             # a picture in a notebook (needs the graphviz package)

The graph is the one backward walks (see minise/autograd.py): every op that made the tensor, and
every leaf that requires a gradient. Arrows point the way the forward pass went, from inputs to the
output. Tensors that need no gradient (an input batch, a constant) are not recorded, so they do
not appear. The DOT text needs nothing installed; rendering it needs the ``graphviz`` Python
package and Graphviz's ``dot`` program.

    op       a box: the op's class and the shape and dtype of what it returned
    leaf     an ellipse: the parameter's dotted name (``layer1.0.se.fc1.weight``) when a module is
             given, else "tensor"; its shape and dtype
    output   the tensor you asked about, shaded
"""
import shutil

from .autograd import Edge, edge_of
from .io.atomic import atomic_write
from .tensor import Tensor

INSTALL_HINT = ("to draw the graph, install the graphviz Python package (pip install graphviz, or the "
                "minise 'viz' extra) and Graphviz's dot program (apt-get install graphviz, brew install "
                "graphviz or conda install graphviz)")
_STYLE = {"op": 'shape=box, style="rounded,filled", fillcolor="#e8eef7"',
          "param": 'shape=ellipse, style=filled, fillcolor="#d9f2d9"',
          "leaf": 'shape=ellipse, style=filled, fillcolor="#f2f2f2"',
          "output": 'shape=box, style=filled, fillcolor="#fce5b6"'}


def _quote(text):
    return '"' + str(text).replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'


def _describe(shape, dtype):
    return f"{tuple(shape)} {dtype}"


def _parameter_names(params):
    """id(tensor) -> name, from a Module, a dict name -> Tensor, or an iterable of (name, Tensor)."""
    if params is None:
        return {}
    if hasattr(params, "named_parameters"):
        params = params.named_parameters()
    elif hasattr(params, "items"):
        params = params.items()
    names = {}
    for name, tensor in params:
        if not isinstance(tensor, Tensor):
            raise TypeError(f"to_dot(params=...): {name!r} is a {type(tensor).__name__}, expected a Tensor")
        names[id(tensor)] = name
    return names


class _Graph:
    """Collects DOT nodes and edges while walking back from the outputs."""

    def __init__(self, names):
        self.names, self.ids, self.lines = names, {}, []

    def node(self, key, kind, label):
        if key not in self.ids:
            self.ids[key] = f"n{len(self.ids)}"
            self.lines.append(f"  {self.ids[key]} [label={_quote(label)}, {_STYLE[kind]}];")
        return self.ids[key]

    def leaf(self, t):
        name = self.names.get(id(t))
        return self.node(id(t), "param" if name else "leaf", f"{name or 'tensor'}\n{_describe(t.shape, t.dtype)}")

    def op(self, fn):
        outputs = ", ".join(_describe(shape, dtype) for shape, dtype in fn.outputs_meta)
        return self.node(id(fn), "op", f"{type(fn).__name__}\n{outputs}")

    def edge(self, source, target, label=None):
        extra = f" [label={_quote(label)}]" if label is not None else ""
        self.lines.append(f"  {source} -> {target}{extra};")

    def source_of(self, edge):
        """The node an input edge comes from (an op's output or a leaf), and the output index label."""
        if type(edge) is Edge:
            return self.op(edge.fn), (edge.index if len(edge.fn.outputs_meta) > 1 else None)
        return self.leaf(edge.leaf), None


def to_dot(tensors, params=None, name="minise"):
    """Graphviz DOT text of the graph that made ``tensors`` (a Tensor or a list of them).

    ``params``: a Module (its parameters are named by their dotted names), a dict name -> Tensor,
    or None. Raises TypeError for anything but Tensors; a tensor with no graph (a leaf, or one
    computed under ``no_grad``) gives a one-node graph.
    """
    roots = list(tensors) if isinstance(tensors, (list, tuple)) else [tensors]
    for t in roots:
        if not isinstance(t, Tensor):
            raise TypeError(f"to_dot draws Tensors, got {type(t).__name__}")
    graph = _Graph(_parameter_names(params))
    seen, stack = set(), []
    for index, t in enumerate(roots):
        label = "output" if len(roots) == 1 else f"output {index}"
        out = graph.node(("out", index), "output", f"{label}\n{_describe(t.shape, t.dtype)}")
        if t.creator is None:
            if t.requires_grad:
                graph.edge(graph.leaf(t), out)
            continue
        source, k = graph.source_of(edge_of(t))
        graph.edge(source, out, k)
        stack.append(t.creator)
    while stack:
        fn = stack.pop()
        if id(fn) in seen:
            continue
        seen.add(id(fn))
        target = graph.op(fn)
        for _position, edge in enumerate(fn.edges):
            if edge is None:
                continue
            source, k = graph.source_of(edge)
            graph.edge(source, target, k)
            if type(edge) is Edge:
                stack.append(edge.fn)
    header = [f"digraph {_quote(name)} {{", "  rankdir=BT;",
              '  node [fontname="Helvetica", fontsize=10]; edge [fontsize=9];']
    return "\n".join(header + graph.lines + ["}"]) + "\n"


class DotText(str):
    """DOT text that a notebook shows as a code block (when it cannot be drawn)."""

    def _repr_markdown_(self):
        return "```dot\n" + self + "```"


def have_graphviz():
    """(the graphviz Python package imports, Graphviz's dot program is on PATH)."""
    try:
        import graphviz  # noqa: F401
    except ImportError:
        return False, shutil.which("dot") is not None
    return True, shutil.which("dot") is not None


def draw(tensors, params=None, path=None, format="svg", log=print):
    """Show the graph of ``tensors``: a ``graphviz.Source`` (drawn inline when a notebook displays
    it) when graphviz and its dot program are installed, else the DOT text, with ``log`` saying
    what to install. With ``path`` the picture (or, without dot, the DOT text) is also written
    there: ``draw(y, model, path="graph")`` writes graph.svg, or graph.dot."""
    dot = to_dot(tensors, params)
    package, program = have_graphviz()
    if not (package and program):
        missing = "the graphviz Python package" if not package else "Graphviz's dot program"
        if log is not None:
            log(f"{missing} is not installed: showing the DOT text instead; {INSTALL_HINT}")
        if path is not None:
            with atomic_write(f"{path}.dot") as f:
                f.write(dot.encode())
        return DotText(dot)
    import graphviz
    source = graphviz.Source(dot, format=format)
    if path is not None:
        source.render(outfile=f"{path}.{format}", cleanup=True)
    return source
