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
READER_GRACE_S = 0.005  # the turn held after that pass where the readers cannot be seen (not Linux)
READER_GRACE_MAX_S = 0.025  # the longest the turn is held for older readers to end (writers wait)
READER_GRACE_POLL_S = 0.001
CLOSE_RETRY_S = 0.25  # after a closing pass that the WAL did not restart from
# a closing pass first copies without the turn (passive passes) until at most this many frames are
# left, or ``COPY_AHEAD_PASSES`` passes: only what the writers add meanwhile is copied with it held
COPY_AHEAD_LEFT = 256
COPY_AHEAD_PASSES = 3
# every connection's wal_autocheckpoint (``sqlite_wal.configure``): only where no checkpointer keeps up
SAFETY_PAGES = sqlite_wal.WAL_AUTOCHECKPOINT_PAGES
POLL_S = 0.02
IDLE_S = 1.0
LEADER_RETRY_S = 2.0
LONG_READS_SUFFIX = "-long-reads"  # ``LongRead``'s lock file beside the database
LONG_READS_WAIT_S = 2.0  # a closing pass that cannot have that lock this soon goes ahead without it
LONG_READS_POLL_S = 0.001

# the WAL index header (https://www.sqlite.org/walformat.html, "The WAL-Index Format"): mxFrame at
# byte 16 of the first header copy, nBackfill at byte 96 (the checkpoint info after both copies)
_MX_FRAME_AT, _BACKFILL_AT, _HEADER_BYTES = 16, 96, 100
# the readers' locks, one a slot: bytes 123 (slot 0: a reader of the database file alone, which
# does not keep the WAL from restarting) to 127 of the WAL index (SQLite's wal.c, WAL_READ_LOCK)
_READ_SLOTS, _READ_LOCK_AT = 5, 123


def old_snapshot_readers(shm_fd: int) -> dict[int, int] | None:
    """{pid: slots} of the processes holding a reader's lock on a WAL slot other than 0 (a
    snapshot that still reads frames from the WAL, which keeps a writer from restarting it), from
    ``/proc/locks`` (every process's locks on the WAL index; this process's own connections show
    as one pid). None where ``/proc/locks`` is not there."""
    inode = os.fstat(shm_fd).st_ino
    found: dict[int, int] = {}
    try:
        with open("/proc/locks") as f:
            lines = f.read().splitlines()
    except OSError:
        return None
    for line in lines:
        parts = line.split()
        # "1: POSIX  ADVISORY  READ 1234 08:01:5678 124 124" (a blocked waiter's line has "->" first)
        if len(parts) < 8 or parts[1] == "->" or not parts[5].endswith(f":{inode}"):
            continue
        start, end = int(parts[6]), (_READ_LOCK_AT + _READ_SLOTS if parts[7] == "EOF" else int(parts[7]))
        slots = max(0, min(end, _READ_LOCK_AT + _READ_SLOTS - 1) - max(start, _READ_LOCK_AT + 1) + 1)
        if slots:
            found[int(parts[4])] = found.get(int(parts[4]), 0) + slots
    return found


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

    def _closing_pass(self, conn: sqlite3.Connection, turn_conn: sqlite3.Connection, shm: int) -> None:
        """A pass while a write turn is held (nothing is added meanwhile, so it copies every frame,
        readers permitting), once no ``LongRead`` is under way; the turn is held until the older
        reads end (``_hold_turn``)."""
        self._copy_ahead(conn, shm)
        long_reads = self._no_long_reads()
        try:
            self._copy_ahead(conn, shm)  # what came while a long read was waited for
            self._hold_turn(conn, turn_conn, shm)
        finally:
            if long_reads is not None:
                os.close(long_reads)

    def _copy_ahead(self, conn: sqlite3.Connection, shm: int) -> None:
        """Passive passes, no turn held, until at most ``COPY_AHEAD_LEFT`` frames are left to copy
        (or a pass copies nothing more: an older reader's snapshot stops it)."""
        for _ in range(COPY_AHEAD_PASSES):
            frames, copied = wal_frames(shm)
            if frames - copied <= COPY_AHEAD_LEFT:
                return
            self._pass(conn)
            now_copied = wal_frames(shm)[1]
            if now_copied <= copied:
                return
            self.copied_ahead += now_copied - copied

    def _no_long_reads(self) -> int | None:
        """The ``LongRead`` lock held exclusively (its fd), polled without a write turn held; None
        when a long read kept it past ``LONG_READS_WAIT_S`` (the pass goes ahead, as before)."""
        fd = os.open(self.path + LONG_READS_SUFFIX, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o644)
        deadline, waited = time.monotonic() + LONG_READS_WAIT_S, False
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                return fd
            except BlockingIOError:
                if not waited:
                    waited = True
                    self.long_read_waits += 1
                if time.monotonic() >= deadline or self.stop.is_set():
                    os.close(fd)
                    self.long_reads_waited_out += 1
                    return None
                time.sleep(LONG_READS_POLL_S)

    def _hold_turn(self, conn: sqlite3.Connection, turn_conn: sqlite3.Connection, shm: int) -> None:
        """Passes with the write turn held until every frame is copied and no reader of an older
        snapshot is left (the next writer then restarts the WAL), at most ``READER_GRACE_MAX_S``.
        Without ``/proc/locks`` (not Linux) the readers cannot be seen: ``READER_GRACE_S`` is held."""
        sqlite_locking.begin(turn_conn, read_only=False)
        try:
            self.closing_passes += 1
            deadline = time.monotonic() + READER_GRACE_MAX_S
            before = wal_frames(shm)[1]  # only this thread checkpoints (the safety net aside)
            while True:
                busy, frames, copied = conn.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()
                self.passes += 1
                if before is not None:
                    self.copied_in_turn += max(0, copied - before)
                    before = None
                readers = self._older_readers(shm)
                if readers is None:
                    time.sleep(READER_GRACE_S)
                    break
                if not busy and copied == frames and not readers:
                    self.clear_closings += 1
                    break
                if time.monotonic() >= deadline:
                    for pid in readers:
                        self.held_by[pid] = self.held_by.get(pid, 0) + 1
                    # the next stall explains itself: which processes read too long
                    log.info("sqlite WAL not restartable: older readers outlasted the closing pass",
                             extra={"path": self.path, "frames": frames, "copied": copied,
                                    "readers": {_process(pid): slots for pid, slots in readers.items()}})
                    break
                time.sleep(READER_GRACE_POLL_S)
        finally:
            turn_conn.rollback()

    @staticmethod
    def _older_readers(shm: int) -> dict[int, int] | None:
        """{pid: slots} of the readers that keep the WAL from restarting, the write turn's own
        snapshot (a slot of this process) left out; None where they cannot be seen."""
        readers = old_snapshot_readers(shm)
        if readers is None:
            return None
        own = os.getpid()
        if readers.get(own, 0) <= 1:  # the turn's connection reads too, in one slot
            readers.pop(own, None)
        return readers


def _process(pid: int) -> str:
    """``pid`` and its command line (a log's reader of an older snapshot: a web worker, a relay...)."""
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as f:
            return f"{pid} " + f.read().replace(b"\0", b" ").decode(errors="replace").strip()[:120]
    except OSError:
        return str(pid)


class LongRead:
    """A read transaction that may keep its snapshot longer than ``READER_GRACE_S`` (a day round's
    facts for a chunk of keys): it holds a shared ``flock`` on ``<file>-long-reads`` from before
    its snapshot begins until ``end`` (call it once the snapshot is given back; closing does it
    too). A closing pass takes that lock exclusively before its write turn, waiting without the
    turn (no writer waits meanwhile), so no such read is under way while it copies and holds the
    turn, and the next writer restarts the WAL; a long read that wants to begin then waits for the
    pass (milliseconds)."""

    def __init__(self, path: str):
        self._fd: int | None = os.open(path + LONG_READS_SUFFIX, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o644)
        try:
            fcntl.flock(self._fd, fcntl.LOCK_SH)
        except BaseException:
            self.end()
            raise

    def end(self) -> None:
        fd, self._fd = self._fd, None
        if fd is not None:
            os.close(fd)  # the lock with it

    def __enter__(self) -> "LongRead":
        return self

    def __exit__(self, *exc) -> None:
        self.end()


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
