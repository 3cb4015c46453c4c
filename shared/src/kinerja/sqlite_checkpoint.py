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
  under a probe's load), copies the frames left since its last pass (no new ones can come
  meanwhile; it first copies ahead without the turn, ``COPY_AHEAD_LEFT``: a loaded JSON upload's
  closing pass found up to 3,600 frames, 14 MiB, still to copy and held every writer 117 ms while
  it did), and holds the turn until no reader of an older snapshot is left (a reader holds a
  lock on its WAL slot in the WAL index; ``/proc/locks`` names every process holding one: the turn's
  own slot apart, a process of its own is seen, one of this process only when in another slot), at
  most ``READER_GRACE_MAX_S``; then it gives the turn back, and the next writer starts the WAL
  from its start. A fixed grace of 5 ms failed under load (a probe at load 14-50: three closing
  passes in a row outlasted by web workers', the relay's and the day worker's reads). Where the
  readers cannot be seen (not Linux) the turn is held ``READER_GRACE_S``. When it did not restart
  (a longer read), it is tried again ``CLOSE_RETRY_S`` later, and the readers are logged (INFO).
  ``SAFETY_PAGES`` (64 MiB) bounds the WAL where no checkpointer runs or none gets its restart.
- A read that may last longer than that (a day round's snapshot of a chunk of keys' facts) is a
  ``LongRead``: the closing pass waits for it to end before it takes its write turn (up to
  ``LONG_READS_WAIT_S``; no writer waits meanwhile), and a long read waits for the pass.
- One checkpointer a file across processes: the thread that holds an exclusive ``flock`` on
  ``<file>-checkpointer`` works; the others try again every ``LEADER_RETRY_S`` (its process died:
  another takes over).

Modules: this one holds the thread, its leadership and its plain passes; the closing pass (the
part that holds a write turn) is ``sqlite_closing_pass``, the reading of the WAL index and of
``/proc/locks`` is ``sqlite_wal_index``, and ``LongRead`` is ``sqlite_long_read``.
"""
from __future__ import annotations

import fcntl
import logging
import os
import sqlite3
import threading
import time
from pathlib import Path

from kinerja import sqlite_locking, sqlite_wal
from kinerja.sqlite_closing_pass import ClosingPass
from kinerja.sqlite_wal_index import wal_frames

log = logging.getLogger(__name__)

WINDOW_PAGES = 4000  # frames waiting to be copied back that start a pass
CLOSE_AT_PAGES = 8000  # a WAL this long that has not restarted: a pass with a write turn held
CLOSE_RETRY_S = 0.25  # after a closing pass that the WAL did not restart from
# every connection's wal_autocheckpoint (``sqlite_wal.configure``): only where no checkpointer keeps up
SAFETY_PAGES = sqlite_wal.WAL_AUTOCHECKPOINT_PAGES
POLL_S = 0.02
IDLE_S = 1.0
LEADER_RETRY_S = 2.0


class Checkpointer(ClosingPass):
    """The checkpointer of the SQLite file at ``path`` (a thread; ``stop`` ends it)."""

    def __init__(self, path: str, stop: threading.Event, *, window: int = WINDOW_PAGES,
                 close_at: int = CLOSE_AT_PAGES, poll_s: float = POLL_S, idle_s: float = IDLE_S):
        self.path = path
        self.stop = stop
        self.window, self.close_at, self.poll_s, self.idle_s = window, close_at, poll_s, idle_s
        # counts the tests read: passive passes run, frames they copied back
        self.passes = 0
        self.closing_passes = 0  # of them with a write turn held
        self.restarts = 0  # closing passes the WAL was seen to restart after
        self.not_restarted = 0  # closing passes followed by another without a restart between
        self.long_read_waits = 0  # closing passes that waited for a ``LongRead`` to end
        self.long_reads_waited_out = 0  # of them, those that went ahead while it still read
        self.clear_closings = 0  # closing passes that saw every frame copied and no older reader
        self.copied_ahead = 0  # frames the closing passes copied before taking the write turn
        self.copied_in_turn = 0  # frames they copied with it held (writers waiting meanwhile)
        self.held_by: dict[int, int] = {}  # pid: closing passes it outlasted with an older snapshot
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
            closed_at = 0  # the WAL's frames at the last closing pass whose restart is not yet seen
            while not self.stop.wait(self.poll_s):
                frames, copied = wal_frames(shm)
                now = time.monotonic()
                if closed_at and frames < closed_at:
                    self.restarts += 1
                    closed_at = 0
                if frames != last:
                    last, still_since = frames, now
                waiting = frames - copied
                if waiting >= self.window or (waiting > 0 and now - still_since >= self.idle_s):
                    self._pass(conn)
                    frames, copied = wal_frames(shm)
                if frames >= self.close_at and now >= close_after:
                    if closed_at:
                        self.not_restarted += 1
                    self._closing_pass(conn, turn_conn, shm)
                    closed_at = frames
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
