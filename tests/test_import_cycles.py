"""The arrows between minise's modules point one way: no import cycle, not even through an import
inside a function.

Every module under minise/ is parsed (not imported); each ``import`` / ``from ... import`` anywhere
in it, at the top or inside a function, is an arrow to the module it names. Importing
``minise.a.b`` also runs the package ``minise.a`` (its ``__init__``), so that counts as an arrow
too, except for the packages that contain the importing module (they are already running) and
the root ``minise`` (the public API, which imports everything on purpose).
"""
import ast
from pathlib import Path

import minise

ROOT = Path(minise.__file__).parent


def module_names():
    """{'minise.nn.layers': Path(...), 'minise.nn': Path(.../nn/__init__.py), ...}"""
    names = {}
    for path in ROOT.rglob("*.py"):
        parts = ("minise",) + path.relative_to(ROOT).with_suffix("").parts
        if parts[-1] == "__init__":
            parts = parts[:-1]
        names[".".join(parts)] = path
    return names


def imported_names(module, path, modules):
    """Every minise module that ``module`` names in an import statement, anywhere in its file."""
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), filename=str(path))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[:len(package.split(".")) - node.level + 1]
                base = ".".join(anchor + ([base] if base else []))
            for alias in node.names:                      # `from pkg import submodule` names the submodule
                found.add(f"{base}.{alias.name}" if f"{base}.{alias.name}" in modules else base)
    return {name for name in found if name in modules}


def import_graph():
    modules = module_names()
    graph = {}
    for module, path in modules.items():
        targets = set()
        for name in imported_names(module, path, modules):
            parts = name.split(".")
            targets.add(name)
            for k in range(2, len(parts)):                # the packages that importing `name` runs
                parent = ".".join(parts[:k])
                if not (module == parent or module.startswith(parent + ".")):
                    targets.add(parent)
        targets.discard(module)
        graph[module] = targets
    return graph


def find_cycle(graph):
    """One cycle as a list of modules [a, b, ..., a], or None."""
    state, stack = {}, []

    def visit(node):
        state[node] = "open"
        stack.append(node)
        for nxt in sorted(graph[node]):
            if state.get(nxt) == "open":
                return stack[stack.index(nxt):] + [nxt]
            if nxt not in state:
                cycle = visit(nxt)
                if cycle:
                    return cycle
        state[node] = "done"
        stack.pop()
        return None

    for node in sorted(graph):
        if node not in state:
            cycle = visit(node)
            if cycle:
                return cycle
    return None


def test_no_module_imports_itself_back():
    cycle = find_cycle(import_graph())
    assert cycle is None, "import cycle: " + " -> ".join(cycle)


def test_the_cycle_finder_finds_a_planted_cycle():
    graph = {"minise.a": {"minise.b"}, "minise.b": {"minise.c"}, "minise.c": {"minise.a"}, "minise.d": set()}
    assert find_cycle(graph) == ["minise.a", "minise.b", "minise.c", "minise.a"]
    assert find_cycle({"minise.a": {"minise.b"}, "minise.b": set()}) is None


def test_imports_inside_functions_and_parent_packages_are_arrows():
    graph = import_graph()
    assert "minise.functional.arithmetic" in graph["minise.tensor_methods"] or \
        "minise.functional" in graph["minise.tensor_methods"]
    assert "minise.tensor" in graph["minise.functional.arithmetic"]
    assert "minise.functional" in graph["minise.nn.layers"]          # runs functional/__init__ first
    assert not any(t.startswith("minise.functional") for t in graph["minise.tensor"])
