"""Waking a process when another one has committed rows for it, instead of having it poll.

- PostgreSQL: a trigger sends ``NOTIFY <channel>`` and ``PgListener`` (``LISTEN`` on a connection of
  its own, in a thread) sets an event. The notification is delivered when the writing transaction
  commits, and one per channel and transaction however many statements ran.
- SQLite has no notifications, and the writer and the waiters are different processes (a
  consumer writes, gunicorn workers wait). ``LocalWakeup`` gives them a directory of datagram
  sockets, one per waiter, named after the database file and the channel: a waiter binds its
  socket and sleeps in ``recv``; the writer, after its commit, sends one byte to each socket there
  (a directory listing and a ``sendto`` per waiter, some microseconds). Idle, nobody runs anything.
  A waiter that died leaves a socket nobody reads: the next signal removes it.

``announce_inserts`` makes any SQLite engine such a writer for the tables it is told of: a
transaction that inserted into one of them signals that table's channel once it has committed (the
outbox's channel for every engine ``kinerja.db.make_engine`` makes, so the relays sleep until an
outbox row commits instead of polling every 50 ms). Statements run on the driver's own cursor pass by
SQLAlchemy's events: they say what they inserted with ``note_insert``.

Either way the waiter still looks now and then on its own (a notification lost while the listener
reconnected, a writer that does not signal), only much less often than a poll would.
"""
from __future__ import annotations

import errno
import hashlib
import logging
import os
import re
import socket
import tempfile
import threading
import uuid
from pathlib import Path
from typing import Protocol

from sqlalchemy import Connection, Engine, event

log = logging.getLogger(__name__)

OUTBOX_CHANNEL = "kinerja_outbox"  # the outbox's inserts (``kinerja.messaging.outbox``'s trigger)
_INSERT_INTO = re.compile(r'\s*INSERT\s+(?:OR\s+\w+\s+)?INTO\s+"?(\w+)"?', re.IGNORECASE)
_INSERTED = "kinerja.wakeup.inserted"  # tables a connection's open transaction inserted into
_COMMITTED = "kinerja.wakeup.committed"  # ... and that transaction has committed: signal them


class Listener(Protocol):
    connected: threading.Event  # set while it can wake the waiter
    stop: threading.Event  # set: it ends soon (``close`` also waits for its thread)

    def close(self) -> None: ...


class PgListener:
    """``LISTEN <channel>`` on a connection of its own, in a thread that sets ``wake``."""

    def __init__(self, engine: Engine, wake: threading.Event, channel: str):
        self.url = engine.url
        self.wake = wake
        self.channel = channel
        self.stop = threading.Event()
        self.connected = threading.Event()
        self.thread = threading.Thread(target=self._run, name=f"listen-{channel}", daemon=True)

    def start(self) -> "PgListener":
        self.thread.start()
        return self

    def _run(self) -> None:
        import psycopg

        dsn = self.url.set(drivername="postgresql").render_as_string(hide_password=False)
        backoff = 0.5
        while not self.stop.is_set():
            try:
                with psycopg.connect(dsn, autocommit=True, connect_timeout=10) as conn:
                    conn.execute(f"LISTEN {self.channel}")
                    self.connected.set()
                    self.wake.set()  # anything committed before LISTEN is found by the next read
                    backoff = 0.5
                    while not self.stop.is_set():
                        for _ in conn.notifies(timeout=0.5, stop_after=1):
                            self.wake.set()
            except Exception as exc:  # noqa: BLE001 - the waiter's own look covers until we are back
                self.connected.clear()
                log.debug("listener reconnecting", extra={"channel": self.channel, "error": repr(exc)[:300]})
                self.stop.wait(backoff)
                backoff = min(backoff * 2, 5.0)
        self.connected.clear()

    def close(self) -> None:
        self.stop.set()
        self.thread.join(5)


class LocalWakeup:
    """The waiters of one (SQLite file, channel) on this machine: ``listen`` to be woken,
    ``signal`` to wake them all. ``available`` is False where no private socket directory can be
    had (the caller then polls)."""

    def __init__(self, key: str, *, create: bool = True):
        digest = hashlib.sha256(key.encode()).hexdigest()[:16]
        self.directory = Path(tempfile.gettempdir()) / f"kinerja-wake-{os.getuid()}-{digest}"
        # a writer that only signals (``create`` False) leaves no directory behind: the first
        # waiter makes it, and each signal checks whose it is
        self.checked = create
        self.available = self._prepare() if create else len(str(self.directory)) <= 80

    def _prepare(self) -> bool:
        try:
            self.directory.mkdir(mode=0o700, exist_ok=True)
            st = self.directory.stat()
        except OSError as exc:
            log.warning("no wake-up directory; polling instead", extra={"dir": str(self.directory), "error": repr(exc)})
            return False
        # another user's directory (or a path too long for a socket address) is not ours to use
        if st.st_uid != os.getuid() or len(str(self.directory)) > 80:
            log.warning("wake-up directory unusable; polling instead", extra={"dir": str(self.directory)})
            return False
        return True

    def signal(self) -> int:
        """Wake every waiter; how many were reached."""
        if not self.available:
            return 0
        reached = 0
        with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as sock:
            sock.setblocking(False)
            try:
                if not self.checked and os.stat(self.directory).st_uid != os.getuid():
                    return 0  # another user's directory is not ours to use
                names = os.listdir(self.directory)
            except OSError:
                return 0  # no waiter has made it yet
            for name in names:
                if not name.endswith(".sock"):
                    continue
                path = self.directory / name
                try:
                    sock.sendto(b"!", str(path))
                    reached += 1
                except BlockingIOError:
                    reached += 1  # its queue is full of wake-ups it has not read: it is awake anyway
                except OSError as exc:
                    if exc.errno in (errno.ECONNREFUSED, errno.ENOENT):
                        path.unlink(missing_ok=True)  # its process is gone
        return reached

    def listen(self, wake: threading.Event) -> "LocalListener":
        return LocalListener(self, wake).start()


class LocalListener:
    """A waiter's socket in the wake-up directory and the thread that sets ``wake`` on a datagram."""

    def __init__(self, wakeup: LocalWakeup, wake: threading.Event):
        self.wakeup = wakeup
        self.path = wakeup.directory / f"{os.getpid()}-{uuid.uuid4().hex[:8]}.sock"
        self.wake = wake
        self.stop = threading.Event()
        self.connected = threading.Event()
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.thread = threading.Thread(target=self._run, name="wakeup-listener", daemon=True)

    def start(self) -> "LocalListener":
        try:
            self.sock.bind(str(self.path))
        except FileNotFoundError:  # the last waiter removed the directory just now
            self.wakeup.directory.mkdir(mode=0o700, exist_ok=True)
            self.sock.bind(str(self.path))
        self.sock.settimeout(0.5)  # to notice ``close``
        self.connected.set()
        self.wake.set()  # anything committed before the bind is found by the next read
        self.thread.start()
        return self

    def _run(self) -> None:
        while not self.stop.is_set():
            try:
                self.sock.recv(64)
            except socket.timeout:
                continue
            except OSError:
                break
            self.wake.set()
        self.connected.clear()

    def close(self) -> None:
        self.stop.set()
        self.thread.join(5)
        self.sock.close()
        self.path.unlink(missing_ok=True)
        try:
            self.path.parent.rmdir()  # the last waiter of a name leaves no directory behind
        except OSError:
            pass  # others still wait there


def sqlite_file(engine: Engine) -> str | None:
    """The absolute path of a SQLite engine's database file (None: not SQLite, or in memory)."""
    if engine.dialect.name != "sqlite" or not engine.url.database or engine.url.database == ":memory:":
        return None
    return str(Path(engine.url.database).resolve())


def local_wakeup(engine: Engine, channel: str) -> LocalWakeup | None:
    """The ``LocalWakeup`` of ``channel`` on this SQLite engine's file (None on any other database)."""
    path = sqlite_file(engine)
    return LocalWakeup(f"{path}#{channel}") if path else None


def announce_inserts(engine: Engine, channels: dict[str, str]) -> dict[str, LocalWakeup]:
    """On a SQLite file, wake the waiters of ``channels[table]`` after each committed transaction
    that inserted into ``table`` (any statement of this engine, ORM or hand-written SQL). What
    PostgreSQL's insert triggers do with ``NOTIFY``; nothing to do on other databases.

    SQLAlchemy has no event after a commit, so the signal goes when the connection is next used or
    handed back to the pool (a session or ``engine.begin()`` hands it back as it commits): never
    before the rows are visible. A rolled-back transaction signals nothing."""
    path = sqlite_file(engine)
    if path is None:
        return {}
    wakeups = {table.lower(): LocalWakeup(f"{path}#{channel}", create=False) for table, channel in channels.items()}
    wakeups = {table: w for table, w in wakeups.items() if w.available}
    if not wakeups:
        return {}

    def signal(info: dict) -> None:
        for table in info.pop(_COMMITTED, ()):
            if table in wakeups:  # noted by ``note_insert`` for a table nobody announces: nobody waits
                wakeups[table].signal()

    @event.listens_for(engine, "before_cursor_execute")
    def _inserting(conn, _cursor, statement, _params, _context, _many) -> None:
        if _COMMITTED in conn.info:  # the next transaction of a connection kept open
            signal(conn.info)
        m = _INSERT_INTO.match(statement)
        if m is not None and m.group(1).lower() in wakeups:
            conn.info.setdefault(_INSERTED, set()).add(m.group(1).lower())

    @event.listens_for(engine, "commit")
    def _committing(conn) -> None:  # before the DBAPI commit: remember, signal once it is done
        inserted = conn.info.pop(_INSERTED, None)
        if inserted:
            conn.info.setdefault(_COMMITTED, set()).update(inserted)

    @event.listens_for(engine, "rollback")
    def _rolled_back(conn) -> None:
        conn.info.pop(_INSERTED, None)

    @event.listens_for(engine.pool, "checkin")
    def _handed_back(_dbapi_conn, record) -> None:
        if record is not None and _COMMITTED in record.info:
            signal(record.info)

    return wakeups


def note_insert(conn: Connection, table: str) -> None:
    """``table`` was inserted into on ``conn``'s driver cursor, past SQLAlchemy's events (kehadiran's
    hand-written hot path): its transaction's commit wakes the table's waiters as if the insert
    had gone through them (``announce_inserts``; nothing where no one announces the table)."""
    conn.info.setdefault(_INSERTED, set()).add(table.lower())


def listen(engine: Engine, channel: str, wake: threading.Event) -> Listener | None:
    """Start whatever wakes a waiter on this database (None: nothing can, poll)."""
    if engine.dialect.name == "postgresql":
        return PgListener(engine, wake, channel).start()
    wakeup = local_wakeup(engine, channel)
    if wakeup is not None and wakeup.available:
        try:
            return wakeup.listen(wake)
        except OSError as exc:
            log.warning("cannot listen for wake-ups; polling instead", extra={"error": repr(exc)})
    return None
