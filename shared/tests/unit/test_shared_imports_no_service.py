"""``shared/`` is the ground floor: it imports no service (issue 18). Every import statement in
its source, top-level or inside a function, is read with ``ast``; so is every module name handed
to ``importlib.import_module`` or ``__import__`` as a literal. A service's command reaches the
``kinerja`` tool through the ``kinerja.commands`` entry point group instead."""
import ast
from pathlib import Path

import pytest

pytestmark = pytest.mark.unit

SOURCE = Path(__file__).resolve().parents[2] / "src"
SERVICES = {"kehadiran", "tugas", "penilaian", "notifikasi"}


def imported_modules(tree: ast.AST):
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield node.lineno, alias.name
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            yield node.lineno, node.module
        elif isinstance(node, ast.Call) and node.args and isinstance(node.args[0], ast.Constant) \
                and isinstance(node.args[0].value, str):
            fn = node.func
            name = fn.attr if isinstance(fn, ast.Attribute) else getattr(fn, "id", None)
            if name in ("import_module", "__import__"):
                yield node.lineno, node.args[0].value


def service_imports(root: Path) -> list[str]:
    found = []
    for path in sorted(root.rglob("*.py")):
        for line, module in imported_modules(ast.parse(path.read_text(), str(path))):
            if module.split(".")[0] in SERVICES:
                found.append(f"{path.relative_to(root)}:{line} imports {module}")
    return found


def test_shared_source_imports_no_service():
    assert SOURCE.joinpath("kinerja", "cli", "main.py").is_file()  # the walk reads the real tree
    assert service_imports(SOURCE) == []


def test_the_check_finds_a_service_import(tmp_path):
    (tmp_path / "pkg").mkdir()
    (tmp_path / "pkg" / "a.py").write_text("import json\n\ndef f():\n    from penilaian.entrypoints import rebuild\n")
    (tmp_path / "pkg" / "b.py").write_text("import importlib\nimportlib.import_module('tugas.adapters')\n"
                                           "import kehadiran_like\n")
    assert service_imports(tmp_path) == ["pkg/a.py:4 imports penilaian.entrypoints",
                                         "pkg/b.py:2 imports tugas.adapters"]
