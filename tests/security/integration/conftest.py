"""One fixture world per service and test module for the whole security session, on SQLite, and on
PostgreSQL too for the modules that ask for ``db_kind`` (the authorisation matrix)."""
from __future__ import annotations

import pytest

from kinerja.testing import create_postgres_database

from .world import SERVICES, build

MAX_BODY = 4096


@pytest.fixture(scope="session")
def worlds(tmp_path_factory):
    built = {}
    yield built
    for world in built.values():
        world.runtime.dispose()


@pytest.fixture
def world_of(worlds, tmp_path_factory, request):
    """The world of a service, one per test module: a module whose requests may succeed (bodies,
    schemathesis) cannot disturb the state another module's attacks aim at."""
    module = request.module.__name__.rpartition(".")[2]
    # a module that asks for ``db_kind`` runs on SQLite and on PostgreSQL
    kind = request.getfixturevalue("db_kind") if "db_kind" in request.fixturenames else "sqlite"

    def get(service: str):
        key = (module, service, kind)
        if key not in worlds:
            tmp = tmp_path_factory.mktemp(f"sec-{service}")
            url = (create_postgres_database(request.getfixturevalue("postgres_server")) if kind == "postgresql"
                   else f"sqlite:///{tmp / 'db.sqlite'}")
            # a module may want room for larger bodies (``MAX_BODY`` of its own)
            worlds[key] = build(service, url, tmp, max_body_bytes=getattr(request.module, "MAX_BODY", MAX_BODY))
        return worlds[key]

    return get


@pytest.fixture(params=SERVICES)
def world(request, world_of):
    return world_of(request.param)
