"""A terminal's punch uploads served straight to kehadiran's WSGI app, and the statements SQLite
runs for them: what the tests of the write lock a punch request holds on SQLite share (they count
the statements between BEGIN IMMEDIATE and COMMIT, they do not time them)."""
from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta

from sqlalchemy import event, text
from werkzeug.test import EnvironBuilder

from kinerja.webapp import runtime_of

# what a punch request's write transaction holds on SQLite, and nothing else (the device's contact,
# when due, last)
PUNCH_INSERTS = ["INSERT INTO punches", "INSERT INTO outbox", "INSERT INTO dirty_days"]


def json_env(pins: list[str], when: datetime, *, headers: dict) -> dict:
    """A JSON batch, one punch a PIN a second apart from ``when`` (WIB), sent with ``headers`` (a
    device's token)."""
    body = {"punches": [{"pin": pin, "time": (when + timedelta(seconds=k)).isoformat() + "+07:00"}
                        for k, pin in enumerate(pins)]}
    env = EnvironBuilder(path="/api/v1/punches", method="POST", headers=headers, json=body).get_environ()
    env["REMOTE_ADDR"] = "127.0.0.1"
    return env


def adms_env(pins: list[str], when: datetime, *, sn: str) -> dict:
    """An ATTLOG upload of device ``sn``, one line a PIN a second apart from ``when`` (its local time)."""
    body = "".join(f"{pin}\t{when + timedelta(seconds=k):%Y-%m-%d %H:%M:%S}\t0\t1\t0\t0\t0\n"
                   for k, pin in enumerate(pins)).encode()
    env = EnvironBuilder(path="/iclock/cdata", query_string=f"SN={sn}&table=ATTLOG&Stamp=9", method="POST",
                         data=body, content_type="text/plain").get_environ()
    env["REMOTE_ADDR"] = "127.0.0.1"
    return env


def serve(app, env) -> tuple[str, bytes]:
    """``env`` served by ``app`` in this thread: (status line, body)."""
    status: list[str] = []
    body = b"".join(app(env, lambda s, _h, _e=None: status.append(s)))
    return status[0], body


@contextmanager
def traced_statements(engine) -> Iterator[list[str]]:
    """Every statement SQLite runs on ``engine``'s connections while inside, in order (the pooled
    connections, opened untraced, are closed first)."""
    statements: list[str] = []

    def trace(dbapi_conn, _record):
        dbapi_conn.set_trace_callback(statements.append)

    event.listen(engine, "connect", trace)
    engine.dispose()
    try:
        yield statements
    finally:
        event.remove(engine, "connect", trace)


def under_lock(statements: list[str]) -> list[list[str]]:
    """The statements of each write transaction (BEGIN IMMEDIATE to COMMIT or ROLLBACK), by their
    first three words."""
    held, current = [], None
    for s in statements:
        s = " ".join(s.split())
        if s.startswith("BEGIN IMMEDIATE"):
            current = []
        elif s in ("COMMIT", "ROLLBACK") and current is not None:
            held.append(current)
            current = None
        elif current is not None:
            current.append(" ".join(s.split()[:3]))
    return held


def scalar(app, sql: str):
    """The one value ``sql`` selects from the app's database."""
    with runtime_of(app).engine.connect() as c:
        return c.execute(text(sql)).scalar_one()
