"""Fixtures of notifikasi's tests: a migrated database, a writer, the app on a real HTTP server."""
from __future__ import annotations

from typing import Iterator

import pytest

from kinerja.config import load_settings
from kinerja.webapp import runtime_of
from kinerja_testkit.notifikasi import Server, Writer, serve
from notifikasi.entrypoints import migrate
from notifikasi.entrypoints.app import create_app
from notifikasi.entrypoints.runtime import make_runtime


@pytest.fixture
def migrated(database_url: str) -> str:
    migrate.main(database_url)
    return database_url


@pytest.fixture
def writer(migrated: str) -> Iterator["Writer"]:
    """Applies events as the consumer process does, in its own runtime (its own engine)."""
    runtime = make_runtime(load_settings("notifikasi", {"database_url": migrated}))
    yield Writer(runtime)
    runtime.dispose()


@pytest.fixture
def server(migrated: str) -> Iterator[Server]:
    # the webhook receivers of these tests listen on 127.0.0.1: allowed as an operator allows an
    # on-premise receiver (NOTIFIKASI_WEBHOOK_ALLOW), since loopback is refused by default
    app = create_app({"database_url": migrated, "kafka_bootstrap": "127.0.0.1:9",
                      "sse_heartbeat_s": 0.2, "sse_poll_s": 0.05, "webhook_allow": "127.0.0.1/32"})
    srv, thread = serve(app)
    yield Server(f"http://127.0.0.1:{srv.server_port}", app)
    runtime_of(app).tailer.stop()
    srv.shutdown()
    thread.join(10)
    runtime_of(app).dispose()
