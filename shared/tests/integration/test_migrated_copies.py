"""The tests' databases are migrated by copying the session's first Alembic run
(:mod:`kinerja.testing.migrated`): a copy must be the schema Alembic makes, to the column, index,
constraint, trigger and function, on SQLite and PostgreSQL; a second empty database must be a copy
(Alembic not run again); and a database that already holds tables must go through Alembic."""
from __future__ import annotations

import importlib

import pytest
from sqlalchemy import create_engine, inspect, text
from sqlalchemy.sql import ClauseElement

from kinerja import migrations
from kinerja.db import normalise_url
from kinerja.testing import create_postgres_database, migrated

pytestmark = pytest.mark.integration
SERVICES = ("kehadiran", "penilaian", "notifikasi", "tugas")


def another(database_url: str, tmp_path, name: str) -> str:
    if database_url.startswith("sqlite"):
        return f"sqlite:///{tmp_path / name}"
    return create_postgres_database(database_url.rsplit("/", 1)[0] + "/postgres")


def plain(value):
    """``value`` with SQL expressions as their text: SQLite reflects a partial index's WHERE as a
    clause object, whose repr is its address (two reflections of one schema would differ)."""
    if isinstance(value, dict):
        return {k: plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return type(value)(plain(v) for v in value)
    return str(value) if isinstance(value, ClauseElement) else value


def listed(items) -> list[str]:
    return sorted(repr(plain(item)) for item in items)


def schema(url: str) -> dict:
    """Everything a migration makes that a test could touch, as plain data."""
    engine = create_engine(normalise_url(url))
    try:
        insp = inspect(engine)
        out = {}
        for table in sorted(insp.get_table_names()):
            out[table] = (
                [(c["name"], str(c["type"]), c["nullable"], str(c.get("default"))) for c in insp.get_columns(table)],
                insp.get_pk_constraint(table),
                listed(insp.get_indexes(table)),
                listed(insp.get_unique_constraints(table)),
                listed(insp.get_foreign_keys(table)),
                listed(insp.get_check_constraints(table)),
            )
        with engine.connect() as conn:
            out["alembic_version"] = conn.execute(text("SELECT version_num FROM alembic_version")).all()
            if engine.dialect.name == "sqlite":
                out["sqlite_master"] = conn.execute(text(
                    "SELECT type, name, tbl_name, sql FROM sqlite_master ORDER BY type, name")).all()
            else:
                out["triggers"] = conn.execute(text(
                    "SELECT tgname, tgrelid::regclass::text, pg_get_triggerdef(oid) FROM pg_trigger "
                    "WHERE NOT tgisinternal ORDER BY 1, 2")).all()
                out["functions"] = conn.execute(text(
                    "SELECT p.proname, pg_get_functiondef(p.oid) FROM pg_proc p JOIN pg_namespace n "
                    "ON n.oid = p.pronamespace WHERE n.nspname = 'public' ORDER BY 1")).all()
                out["sequences"] = conn.execute(text(
                    "SELECT sequencename, last_value FROM pg_sequences ORDER BY 1")).all()
        return out
    finally:
        engine.dispose()


@pytest.mark.parametrize("service", SERVICES)
def test_a_copy_is_the_schema_alembic_makes_and_alembic_runs_once(service, database_url, tmp_path, monkeypatch):
    mod = importlib.import_module(f"{service}.entrypoints.migrate")
    assert migrations.upgrade is migrated.upgrade  # the plugin put it there for the session
    alembic_only, first, second = database_url, another(database_url, tmp_path, "a.db"), another(
        database_url, tmp_path, "b.db")
    migrated._alembic_upgrade(mod.MIGRATIONS, alembic_only, "head")  # Alembic itself, no template
    runs = []
    real = migrated._alembic_upgrade
    monkeypatch.setattr(migrated, "_alembic_upgrade", lambda *a: (runs.append(a), real(*a)))
    monkeypatch.setattr(migrated, "_templates", {})  # this test's own template, made below
    mod.main(first)
    mod.main(second)
    assert len(runs) == 1  # the template; both databases are copies of it
    want = schema(alembic_only)
    assert want and schema(first) == want and schema(second) == want


def test_a_database_with_tables_already_goes_through_alembic(database_url, monkeypatch):
    from penilaian.entrypoints import migrate
    engine = create_engine(normalise_url(database_url))
    with engine.begin() as conn:
        conn.execute(text("CREATE TABLE left_by_the_test (x integer)"))
    engine.dispose()
    runs = []
    real = migrated._alembic_upgrade
    monkeypatch.setattr(migrated, "_alembic_upgrade", lambda *a: (runs.append(a[1]), real(*a)))
    migrate.main(database_url)
    assert runs == [database_url]  # migrated in place: nothing dropped, nothing copied over it
    engine = create_engine(normalise_url(database_url))
    tables = inspect(engine).get_table_names()
    engine.dispose()
    assert "left_by_the_test" in tables and "alembic_version" in tables
