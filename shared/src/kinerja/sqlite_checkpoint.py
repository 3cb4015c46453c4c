"""SQLite's WAL checkpoints off the writers' path: one background thread a database file copies
the WAL back into the file, so no request's COMMIT does.

Why: SQLite's automatic checkpoint runs inside the COMMIT that takes the WAL past its window
(``wal_autocheckpoint``), after the commit itself: the committing thread copies up to the whole
window into the database file and fsyncs it (~16 MiB at 4,000 pages) before its COMMIT returns,
and holds its process's write turn all that while (``sqlite_locking``: the turn is given back
when the commit returns), so every request of that process waits behind it (a JSON upload's
slowest commits took 93-144 ms against a 5-13 ms median).

How:

- Every connection's ``wal_autocheckpoint`` is ``SAFETY_PAGES`` (``sqlite_wal.configure``), four
  times the window: a safety net that bounds the WAL where no checkpointer runs (a deployment of
  the web alone) or one falls behind; with a checkpointer keeping up it never fires.
- The checkpointer (``start``; the services' background processes start one: each consumer,
  relay and kehadiran's day worker) reads the WAL's size from the WAL index (``<file>-shm``, its
  documented header: no lock, no statement) every ``POLL_S``, and runs a PASSIVE checkpoint
  (never waits for, never blocks a writer or a reader) once ``WINDOW_PAGES`` frames wait to be
  copied, or once the WAL has been still for ``IDLE_S`` with frames left (a quiet file's WAL is
  copied back and restarts at its next write). The window is the old automatic one (a page
  written again within it is copied once).
- A WAL restarts from its start only when a writer begins with every frame copied back and no
  reader still reads an older snapshot from it. Under steady load neither moment comes by
  itself: a passive pass copies what was there when it began while the writers add more, and
  some short read (a request's look-up, a relay's poll, a day round's snapshot) is always under
  way (a probe of main: the WAL reached 38,000 pages, and from 4,000 on every COMMIT ran a
  checkpoint). So once the WAL reaches ``CLOSE_AT_PAGES`` frames the checkpointer takes a write
  turn (``sqlite_locking.begin``, queued fairly like any writer; SQLite's own RESTART checkpoint,
  which waits for the write lock with its busy handler's sleeps, left the WAL at 33-43k pages
  under a probe's load), copies the frames left since its last pass (no new ones can come meanwhile), holds
  the turn ``READER_GRACE_S`` more so the reads begun before it end (a reader of an older
  snapshot keeps the WAL from restarting), and gives the turn back: the next writer starts the
  WAL from its start. When it did not (a longer read), it is tried again ``CLOSE_RETRY_S`` later.
  ``SAFETY_PAGES`` (64 MiB) bounds the WAL where no checkpointer runs or none gets its restart.
- One checkpointer a file across processes: the thread that holds an exclusive ``flock`` on
  ``<file>-checkpointer`` works; the others try again every ``LEADER_RETRY_S`` (its process died:
  another takes over).
"""
from __future__ import annotations

import fcntl
import logging
import os
import sqlite3
import struct
import threading
import time
from pathlib import Path

from kinerja import sqlite_locking, sqlite_wal

log = logging.getLogger(__name__)

WINDOW_PAGES = 4000  # frames waiting to be copied back that start a pass
CLOSE_AT_PAGES = 8000  # a WAL this long that has not restarted: a pass with a write turn held
READER_GRACE_S = 0.005  # the turn held after that pass, for the reads begun before it to end
CLOSE_RETRY_S = 0.25  # after a closing pass that the WAL did not restart from
# every connection's wal_autocheckpoint (``sqlite_wal.configure``): only where no checkpointer keeps up
SAFETY_PAGES = sqlite_wal.WAL_AUTOCHECKPOINT_PAGES
POLL_S = 0.02
IDLE_S = 1.0
LEADER_RETRY_S = 2.0

# the WAL index header (https://www.sqlite.org/walformat.html, "The WAL-Index Format"): mxFrame at
# byte 16 of the first header copy, nBackfill at byte 96 (the checkpoint info after both copies)
_MX_FRAME_AT, _BACKFILL_AT, _HEADER_BYTES = 16, 96, 100


def wal_frames(shm_fd: int) -> tuple[int, int]:
    """(frames in the WAL, frames of them copied back) from the WAL index; (0, 0) before it is made."""
    raw = os.pread(shm_fd, _HEADER_BYTES, 0)
    if len(raw) < _HEADER_BYTES:
        return 0, 0
    return struct.unpack_from("=I", raw, _MX_FRAME_AT)[0], struct.unpack_from("=I", raw, _BACKFILL_AT)[0]


class Checkpointer:
    """The checkpointer of the SQLite file at ``path`` (a thread; ``stop`` ends it)."""

    def __init__(self, path: str, stop: threading.Event, *, window: int = WINDOW_PAGES,
                 close_at: int = CLOSE_AT_PAGES, poll_s: float = POLL_S, idle_s: float = IDLE_S):
        self.path = path
        self.stop = stop
        self.window, self.close_at, self.poll_s, self.idle_s = window, close_at, poll_s, idle_s
        # counts the tests read: passive passes run, frames they copied back
        self.passes = 0
        self.closing_passes = 0  # of them with a write turn held
        self.copied = 0
        self.leading = threading.Event()
        self._lock_fd: int | None = None
        self.thread = threading.Thread(target=self._run, name="sqlite-checkpointer", daemon=True)

    def start(self) -> "Checkpointer":
        self.thread.start()
        return self

    def _lead(self) -> bool:
        if self._lock_fd is None:
            self._lock_fd = os.open(self.path + "-checkpointer", os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o644)
        try:
            fcntl.flock(self._lock_fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return False
        return True

    def _run(self) -> None:
        try:
            while not self.stop.is_set():
                if self._lead():
                    self.leading.set()
                    self._work()
                    return
                self.stop.wait(LEADER_RETRY_S)
        except Exception:  # noqa: BLE001 - the connections' safety net still bounds the WAL
            log.exception("sqlite checkpointer stopped", extra={"path": self.path})
        finally:
            if self._lock_fd is not None:
                os.close(self._lock_fd)  # the lock goes with it: another process takes over

    def _work(self) -> None:
        conn = sqlite3.connect(self.path, timeout=sqlite_locking.WRITE_LOCK_TIMEOUT_S, isolation_level=None,
                               check_same_thread=False)
        turn_conn = sqlite3.connect(self.path, timeout=sqlite_locking.WRITE_LOCK_TIMEOUT_S,
                                    factory=sqlite_locking.WriterConnection, check_same_thread=False)
        sqlite_locking.on_connect(conn, None)
        sqlite_locking.on_connect(turn_conn, self.path)
        shm = os.open(self.path + "-shm", os.O_RDONLY | os.O_CLOEXEC)
        try:
            last, still_since, close_after = -1, time.monotonic(), 0.0
            while not self.stop.wait(self.poll_s):
                frames, copied = wal_frames(shm)
                now = time.monotonic()
                if frames != last:
                    last, still_since = frames, now
                waiting = frames - copied
                if waiting >= self.window or (waiting > 0 and now - still_since >= self.idle_s):
                    self._pass(conn)
                    frames, copied = wal_frames(shm)
                if frames >= self.close_at and now >= close_after:
                    self._closing_pass(conn, turn_conn)
                    # the next writer restarts the WAL; if it did not, not again at once
                    close_after = time.monotonic() + CLOSE_RETRY_S
        finally:
            os.close(shm)
            conn.close()
            turn_conn.close()

    def _pass(self, conn: sqlite3.Connection) -> None:
        busy, _frames, copied = conn.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()
        self.passes += 1
        if not busy and copied > 0:
            self.copied += copied

    def _closing_pass(self, conn: sqlite3.Connection, turn_conn: sqlite3.Connection) -> None:
        """A pass while a write turn is held (nothing is added meanwhile, so it copies every frame,
        readers permitting), and the turn held ``READER_GRACE_S`` more for the older reads to end."""
        sqlite_locking.begin(turn_conn, read_only=False)
        try:
            self._pass(conn)
            self.closing_passes += 1
            time.sleep(READER_GRACE_S)
        finally:
            turn_conn.rollback()


_started: dict[str, Checkpointer] = {}
_guard = threading.Lock()
# a thread does not survive a fork: the child starts its own if it asks
os.register_at_fork(after_in_child=lambda: _started.clear())


def start(engine, stop: threading.Event) -> Checkpointer | None:
    """The checkpointer of ``engine``'s SQLite file, started once a process (None: not a SQLite
    file). It works while this process holds the file's checkpointer lock (see the module)."""
    if engine.dialect.name != "sqlite":
        return None
    database = engine.url.database
    if not database or database == ":memory:":
        return None
    path = str(Path(database).resolve())  # the path ``db.make_engine`` keys the write turns by
    with _guard:
        found = _started.get(path)
        if found is None:
            found = _started[path] = Checkpointer(path, stop).start()
        return found
