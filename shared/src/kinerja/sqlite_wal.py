"""How Kinerja's SQLite connections use the write-ahead log (``sqlite_locking.on_connect`` sets a
connection up with ``configure``): its pragmas, its checkpoint window, and the reads that take a
WAL snapshot without the write lock (``sqlite_locking`` holds the rules of the write lock itself).

- **WAL, ``synchronous=NORMAL``.** Readers and one writer run at once, across processes. A
  commit is appended to the WAL file and needs no fsync of its own: a committed transaction
  survives the process's crash (the bytes are the operating system's once written) and the file
  is never corrupted; only an operating-system crash or a power loss can drop the last commits
  before the next checkpoint's fsync. ``FULL`` would fsync the WAL at every commit, a turn of the
  file's one write lock each; the write lock's turns are what SQLite ingest waits on
  (``kehadiran``'s group commit exists to make fewer of them). A deployment that must survive a
  power loss without the devices re-sending runs PostgreSQL (DESIGN: SQLite is the one-machine
  default).
- **Checkpoints by a background thread, not in a COMMIT** (``kinerja.sqlite_checkpoint``): a
  connection's own automatic checkpoint (``WAL_AUTOCHECKPOINT_PAGES``, four times the
  checkpointer's window) is only the safety net bounding the WAL where no checkpointer keeps up.
  The checkpointer's window is 4,000 pages, not SQLite's 1,000: a page written again within the
  window is copied to the database once, and the checkpoints' fsyncs come a quarter as often
  (100-punch uploads: written 27.6 -> 24.6 KiB a punch, read 6.5 -> 3.5).
- **A read-only transaction takes no lock at all** (``sqlite_locking.read_only(bind)``: a plain
  deferred BEGIN, a snapshot of the WAL): the relay's polls and depth gauges no longer queue
  behind ingest, nor ingest behind them. It must not write (the upgrade could fail with a BUSY
  that no busy handler waits out).
- **A read opens its snapshot waiting while the WAL is recovered.** With the busy handler off
  (``configure``), the one ``SQLITE_BUSY`` a reader can meet (``SQLITE_BUSY_RECOVERY``: another
  connection is rebuilding the WAL index, which happens when a process died between the two
  copies of the index header it writes at each commit) came back at once as "database is locked"
  from the transaction's first SELECT (a health check's 503, a request's 5xx). A read-only
  transaction's snapshot is taken by a statement of our own at BEGIN (``begin_read``), a read
  outside any transaction is run again (``read_outside``), every ``POLL_S`` until
  ``TIMEOUT_S``, as a writer's BEGIN IMMEDIATE is (which already met it there).
"""
from __future__ import annotations

import sqlite3
import time
from typing import Callable, TypeVar

TIMEOUT_S = 30.0  # ``sqlite_locking.WRITE_LOCK_TIMEOUT_S`` too: a writer waits as long for its lock
POLL_S = 0.001
# SQLite's is 1,000: the safety net behind kinerja.sqlite_checkpoint (its SAFETY_PAGES)
WAL_AUTOCHECKPOINT_PAGES = 16000

T = TypeVar("T")


def configure(dbapi_conn: sqlite3.Connection) -> None:
    """A new connection's pragmas: WAL, its commits and checkpoints, foreign keys, and SQLite's busy
    handler off once they ran (``sqlite_locking`` waits for the write lock itself, ``begin_read``
    and ``read_outside`` for a recovery)."""
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA synchronous=NORMAL")
    cur.execute(f"PRAGMA wal_autocheckpoint={WAL_AUTOCHECKPOINT_PAGES}")
    cur.execute("PRAGMA foreign_keys=ON")
    # the pragmas above waited with SQLite's busy handler (the connect timeout; the first of
    # them reads, so a connection opened while another recovers the WAL waits there); from here
    # on a BUSY comes back at once: a writer's BEGIN IMMEDIATE and a reader's first read are
    # retried, and a statement of a transaction holding the write lock, or reading its WAL
    # snapshot, does not meet one
    cur.execute("PRAGMA busy_timeout=0")
    cur.close()


def begin_read(dbapi_conn: sqlite3.Connection, deadline: float) -> None:
    """BEGIN, and the WAL snapshot taken at once (any read does; ``schema_version`` reads the
    least), tried every ``POLL_S`` until ``deadline`` while SQLite answers BUSY (another
    connection recovers the WAL index); the transaction's statements then read that snapshot
    and meet no BUSY."""
    try:
        while True:
            try:
                if not dbapi_conn.in_transaction:
                    dbapi_conn.execute("BEGIN")
                dbapi_conn.execute("PRAGMA schema_version").fetchone()
                return
            except sqlite3.OperationalError as exc:
                if not busy(exc) or time.monotonic() >= deadline:
                    raise
            time.sleep(POLL_S)
    except BaseException:
        if dbapi_conn.in_transaction:
            dbapi_conn.execute("ROLLBACK")
        raise


def read_outside(dbapi_conn: sqlite3.Connection, run: Callable[[], T], exc: BaseException) -> T:
    """A read outside any transaction (a punch request's, before its write) that failed with
    ``exc``: ``run()`` again every ``POLL_S`` until ``TIMEOUT_S`` while SQLite answers BUSY (a
    WAL recovery, as ``begin_read`` waits); anything else is raised as it came."""
    if not isinstance(exc, sqlite3.OperationalError) or not busy(exc) or dbapi_conn.in_transaction:
        raise exc
    deadline = time.monotonic() + TIMEOUT_S
    while True:
        time.sleep(POLL_S)
        try:
            return run()
        except sqlite3.OperationalError as again:
            if not busy(again) or time.monotonic() >= deadline:
                raise


def busy(exc: sqlite3.OperationalError) -> bool:
    code = getattr(exc, "sqlite_errorcode", None)
    if code is not None:
        return code & 0xFF == sqlite3.SQLITE_BUSY
    return "locked" in str(exc)
