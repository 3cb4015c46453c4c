"""No circle in our import graph (issue 18): ``shared/``, every service's source and the test kit
(``tests/support``), read with ``ast`` (imports at the top and inside functions alike; those under
``if TYPE_CHECKING:`` never run and are left out). ``from pkg import name`` is an arrow to ``pkg.name`` when that is one of
our modules, else to ``pkg``. A failure names each cycle, module by module."""
import ast
from pathlib import Path

import pytest

pytestmark = pytest.mark.unit

ROOT = Path(__file__).resolve().parents[3]
SOURCES = [ROOT / "shared" / "src", *sorted(ROOT.glob("services/*/src")), ROOT / "tests" / "support" / "src"]


def module_name(src: Path, path: Path) -> str:
    parts = list(path.relative_to(src).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def modules_of(sources) -> dict[str, Path]:
    found = {}
    for src in sources:
        for path in sorted(src.rglob("*.py")):
            if "migrations" not in path.relative_to(src).parts:
                found[module_name(src, path)] = path
    return found


def _type_checking_only(node: ast.AST) -> bool:
    test = node.test if isinstance(node, ast.If) else None
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING")


def _imports(tree: ast.AST):
    todo = [tree]
    while todo:
        node = todo.pop()
        if isinstance(node, ast.If) and _type_checking_only(node):
            todo.extend(node.orelse)
            continue
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            yield node
        todo.extend(ast.iter_child_nodes(node))


def import_graph(sources) -> dict[str, set[str]]:
    modules = modules_of(sources)
    graph: dict[str, set[str]] = {name: set() for name in modules}
    for name, path in modules.items():
        package = name if path.name == "__init__.py" else name.rpartition(".")[0]
        for node in _imports(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.Import):
                targets = [alias.name for alias in node.names]
            else:
                base = node.module or ""
                if node.level:
                    anchor = package.split(".")
                    anchor = anchor[: len(anchor) - (node.level - 1)]
                    base = ".".join(anchor + ([base] if base else []))
                targets = [f"{base}.{a.name}" if f"{base}.{a.name}" in modules else base
                           for a in node.names]
            graph[name].update(t for t in targets if t in modules and t != name)
    return graph


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """One cycle per strongly connected component of more than one module (Tarjan), each given as
    a path that comes back to where it started."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    components: list[set[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in sorted(graph[v]):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = set()
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.add(w)
                if w == v:
                    break
            if len(component) > 1:
                components.append(component)

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return [_cycle_through(graph, component) for component in components]


def _cycle_through(graph, component: set[str]) -> list[str]:
    start = min(component)
    paths = {start: [start]}
    frontier = [start]
    while frontier:  # breadth-first inside the component back to start: a shortest cycle
        nxt = []
        for v in frontier:
            for w in sorted(graph[v] & component):
                if w == start:
                    return paths[v] + [start]
                if w not in paths:
                    paths[w] = paths[v] + [w]
                    nxt.append(w)
        frontier = nxt
    raise AssertionError(f"no cycle in component {component}")


def test_our_import_graph_has_no_cycle():
    graph = import_graph(SOURCES)
    assert {"kinerja.events.envelope", "penilaian.entrypoints.consumer"} <= graph.keys()
    assert "kinerja.events.common" in graph["kinerja.events.kehadiran"]  # the walk sees imports
    found = cycles(graph)
    assert not found, "import cycles:\n" + "\n".join(" -> ".join(c) for c in found)


def _package(tmp_path: Path, files: dict[str, str]) -> Path:
    for rel, text in files.items():
        path = tmp_path / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return tmp_path


def test_the_check_finds_a_cycle_through_a_late_import(tmp_path):
    # the old kinerja.events: envelope imports the topics inside a function, they import envelope
    src = _package(tmp_path, {
        "ev/__init__.py": "from ev.envelope import make\n",
        "ev/envelope.py": "def load():\n    from ev import topic\n",
        "ev/topic.py": "from .envelope import make\n",
        "ev/other.py": "import ev.topic\n",
    })
    assert cycles(import_graph([src])) == [["ev.envelope", "ev.topic", "ev.envelope"]]


def test_type_checking_imports_and_straight_lines_are_no_cycle(tmp_path):
    src = _package(tmp_path, {
        "p/__init__.py": "",
        "p/a.py": "from typing import TYPE_CHECKING\nimport p.b\nif TYPE_CHECKING:\n    from p import c\n",
        "p/b.py": "from p.c import x\n",
        "p/c.py": "import json\n",
    })
    graph = import_graph([src])
    assert graph["p.a"] == {"p.b"} and graph["p.b"] == {"p.c"}
    assert cycles(graph) == []
