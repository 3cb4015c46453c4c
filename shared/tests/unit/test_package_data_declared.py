"""Every data file the library reads beside its code (``i18n_catalogue.toml``, read with
importlib.resources) is declared as package data, so an installed wheel (the service images) has
it too, not only an editable checkout."""
import tomllib
from pathlib import Path

import pytest

pytestmark = pytest.mark.unit

SHARED = Path(__file__).resolve().parents[2]
PACKAGE = SHARED / "src" / "kinerja"


def test_every_data_file_of_kinerja_is_package_data():
    declared = tomllib.loads((SHARED / "pyproject.toml").read_text())["tool"]["setuptools"]["package-data"]["kinerja"]
    data = sorted(str(p.relative_to(PACKAGE)) for p in PACKAGE.rglob("*")
                  if p.is_file() and p.suffix not in (".py", ".pyc") and "__pycache__" not in p.parts)
    assert "i18n_catalogue.toml" in data
    assert [f for f in data if not any(Path(f).match(pattern) for pattern in declared)] == []
