"""A test's empty database brought to a service's newest revision by copying, not by running the
service's Alembic history again: the session's first such upgrade runs Alembic for real into a
template (a PostgreSQL database on the same server, an SQLite file), and every later upgrade of an
empty database to the same revision of the same history is a copy of that template. Alembic's
run costs 0.3–1 s a test on PostgreSQL and 0.1–0.4 s on SQLite (loaded machine), over a thousand
tests a session; a copy is ~0.1–0.2 s and ~1 ms. The schema is the one Alembic makes (the template is
Alembic's own result, ``alembic_version`` included), so what a test proves does not change.

Anything but that case goes to Alembic as before: a database that already holds a table (a test of
a migration over older data, an upgrade from a given revision), one another connection holds
open, an in-memory or unnamed SQLite database. The plugin (``-p kinerja.testing``) puts
:func:`upgrade` in the place of ``kinerja.migrations.upgrade`` for the test session only; the
services' processes a test starts (``kinerja.stack``) migrate with Alembic."""
from __future__ import annotations

import os
import shutil
import tempfile
import uuid
from pathlib import Path

from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError

from kinerja import migrations
from kinerja.db import normalise_url

_alembic_upgrade = migrations.upgrade
# (history folder, revision, server or "sqlite") -> template database name / file
_templates: dict[tuple[str, str, str], str] = {}
_folder: list[Path] = []  # where the SQLite templates live, made on first use


def upgrade(script_location: Path, database_url: str, revision: str = "head") -> None:
    url = make_url(normalise_url(database_url))
    history = str(migrations.migrations_dir(script_location).resolve())
    backend = url.get_backend_name()
    copied = False
    if backend == "sqlite":
        copied = _sqlite_copy(script_location, history, revision, url)
    elif backend == "postgresql":
        copied = _postgres_copy(script_location, history, revision, url)
    if not copied:
        _alembic_upgrade(script_location, database_url, revision)


def install() -> None:
    migrations.upgrade = upgrade


def uninstall() -> None:
    migrations.upgrade = _alembic_upgrade
    for folder in _folder:
        shutil.rmtree(folder, ignore_errors=True)
    _folder.clear()
    _templates.clear()


# -- SQLite: a file ------------------------------------------------------------------------------
def _sqlite_copy(script_location: Path, history: str, revision: str, url) -> bool:
    path = url.database
    if not path or path == ":memory:" or url.query or os.path.exists(path):
        return False  # nothing to copy onto, or something is there already: Alembic decides
    key = (history, revision, "sqlite")
    template = _templates.get(key)
    if template is None:
        if not _folder:
            _folder.append(Path(tempfile.mkdtemp(prefix="kinerja-test-templates-")))
        template = str(_folder[0] / f"{uuid.uuid4().hex}.db")
        _alembic_upgrade(script_location, f"sqlite:///{template}", revision)
        if any(os.path.exists(template + tail) for tail in ("-wal", "-journal")):
            return False  # not closed cleanly: the file alone would not be the whole database
        _templates[key] = template
    shutil.copyfile(template, path)
    return True


# -- PostgreSQL: a database made from a template --------------------------------------------------
def _postgres_copy(script_location: Path, history: str, revision: str, url) -> bool:
    name = url.database
    if not name or url.query:
        return False
    server = url.set(database="postgres")
    key = (history, revision, server.render_as_string(hide_password=False))
    if not _empty(url):
        return False
    admin = create_engine(server, isolation_level="AUTOCOMMIT")
    try:
        try:
            conn = admin.connect()
        except DBAPIError:
            return False  # no maintenance database named "postgres" to work from: Alembic it is
        with conn:
            template = _templates.get(key)
            if template is None:
                template = "tmpl_" + uuid.uuid4().hex[:12]
                conn.execute(text(f'CREATE DATABASE "{template}"'))
                _alembic_upgrade(script_location, url.set(database=template).render_as_string(hide_password=False),
                                 revision)
                _templates[key] = template
            try:
                conn.execute(text(f'DROP DATABASE "{name}"'))
            except DBAPIError:
                return False  # another connection holds it open: leave it to Alembic
            # FILE_COPY (PostgreSQL 15+): the template's files copied as they are, half the time of
            # the default WAL_LOG, which writes each block of it to the WAL (a test's server
            # runs with fsync off, so FILE_COPY's checkpoints are cheap)
            strategy = " STRATEGY FILE_COPY" if conn.dialect.server_version_info >= (15,) else ""
            try:
                conn.execute(text(f'CREATE DATABASE "{name}" TEMPLATE "{template}"{strategy}'))
            except DBAPIError:
                conn.execute(text(f'CREATE DATABASE "{name}"'))  # empty again, as the test had it
                return False
    finally:
        admin.dispose()
    return True


def _empty(url) -> bool:
    """No relation, type or function of ours in the database yet (what ``CREATE DATABASE`` makes)."""
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            return not conn.execute(text(
                "SELECT EXISTS (SELECT 1 FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
                "WHERE n.nspname NOT IN ('pg_catalog', 'information_schema', 'pg_toast')) "
                "OR EXISTS (SELECT 1 FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace "
                "WHERE n.nspname NOT IN ('pg_catalog', 'information_schema')) "
                "OR EXISTS (SELECT 1 FROM pg_namespace WHERE nspname NOT IN ('pg_catalog', 'information_schema', "
                "'public', 'pg_toast') AND nspname NOT LIKE 'pg_temp%' AND nspname NOT LIKE 'pg_toast_temp%')"
            )).scalar()
    finally:
        engine.dispose()
