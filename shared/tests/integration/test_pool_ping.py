"""The pool pings a PostgreSQL connection only when it has sat idle (``kinerja.db.ping_after_idle``):
a connection in steady use costs no extra round trip, and one the server dropped while it was
idle (a restart, a failover, an idle timeout) is replaced before the caller sees it."""
from __future__ import annotations

import time

import pytest
from sqlalchemy import create_engine, text

from kinerja.db import make_engine, normalise_url
from kinerja.testing import wait_until

pytestmark = pytest.mark.integration

IDLE_S = 0.3


@pytest.fixture
def engine(postgres_url):
    engine = make_engine(postgres_url, pool_size=2, ping_idle_s=IDLE_S)
    pings: list[float] = []
    ping = engine.dialect.do_ping

    def counted(dbapi_conn):
        pings.append(time.monotonic())
        return ping(dbapi_conn)

    engine.dialect.do_ping = counted  # type: ignore[method-assign]
    engine.pings = pings  # type: ignore[attr-defined]
    yield engine
    engine.dispose()


def backend_pid(engine) -> int:
    with engine.connect() as conn:
        return conn.execute(text("SELECT pg_backend_pid()")).scalar_one()


def test_a_connection_in_steady_use_is_not_pinged(engine):
    first = backend_pid(engine)  # a new connection: nothing to ping
    for _ in range(5):
        assert backend_pid(engine) == first  # back from the pool within the idle window
    assert engine.pings == []


def test_connections_the_server_dropped_while_idle_are_replaced_transparently(engine, postgres_url):
    with engine.connect() as a, engine.connect() as b:  # two pooled connections
        pids = {a.execute(text("SELECT pg_backend_pid()")).scalar_one(),
                b.execute(text("SELECT pg_backend_pid()")).scalar_one()}
    idle_from = time.monotonic()
    admin = create_engine(normalise_url(postgres_url), isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            for pid in pids:
                assert conn.execute(text("SELECT pg_terminate_backend(:p)"), {"p": pid}).scalar_one()
            wait_until(lambda: not conn.execute(text("SELECT count(*) FROM pg_stat_activity WHERE pid = ANY(:p)"),
                                                {"p": list(pids)}).scalar_one(), timeout_s=30,
                       message="the backends ended")
    finally:
        admin.dispose()
    wait_until(lambda: time.monotonic() - idle_from >= IDLE_S, timeout_s=30, message="the pool's connections idle")

    # both pooled connections are dead: the first checkout's ping finds it out and the caller gets
    # a new connection; the other one, pooled before, is dropped with it, not handed out dead
    with engine.connect() as a, engine.connect() as b:
        new = {a.execute(text("SELECT pg_backend_pid()")).scalar_one(),
               b.execute(text("SELECT pg_backend_pid()")).scalar_one()}
    assert len(engine.pings) == 1
    assert not new & pids and len(new) == 2
