"""Fixtures for the deployment tests: the repository's files, the image's entry points, and the
Kubernetes overlays rendered with kustomize (installed by `make kustomize`)."""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest
import yaml

REPO = Path(__file__).resolve().parents[2]
SERVICES = ("kehadiran", "tugas", "penilaian", "notifikasi")
OVERLAYS = ("single-agency", "regency", "province", "nation")
# agencies (topic prefixes, namespaces of services) each overlay deploys
AGENCIES = {"single-agency": 1, "regency": 2, "province": 1, "nation": 1}


@pytest.fixture(scope="session")
def repo() -> Path:
    return REPO


def console_scripts(pyproject: Path) -> dict[str, str]:
    return tomllib.loads(pyproject.read_text())["project"].get("scripts", {})


def image_commands(service: str) -> set[str]:
    """What a container of ``service``'s image can run by name: its console scripts, shared's
    (``kinerja``) and gunicorn's (a dependency of every service)."""
    return (set(console_scripts(REPO / "services" / service / "pyproject.toml"))
            | set(console_scripts(REPO / "shared" / "pyproject.toml")) | {"gunicorn"})


def module_exists(module: str) -> bool:
    """``python -m module`` works in the image: the module's file is in shared's or a service's src."""
    parts = module.split(".")
    roots = [REPO / "shared" / "src"] + [REPO / "services" / s / "src" for s in SERVICES]
    return any((root.joinpath(*parts).with_suffix(".py")).is_file()
               or (root.joinpath(*parts) / "__main__.py").is_file() for root in roots)


def kustomize_binary() -> str | None:
    for candidate in (os.environ.get("KUSTOMIZE"), str(Path(sys.prefix) / "bin" / "kustomize"),
                      shutil.which("kustomize")):
        if candidate and Path(candidate).is_file() and os.access(candidate, os.X_OK):
            return candidate
    return None


def load_yaml_docs(text: str) -> list[dict]:
    return [d for d in yaml.safe_load_all(text) if d]


@pytest.fixture(scope="session")
def rendered() -> dict[str, list[dict]]:
    """Each overlay rendered by kustomize: {overlay: [documents]}."""
    binary = kustomize_binary()
    if binary is None:
        pytest.skip("kustomize is not installed: `make kustomize` installs it (go install "
                    "sigs.k8s.io/kustomize/kustomize/v5) into the virtualenv")
    out = {}
    for overlay in OVERLAYS:
        proc = subprocess.run([binary, "build", str(REPO / "deploy" / "k8s" / "overlays" / overlay)],
                              capture_output=True, text=True, timeout=120)
        assert proc.returncode == 0, f"kustomize build {overlay} failed:\n{proc.stderr}"
        out[overlay] = load_yaml_docs(proc.stdout)
    return out


@pytest.fixture(scope="session")
def deploy_helpers():
    """This module's helpers, for tests (conftest modules are not importable by name)."""
    return sys.modules[__name__]
