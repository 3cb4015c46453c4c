"""What wakes an idle day worker when markers commit, instead of a fixed sleep.

- PostgreSQL: ``LISTEN kehadiran_dirty`` on a connection of its own (the markers' insert trigger
  notifies at commit), in a thread that sets an event; with several worker processes only the one
  whose listener holds the waker's lock (a session advisory lock: the next takes it over when that
  connection ends) listens there. The others listen for ``kehadiran_days_backlog`` only, which a
  round that left markers it could have taken sends (``markers.cue_helpers``): every process woke
  for every punch's marker, and all but one found nothing (a round each, and another 20 ms later
  while the first still held the marker: ``DayWorker.run``), so at a trickle each punch cost a
  round per process; a backlog, as an upload makes, still has every process on it.
- SQLite: ``PRAGMA data_version`` on a connection of its own, read every ``poll_s`` (10 ms): it
  changes when another connection commits, and reading it touches no table and takes no lock.

Either way the worker also looks by itself every second, should a wake-up be missed.
"""
from __future__ import annotations

import logging
import sqlite3
import threading

from sqlalchemy import Engine

from kehadiran.adapters.markers import BACKLOG_CHANNEL, NOTIFY_CHANNEL

log = logging.getLogger(__name__)


class Waker:
    def __init__(self, wake: threading.Event):
        self.wake = wake
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._run, name=type(self).__name__, daemon=True)

    def start(self) -> "Waker":
        self.thread.start()
        return self

    def _run(self) -> None:
        raise NotImplementedError

    def close(self) -> None:
        self.stop.set()
        self.thread.join(5)


# the lock whose holder's process is woken by every marker (session-level, on the listener's connection)
_TAKE_LEAD = "SELECT pg_try_advisory_lock(hashtextextended('kehadiran.day-waker', 0))"


class PgWaker(Waker):
    def __init__(self, engine: Engine, wake: threading.Event, *, poll_s: float = 0.5):
        super().__init__(wake)
        self.dsn = engine.url.set(drivername="postgresql").render_as_string(hide_password=False)
        self.poll_s = poll_s  # how often a process without the lead tries to take it
        self.leads = False

    def _run(self) -> None:
        import psycopg

        backoff = 0.5
        while not self.stop.is_set():
            try:
                with psycopg.connect(self.dsn, autocommit=True, connect_timeout=10) as conn:
                    self.leads = False
                    conn.execute(f"LISTEN {BACKLOG_CHANNEL}")
                    self._lead(conn)
                    self.wake.set()  # anything committed before LISTEN is found by the next round
                    backoff = 0.5
                    while not self.stop.is_set():
                        for _ in conn.notifies(timeout=self.poll_s, stop_after=1):
                            self.wake.set()
                        if not self.leads and self._lead(conn):
                            self.wake.set()  # the markers committed while the last leader was going
            except Exception as exc:  # noqa: BLE001 - the worker's own poll covers until we are back
                self.leads = False
                log.debug("day worker listener reconnecting", extra={"error": repr(exc)[:300]})
                self.stop.wait(backoff)
                backoff = min(backoff * 2, 5.0)

    def _lead(self, conn) -> bool:
        """Take the lead if nobody has it; the leader listens for every marker too."""
        if conn.execute(_TAKE_LEAD).fetchone()[0]:
            conn.execute(f"LISTEN {NOTIFY_CHANNEL}")
            self.leads = True
        return self.leads


class SqliteWaker(Waker):
    def __init__(self, path: str, wake: threading.Event, poll_s: float = 0.01):
        super().__init__(wake)
        self.path = path
        self.poll_s = poll_s

    def _run(self) -> None:
        conn = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False, timeout=30)
        try:
            seen = None
            while not self.stop.is_set():
                try:
                    version = conn.execute("PRAGMA data_version").fetchone()[0]
                except sqlite3.Error:
                    version = None
                if version != seen:
                    seen = version
                    self.wake.set()
                self.stop.wait(self.poll_s)
        finally:
            conn.close()


def waker_for(engine: Engine, wake: threading.Event) -> Waker | None:
    if engine.dialect.name == "postgresql":
        return PgWaker(engine, wake).start()
    database = engine.url.database
    if engine.dialect.name == "sqlite" and database and database != ":memory:":
        return SqliteWaker(database, wake).start()
    return None
