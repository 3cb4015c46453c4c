"""A pool keeps as many connections as a web worker has threads (``kinerja.db.POOL_SIZE``): a
burst of requests that each hold a connection at once finds them again in the next burst, instead
of the pool closing every one beyond five at its return and opening it anew (on PostgreSQL a
server process forked and the request's statements prepared again, every dozen requests)."""
from __future__ import annotations

import threading

import pytest
from sqlalchemy import event, text

from kinerja.db import POOL_SIZE, make_engine, pool_size_setting, read_only

pytestmark = pytest.mark.integration

THREADS = 12  # a busy gunicorn worker's threads, each serving a request
HOLD_S = 30.0  # how long a thread waits for the others to hold theirs (a broken burst fails the test)


def bursts(engine, rounds: int) -> int:
    """``rounds`` bursts of ``THREADS`` connections held at once; the connections opened.

    The requests only read: on SQLite a writer's transaction takes its process's write turn at
    BEGIN (``kinerja.sqlite_locking``), so writers would hold their connections one after the
    other, never at once; a read-only one takes no lock (elsewhere the option means nothing).
    A thread whose burst did not come together (the barrier broke or timed out) fails the test."""
    opened: list[int] = []
    event.listen(engine, "connect", lambda *_: opened.append(1))
    reader = read_only(engine)
    for burst in range(rounds):
        held = threading.Barrier(THREADS)
        failures: list[BaseException] = []

        def request() -> None:
            try:
                with reader.connect() as conn:
                    conn.execute(text("SELECT 1"))
                    held.wait(timeout=HOLD_S)  # every thread holds its connection at the same time
            except BaseException as exc:  # noqa: BLE001 - reported by the test's thread below
                failures.append(exc)

        threads = [threading.Thread(target=request) for _ in range(THREADS)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(2 * HOLD_S)
        assert not any(t.is_alive() for t in threads), f"burst {burst}: a request never finished"
        assert not failures, f"burst {burst}: the connections were not held at once: {failures!r}"
    return len(opened)


def test_connections_of_a_burst_are_kept_for_the_next(database_url):
    engine = make_engine(database_url)
    try:
        assert bursts(engine, 3) == THREADS
    finally:
        engine.dispose()


def test_the_pool_size_setting(monkeypatch):
    monkeypatch.delenv("KINERJA_DB_POOL_SIZE", raising=False)
    assert pool_size_setting() == POOL_SIZE >= 16
    monkeypatch.setenv("KINERJA_DB_POOL_SIZE", "64")
    assert pool_size_setting() == 64
    for bad in ("0", "many"):
        monkeypatch.setenv("KINERJA_DB_POOL_SIZE", bad)
        with pytest.raises(ValueError, match="KINERJA_DB_POOL_SIZE"):
            pool_size_setting()
