"""The checkpointer's closing pass: the pass that makes a WAL restartable once it has grown to
``sqlite_checkpoint.CLOSE_AT_PAGES``. It copies ahead without a write turn (``COPY_AHEAD_LEFT``),
waits for any ``LongRead`` to end, then takes a write turn and holds it until every frame is copied
and no reader of an older snapshot is left (at most ``READER_GRACE_MAX_S``), so the next writer
starts the WAL from its start. Apart from ``sqlite_checkpoint`` (the thread, its leadership and its
plain passes) because this is the one part that makes writers wait, with its own timings; see
``sqlite_checkpoint``'s module docstring for the measurements behind them."""
from __future__ import annotations

import fcntl
import logging
import os
import sqlite3
import time

from kinerja import sqlite_locking
from kinerja.sqlite_long_read import LONG_READS_SUFFIX
from kinerja.sqlite_wal_index import describe_process, old_snapshot_readers, wal_frames

# the checkpointer's log, named as before the closing pass had its own module
log = logging.getLogger("kinerja.sqlite_checkpoint")

READER_GRACE_S = 0.005  # the turn held after that pass where the readers cannot be seen (not Linux)
READER_GRACE_MAX_S = 0.025  # the longest the turn is held for older readers to end (writers wait)
READER_GRACE_POLL_S = 0.001
# a closing pass first copies without the turn (passive passes) until at most this many frames are
# left, or ``COPY_AHEAD_PASSES`` passes: only what the writers add meanwhile is copied with it held
COPY_AHEAD_LEFT = 256
COPY_AHEAD_PASSES = 3
LONG_READS_WAIT_S = 2.0  # a closing pass that cannot have that lock this soon goes ahead without it
LONG_READS_POLL_S = 0.001


class ClosingPass:
    """The closing pass of ``sqlite_checkpoint.Checkpointer`` (its base): uses its ``path``,
    ``stop``, ``_pass`` and counters."""

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
                                    "readers": {describe_process(pid): slots for pid, slots in readers.items()}})
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
