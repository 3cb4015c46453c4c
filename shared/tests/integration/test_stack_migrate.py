"""A stack migrates every service it runs in one Python process (``Stack.migrate``): each service's
database, the one its settings name, brought to that service's newest revision, and only the
services of the stack touched."""
from __future__ import annotations

import importlib

import pytest
from alembic.script import ScriptDirectory
from sqlalchemy import create_engine, inspect, text

from kinerja.migrations import alembic_config
from kinerja.stack import Stack

pytestmark = pytest.mark.integration


def head(service: str) -> str:
    folder = importlib.import_module(f"{service}.entrypoints.migrate").MIGRATIONS
    return ScriptDirectory.from_config(alembic_config(folder, "sqlite://")).get_current_head()


def version(path) -> list:
    engine = create_engine(f"sqlite:///{path}")
    try:
        if "alembic_version" not in inspect(engine).get_table_names():
            return []
        with engine.connect() as conn:
            return [r[0] for r in conn.execute(text("SELECT version_num FROM alembic_version"))]
    finally:
        engine.dispose()


def test_each_service_of_the_stack_is_at_its_head_and_no_other_is_touched(tmp_path):
    urls = {svc: f"sqlite:///{tmp_path / svc}.db" for svc in ("kehadiran", "tugas", "penilaian", "notifikasi")}
    stack = Stack(var_dir=tmp_path / "var", kafka_bootstrap="127.0.0.1:1", database_urls=urls,
                  services=("kehadiran", "penilaian", "notifikasi"))
    stack.migrate()
    assert {svc: version(tmp_path / f"{svc}.db") for svc in urls} == {
        "kehadiran": [head("kehadiran")], "penilaian": [head("penilaian")], "notifikasi": [head("notifikasi")],
        "tugas": []}
