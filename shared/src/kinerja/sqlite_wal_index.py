"""What a SQLite file's WAL index (``<file>-shm``) tells without a lock or a statement: how many
frames the WAL holds and how many are copied back, and which processes still read an older
snapshot from it. Apart from ``sqlite_checkpoint`` because it is a reading of SQLite's documented
file format and of ``/proc``, not a decision: the checkpointer and its closing pass both ask it."""
from __future__ import annotations

import os
import struct

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


def describe_process(pid: int) -> str:
    """``pid`` and its command line (a log's reader of an older snapshot: a web worker, a relay...)."""
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as f:
            return f"{pid} " + f.read().replace(b"\0", b" ").decode(errors="replace").strip()[:120]
    except OSError:
        return str(pid)
