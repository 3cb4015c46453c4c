"""How Kinerja's SQLite connections take the write lock (``kinerja.db.make_engine`` wires this in).

SQLite has one write lock per file, and several processes share each service's file (gunicorn
workers with many threads, the day worker, the consumer, the relay). These rules keep them from
stalling each other:

- **A write transaction takes the lock at BEGIN** (``BEGIN IMMEDIATE``): a transaction that
  reads and then writes never fails upgrading its read lock (SQLite answers such an upgrade with
  an immediate ``SQLITE_BUSY``; its busy handler is not used there), and writers are serialised.
- **Waiting for it notices a free lock at once.** SQLite's own busy handler sleeps 1, 2, 5 ...
  up to 100 ms between tries, so a writer that commits and begins again at once (a day worker
  round after round, a consumer batch after batch) took the lock in the gap while the others
  slept: requests waited seconds for a lock that was mostly free. Here the threads of one process
  queue on a ``threading.Lock`` (handed over the moment the holder commits or rolls back), and
  only the one at the head tries SQLite, every ``POLL_S`` (SQLite's busy handler is off); after
  ``WRITE_LOCK_TIMEOUT_S`` it fails as SQLite would (``database is locked``).
- **A waiting process is woken the moment the lock is given back.** The head waiter of each
  process sleeps in ``poll`` on a FIFO beside the file (``<file>-wake``) between its tries, and a
  writer that ends its transaction while someone waits (the ``-writers`` signal below) writes a
  byte to it: the hand-over to another process took up to a ``POLL_S`` sleep (half of it on
  average, and a 1 ms sleep on a loaded machine oversleeps) and now takes a wake-up. The poll
  still times out every ``POLL_S`` (a writer outside these rules, one that died, a byte another
  waiter took), so nothing waits on the signal alone, and the wait stays bounded by
  ``WRITE_LOCK_TIMEOUT_S``.
- **A writer that just had its turn lets a waiting process in.** The head waiter holds a shared
  ``flock`` on ``<file>-writers`` while it tries; a process that committed less than
  ``YIELD_WINDOW_S`` ago probes it before its next BEGIN and, when someone waits, pauses a few
  polls first, so a back-to-back writer cannot starve the others.
- **A writer gets the GIL back quickly.** A thread that lets the GIL go (the head waiter's
  ``POLL_S`` sleep, a turn handed over, a statement long enough for another thread to take it)
  waits up to the interpreter's switch interval (5 ms) to take it back from threads running
  Python (a web worker's other requests being parsed and built): a 1 ms poll took 15-23 ms
  (median) with four busy threads, and the file's lock stayed unused or held meanwhile while
  every writer of every process waited. While any thread of the process waits for or holds a
  turn, the switch interval is ``HELD_SWITCH_S`` (0.5 ms: the same poll took 3-5 ms); idle, the
  interpreter's own.
- **Readers take no write lock** (``read_only(bind)``), and wait out a WAL recovery's BUSY by
  themselves: ``kinerja.sqlite_wal``, with the connection's pragmas (WAL, ``synchronous``, the
  checkpoint window).
"""
from __future__ import annotations

import fcntl
import os
import sqlite3
import sys
import threading
import time

from kinerja import sqlite_wake, sqlite_wal
WRITE_LOCK_TIMEOUT_S = sqlite_wal.TIMEOUT_S  # a reader waits out a WAL recovery as long
POLL_S = 0.001
YIELD_WINDOW_S = 0.005  # a BEGIN this soon after our own commit may be a back-to-back writer's
YIELD_S = 3 * POLL_S  # long enough for a waiter polling every POLL_S to get in
READ_ONLY = "kinerja_sqlite_read_only"  # the execution option ``read_only`` sets
HELD_SWITCH_S = 0.0005  # the switch interval while a thread of this process waits for or holds a write turn


def read_only(bind):
    """``bind`` (an Engine or Connection) whose transactions on SQLite only read: no write lock
    is taken (elsewhere the option means nothing)."""
    return bind.execution_options(**{READ_ONLY: True})


class _Turn:
    """One process's writers of one file: their queue, and the waiter signal shared with the
    other processes."""

    def __init__(self, path: str):
        self.lock = threading.Lock()
        self.path = path
        self._fd: int | None = None
        self._wake_fd: int | None = None
        self.released_at = float("-inf")
        self.yields = 0  # times a writer let a waiting process go first (tests read it)

    @property
    def fd(self) -> int:
        if self._fd is None:
            self._fd = os.open(self.path + "-writers", os.O_RDWR | os.O_CREAT, 0o644)
        return self._fd

    def wake(self) -> None:
        """Wakes the waiting processes' head waiters (they try BEGIN IMMEDIATE at once)."""
        sqlite_wake.wake(self._wake())

    def sleep(self, seconds: float) -> None:
        """Up to ``seconds``, less when woken (``wake``)."""
        sqlite_wake.sleep(self._wake(), seconds)

    def _wake(self) -> int:
        if self._wake_fd is None:
            self._wake_fd = sqlite_wake.open_fifo(self.path + "-wake")
        return self._wake_fd

    def others_waiting(self) -> bool:
        try:
            fcntl.flock(self.fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return True
        fcntl.flock(self.fd, fcntl.LOCK_UN)
        return False

    def release(self) -> None:
        # asked while this process's turn is still ours: no thread of ours holds the signal's
        # shared lock then (a probe on the same descriptor would convert theirs, not test it)
        waiting = self.others_waiting()
        self.released_at = time.monotonic()
        self.lock.release()
        _switch.leave()
        if waiting:
            self.wake()


class _Switch:
    """The process's switch interval: ``HELD_SWITCH_S`` while any of its threads waits for or
    holds a turn, the one it had otherwise."""

    def __init__(self) -> None:
        self.guard = threading.Lock()
        self.holders = 0
        self.saved = sys.getswitchinterval()

    def enter(self) -> None:
        with self.guard:
            if self.holders == 0:
                self.saved = sys.getswitchinterval()
                sys.setswitchinterval(min(self.saved, HELD_SWITCH_S))
            self.holders += 1

    def leave(self) -> None:
        with self.guard:
            self.holders -= 1
            if self.holders == 0:
                sys.setswitchinterval(self.saved)

    def forked(self) -> None:
        """In a child forked while a thread held a turn: no thread of the child holds one."""
        self.guard = threading.Lock()
        if self.holders:
            self.holders = 0
            sys.setswitchinterval(self.saved)


_switch = _Switch()


_turns: dict[str, _Turn] = {}
_turns_guard = threading.Lock()
# a lock held at fork would never be released (nor the switch interval restored)
os.register_at_fork(after_in_child=lambda: (_turns.clear(), _switch.forked()))


def turn_of(path: str) -> _Turn:
    turn = _turns.get(path)
    if turn is None:
        with _turns_guard:
            turn = _turns.setdefault(path, _Turn(path))
    return turn


class WriterConnection(sqlite3.Connection):
    """A pysqlite connection that gives its process's write turn back when its transaction ends
    (commit, rollback, or close), whoever ends it (SQLAlchemy, the pool's reset on return)."""

    _kinerja_path: str | None = None
    _kinerja_held: _Turn | None = None

    def commit(self):
        try:
            super().commit()
        finally:
            self._release()

    def rollback(self):
        try:
            super().rollback()
        finally:
            self._release()

    def close(self):
        try:
            super().close()
        finally:
            self._release()

    def __del__(self):  # dropped without a close: its turn must not stay taken
        self._release()

    def _release(self) -> None:
        held, self._kinerja_held = self._kinerja_held, None
        if held is not None:
            held.release()


def on_connect(dbapi_conn: sqlite3.Connection, path: str | None) -> None:
    # pysqlite's own transaction handling off: BEGIN is ours (``begin``)
    dbapi_conn.isolation_level = None
    if isinstance(dbapi_conn, WriterConnection):
        dbapi_conn._kinerja_path = path
    sqlite_wal.configure(dbapi_conn)


def begin(dbapi_conn: sqlite3.Connection, *, read_only: bool) -> None:
    if read_only:
        sqlite_wal.begin_read(dbapi_conn, time.monotonic() + WRITE_LOCK_TIMEOUT_S)
        return
    path = getattr(dbapi_conn, "_kinerja_path", None)
    if path is None:  # in memory: one connection, nobody to wait for
        dbapi_conn.execute("BEGIN IMMEDIATE")
        return
    deadline = time.monotonic() + WRITE_LOCK_TIMEOUT_S
    turn = turn_of(path)
    _switch.enter()  # from here to the turn's release: its hand-over and its polls wake at once
    if not turn.lock.acquire(timeout=WRITE_LOCK_TIMEOUT_S):
        _switch.leave()
        raise sqlite3.OperationalError("database is locked (no write turn within "
                                       f"{WRITE_LOCK_TIMEOUT_S:.0f} s in this process)")
    try:
        if time.monotonic() - turn.released_at < YIELD_WINDOW_S and turn.others_waiting():
            turn.yields += 1
            time.sleep(YIELD_S)
        _begin_immediate(dbapi_conn, turn, deadline)
    except BaseException:
        turn.lock.release()
        _switch.leave()
        raise
    dbapi_conn._kinerja_held = turn


def _begin_immediate(dbapi_conn: sqlite3.Connection, turn: _Turn, deadline: float) -> None:
    """BEGIN IMMEDIATE, tried every ``POLL_S`` until ``deadline`` (SQLite's busy handler is off,
    it would sleep up to 100 ms between its own tries), with the waiter signal held meanwhile."""
    try:
        dbapi_conn.execute("BEGIN IMMEDIATE")
        return
    except sqlite3.OperationalError as exc:
        if not sqlite_wal.busy(exc):
            raise
    fcntl.flock(turn.fd, fcntl.LOCK_SH)
    try:
        while True:
            turn.sleep(POLL_S)  # woken at once when a writer of these rules gives the lock back
            try:
                dbapi_conn.execute("BEGIN IMMEDIATE")
                return
            except sqlite3.OperationalError as exc:
                if not sqlite_wal.busy(exc) or time.monotonic() >= deadline:
                    raise
    finally:
        fcntl.flock(turn.fd, fcntl.LOCK_UN)
