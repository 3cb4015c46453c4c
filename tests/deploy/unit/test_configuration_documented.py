"""Every configuration variable the code reads is in README.md's configuration table."""
from __future__ import annotations

import re

import pytest

pytestmark = pytest.mark.unit

PATTERNS = (
    r"""environ\.get\(\s*["']([A-Z][A-Z0-9_]+)["']""",
    r"""environ\[\s*["']([A-Z][A-Z0-9_]+)["']\s*\]""",
    r"""getenv\(\s*["']([A-Z][A-Z0-9_]+)["']""",
    r"""_env\(\s*["']([A-Z][A-Z0-9_]+)["']""",
    r"""setdefault\(\s*["']([A-Z][A-Z0-9_]+)["']""",
    r"""\benv\.get\(\s*["']([A-Z][A-Z0-9_]+)["']""",  # a mapping passed in for tests (kinerja.auth.OidcConfig)
    # the numeric settings' parsers of kinerja.config, given the environment and the name
    r"""\b(?:whole_number|number|port_number)\(\s*[\w.]+\s*,\s*["']([A-Z][A-Z0-9_]+)["']""",
)
# notifikasi reads NOTIFIKASI_<KEY> through _option / _whole / _text(settings, "key", ...)
NOTIFIKASI_OPTION = r"""_(?:option|whole|text)\(\s*\w+\s*,\s*["']([a-z0-9_]+)["']"""
SERVICE_PREFIX = r"^(KEHADIRAN|TUGAS|PENILAIAN|NOTIFIKASI)_"
NOT_OURS = {"SERVER_SOFTWARE"}  # set by gunicorn, read to tell how we are served


def variables_read(repo) -> dict[str, str]:
    found: dict[str, str] = {}
    files = [*sorted((repo / "shared" / "src").rglob("*.py")), *sorted((repo / "services").glob("*/src/**/*.py")),
             repo / "deploy" / "docker" / "gunicorn.conf.py"]
    for path in files:
        text = path.read_text()
        for pattern in PATTERNS:
            for name in re.findall(pattern, text):
                found.setdefault(name, str(path.relative_to(repo)))
        if "notifikasi" in path.parts:
            for key in re.findall(NOTIFIKASI_OPTION, text):
                found.setdefault(f"NOTIFIKASI_{key.upper()}", str(path.relative_to(repo)))
    return {k: v for k, v in found.items() if k not in NOT_OURS}


def configuration_table(readme: str) -> str:
    section = readme.split("## Configuration", 1)[1]
    return section.split("\n## ", 1)[0]


def test_every_variable_read_is_in_the_readme_table(repo):
    table = configuration_table((repo / "README.md").read_text())
    read = variables_read(repo)
    assert len(read) > 30, read  # the scan finds what it should
    missing = {name: where for name, where in read.items()
               if f"`{name}`" not in table and f"`{re.sub(SERVICE_PREFIX, '<SERVICE>_', name)}`" not in table}
    assert not missing, "document these in README.md's configuration table:\n" + "\n".join(
        f"  {name}  (read in {where})" for name, where in sorted(missing.items()))


def test_the_metrics_and_image_variables_are_in_the_table(repo):
    table = configuration_table((repo / "README.md").read_text())
    for name in ("KINERJA_METRICS_PORT", "<SERVICE>_<ROLE>_METRICS_PORT", "KINERJA_METRICS_ADDR",
                 "PROMETHEUS_MULTIPROC_DIR", "KINERJA_MIGRATIONS_DIR", "KINERJA_SERVICE", "WEB_WORKERS"):
        assert f"`{name}`" in table, name
