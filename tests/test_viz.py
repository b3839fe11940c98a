"""minise.viz: the DOT text of a recorded graph, checked by its structure (nodes, edges, labels)."""
import re
import shutil
import subprocess

import numpy as np
import pytest

import minise
from minise import Function, Tensor, nn, no_grad, viz
from minise.autograd import Edge

NODE = re.compile(r'^  (n\d+) \[label="((?:[^"\\]|\\.)*)", (.*)\];$')
EDGE = re.compile(r'^  (n\d+) -> (n\d+)(?: \[label="(\d+)"\])?;$')


def parse(dot):
    """{node id: (label lines, style)} and [(source, target, label)], every line accounted for."""
    lines = dot.strip().split("\n")
    assert lines[0].startswith("digraph ") and lines[0].endswith("{") and lines[-1] == "}"
    nodes, edges = {}, []
    for line in lines[3:-1]:
        if NODE.match(line):
            key, label, style = NODE.match(line).groups()
            assert key not in nodes, f"node {key} listed twice"
            nodes[key] = (label.split("\\n"), style)
        else:
            match = EDGE.match(line)
            assert match, f"unexpected line {line!r}"
            edges.append(match.groups())
    for source, target, _ in edges:
        assert source in nodes and target in nodes
    return nodes, edges


def by_label(nodes, first_line):
    return [key for key, (label, _) in nodes.items() if label[0] == first_line]


def se_graph():
    minise.manual_seed(0)
    block = nn.SEBlock(4, reduction=2)
    x = Tensor(np.random.default_rng(0).random((2, 4, 3, 3), dtype=np.float32), requires_grad=True)
    return block, x, block(x).sum()


def test_an_se_block_graph_names_its_parameters_ops_shapes_and_dtypes():
    block, _, y = se_graph()
    nodes, edges = parse(viz.to_dot(y, block))
    params = {name: p for name, p in block.named_parameters()}
    for name, p in params.items():                     # every parameter once, by name, shape and dtype
        key, = by_label(nodes, name)
        assert nodes[key][0][1] == f"{p.shape} float32"
    key, = by_label(nodes, "tensor")                   # x: a leaf with no name
    assert nodes[key][0][1] == "(2, 4, 3, 3) float32"
    assert sorted(t for s, t, _ in edges if s == key) == sorted(             # x feeds the squeeze and the scale
        [by_label(nodes, "MeanFunction")[0], by_label(nodes, "ScaleChannelsFunction")[0]])
    ops = sorted(label[0] for label, style in nodes.values() if "rounded" in style)
    assert ops == sorted(["MeanFunction", "LinearFunction", "ReLUFunction", "LinearFunction", "SigmoidFunction",
                          "ScaleChannelsFunction", "SumFunction"])
    assert nodes[by_label(nodes, "MeanFunction")[0]][0][1] == "(2, 4) float32"
    out, = by_label(nodes, "output")
    assert [s for s, t, _ in edges if t == out] == by_label(nodes, "SumFunction")
    # one edge per recorded input that needs a gradient, plus the one into the output node
    fns = {id(n): n for n in _ops(y)}
    assert len(edges) == 1 + sum(e is not None for fn in fns.values() for e in fn.edges)


def _ops(y):
    stack, seen = [y.creator], {}
    while stack:
        fn = stack.pop()
        if id(fn) not in seen:
            seen[id(fn)] = fn
            stack.extend(e.fn for e in fn.edges if type(e) is Edge)
    return seen.values()


def test_without_a_module_parameters_are_plain_tensors_and_a_dict_names_them():
    block, x, y = se_graph()
    nodes, _ = parse(viz.to_dot(y))
    assert len(by_label(nodes, "tensor")) == 5               # x and four parameters
    nodes, _ = parse(viz.to_dot(y, {"x": x, "fc1.weight": block.fc1.weight}))
    assert by_label(nodes, "x") and by_label(nodes, "fc1.weight") and len(by_label(nodes, "tensor")) == 3


def test_inputs_that_need_no_gradient_are_not_drawn_and_no_grad_gives_one_node():
    w = Tensor(np.ones((3, 2), dtype=np.float64), requires_grad=True)
    y = Tensor(np.ones((4, 3))) @ w
    nodes, edges = parse(viz.to_dot(y, {"w": w}))
    assert sorted(label[0] for label, _ in nodes.values()) == sorted([type(y.creator).__name__, "output", "w"])
    assert nodes[by_label(nodes, "w")[0]][0][1] == "(3, 2) float64" and len(edges) == 2
    with no_grad():
        z = Tensor(np.ones(3), requires_grad=True) * 2.0
    nodes, edges = parse(viz.to_dot(z))
    assert len(nodes) == 1 and not edges


class TwoOut(Function):
    def forward(self, x):
        return x * 2, x * 3

    def backward(self, ga, gb):
        return 2 * ga + 3 * gb


def test_several_outputs_label_their_edges_and_several_roots_each_get_a_node():
    x = Tensor(np.ones(3), requires_grad=True)
    a, b = TwoOut()(x)
    nodes, edges = parse(viz.to_dot([a.sum(), b]))
    op, = by_label(nodes, "TwoOut")
    assert nodes[op][0][1] == "(3,) float64, (3,) float64"
    assert sorted(label for s, t, label in edges if s == op) == ["0", "1"]
    assert by_label(nodes, "output 0") and by_label(nodes, "output 1")


def test_the_graph_survives_backward_and_labels_are_escaped():
    block, x, y = se_graph()
    before = viz.to_dot(y, block)
    y.backward()
    assert viz.to_dot(y, block) == before
    dot = viz.to_dot(y, {'a "quoted" name': x})
    nodes, _ = parse(dot)
    assert by_label(nodes, 'a \\"quoted\\" name')


def test_bad_arguments_are_named():
    with pytest.raises(TypeError, match="to_dot draws Tensors, got ndarray"):
        viz.to_dot(np.ones(3))
    with pytest.raises(TypeError, match="'w' is a ndarray, expected a Tensor"):
        viz.to_dot(Tensor(np.ones(2)), {"w": np.ones(2)})


def test_draw_without_graphviz_returns_the_dot_text_and_says_what_to_install(monkeypatch, tmp_path):
    block, _, y = se_graph()
    monkeypatch.setattr(viz, "have_graphviz", lambda: (False, False))
    said = []
    shown = viz.draw(y, block, path=tmp_path / "se", log=said.append)
    assert shown == viz.to_dot(y, block) and "```dot" in shown._repr_markdown_()
    assert "graphviz Python package is not installed" in said[0] and "apt-get install graphviz" in said[0]
    assert (tmp_path / "se.dot").read_text() == shown
    assert [p.name for p in tmp_path.iterdir()] == ["se.dot"]          # no temporary file left behind


def test_draw_with_graphviz_gives_a_source_object(monkeypatch):
    graphviz = pytest.importorskip("graphviz")
    block, _, y = se_graph()
    monkeypatch.setattr(viz, "have_graphviz", lambda: (True, True))
    source = viz.draw(y, block, log=None)
    assert isinstance(source, graphviz.Source) and source.source == viz.to_dot(y, block)


@pytest.mark.skipif(shutil.which("dot") is None, reason="Graphviz's dot program is not installed")
def test_dot_reads_the_text(tmp_path):
    block, _, y = se_graph()
    result = subprocess.run(["dot", "-Tsvg"], check=False, input=viz.to_dot(y, block), capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert "fc1.weight" in result.stdout
