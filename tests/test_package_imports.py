"""No module of the package imports itself in a circle, counting imports inside functions
and the parent packages an import runs (`a.b.c` runs `a/__init__` and `a/b/__init__`)."""

import ast
import collections
import pathlib

import keras_transformer

ROOT = pathlib.Path(keras_transformer.__file__).parent


def _modules():
    modules = {}
    for path in ROOT.rglob("*.py"):
        parts = ("keras_transformer", *path.relative_to(ROOT).with_suffix("").parts)
        name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        modules[name] = path
    return modules


def _graph(modules):
    graph = collections.defaultdict(set)
    for name, path in modules.items():
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom) and node.module:
                targets = [f"{node.module}.{a.name}" for a in node.names] + [node.module]
            elif isinstance(node, ast.Import):
                targets = [a.name for a in node.names]
            else:
                continue
            for target in targets:
                parts = target.split(".")
                for end in range(2, len(parts) + 1):  # the package itself is everyone's parent
                    module = ".".join(parts[:end])
                    if module in modules and module != name and not name.startswith(module + "."):
                        graph[name].add(module)
    return graph


def _cycles(graph, nodes):
    """The strongly connected components of more than one module (Tarjan)."""
    index, low, stack, on_stack, found = {}, {}, [], set(), []

    def visit(node):
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for other in graph[node]:
            if other not in index:
                visit(other)
                low[node] = min(low[node], low[other])
            elif other in on_stack:
                low[node] = min(low[node], index[other])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in nodes:
        if node not in index:
            visit(node)
    return found


def test_no_import_circle():
    modules = _modules()
    assert "keras_transformer.tasks.registry" in modules and "keras_transformer.run" in modules
    assert _cycles(_graph(modules), sorted(modules)) == []


def test_the_check_finds_a_circle():
    graph = collections.defaultdict(set, {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}})
    assert _cycles(graph, ["a", "b", "c", "d"]) == [["a", "b", "c"]]
