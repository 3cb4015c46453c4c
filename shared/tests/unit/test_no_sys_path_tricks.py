"""Nothing of ours edits ``sys.path`` (issue 18): what tests and benchmarks share is installed
(``kinerja.testing``, ``tests/support``), never found by pushing a folder onto the path. Every
Python file of the repository outside virtualenvs is read with ``ast``; a call of a ``sys.path``
method or an assignment to it fails the test with its place."""
import ast
from pathlib import Path

import pytest

pytestmark = pytest.mark.unit

ROOT = Path(__file__).resolve().parents[3]
SKIP = {".venv", ".git", "node_modules", "build", "dist"}


def _is_sys_path(node: ast.AST) -> bool:
    return isinstance(node, ast.Attribute) and node.attr == "path" and \
        isinstance(node.value, ast.Name) and node.value.id == "sys"


def sys_path_edits(root: Path) -> list[str]:
    found = []
    for path in sorted(root.rglob("*.py")):
        rel = path.relative_to(root)
        if SKIP & set(rel.parts) or any(part.startswith(".venv") for part in rel.parts):
            continue
        try:
            tree = ast.parse(path.read_text(), str(path))
        except SyntaxError:
            continue
        lines = set()
        for node in ast.walk(tree):
            edited = (
                isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and _is_sys_path(node.func.value)
            ) or (
                isinstance(node, (ast.Assign, ast.AugAssign)) and any(
                    _is_sys_path(t) or (isinstance(t, ast.Subscript) and _is_sys_path(t.value))
                    for t in (node.targets if isinstance(node, ast.Assign) else [node.target]))
            )
            if edited:
                lines.add(node.lineno)
        found += [f"{rel}:{line}" for line in sorted(lines)]
    return found


def test_no_file_of_ours_edits_sys_path():
    assert (ROOT / "bench" / "e2e_latency.py").is_file()  # the walk reads the real tree
    assert sys_path_edits(ROOT) == []


def test_the_check_finds_each_way_of_editing_it(tmp_path):
    (tmp_path / "bench").mkdir()
    (tmp_path / "bench" / "a.py").write_text("import sys\nsys.path.insert(0, 'x')\nprint(sys.path)\n")
    (tmp_path / "b.py").write_text("import sys\n\ndef f():\n    sys.path.append('y')\n    sys.path[:0] = ['z']\n"
                                   "    sys.path += ['w']\n")
    (tmp_path / ".venv").mkdir()
    (tmp_path / ".venv" / "c.py").write_text("import sys\nsys.path.insert(0, 'v')\n")
    assert sys_path_edits(tmp_path) == ["b.py:4", "b.py:5", "b.py:6", "bench/a.py:2"]
