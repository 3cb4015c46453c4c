"""One fixture world per service for the whole security session, on SQLite (the attacks change
nothing, and the tests check that they do not)."""
from __future__ import annotations

import pytest

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

    def get(service: str):
        key = (module, service)
        if key not in worlds:
            tmp = tmp_path_factory.mktemp(f"sec-{service}")
            worlds[key] = build(service, f"sqlite:///{tmp / 'db.sqlite'}", tmp, max_body_bytes=MAX_BODY)
        return worlds[key]

    return get


@pytest.fixture(params=SERVICES)
def world(request, world_of):
    return world_of(request.param)
