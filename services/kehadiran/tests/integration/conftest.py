"""The app most of kehadiran's request tests start from: a migrated database (SQLite and
PostgreSQL), the Flask app with a broker that never answers (these tests read rows, not topics),
and one terminal with its roster. A module names its own terminal and staff as module constants
(``SN``, ``AGENCY``, ``OPERATOR``, ``STAFF``); a module that needs something else keeps an ``app``
fixture of its own, which takes the place of this one. ``sqlite_app`` is the same app on SQLite
alone, for the tests of SQLite's write lock."""
from __future__ import annotations

from collections.abc import Iterator

import pytest

from kehadiran.entrypoints.app import create_app
from kehadiran.entrypoints.migrate import main as migrate
from kinerja.webapp import runtime_of
from kinerja_testkit.kehadiran import device_and_roster


def _app(url: str, module) -> Iterator:
    migrate(url)
    app = create_app({"database_url": url, "kafka_bootstrap": "127.0.0.1:1"})
    device_and_roster(app, module.STAFF, sn=module.SN, agency=module.AGENCY, operator=module.OPERATOR)
    yield app
    runtime_of(app).dispose()


@pytest.fixture
def app(database_url, request):
    yield from _app(database_url, request.module)


@pytest.fixture
def sqlite_app(sqlite_url, request):
    yield from _app(sqlite_url, request.module)
