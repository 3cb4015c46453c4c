"""A read that may keep its SQLite snapshot longer than a closing pass's grace (``LongRead``): the
reader's side of the ``<file>-long-reads`` lock. Apart from ``sqlite_checkpoint`` because its users
(a day round's snapshot) need only this lock, not the checkpointer; the closing pass takes the same
lock exclusively (``sqlite_closing_pass``)."""
from __future__ import annotations

import fcntl
import os

LONG_READS_SUFFIX = "-long-reads"  # ``LongRead``'s lock file beside the database


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
