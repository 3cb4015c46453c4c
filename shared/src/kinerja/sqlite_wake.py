"""The wake-up of ``kinerja.sqlite_locking``'s waiting processes: a FIFO beside the database file
(``<file>-wake``). A waiting process's head waiter sleeps in ``poll`` on it between its tries of
BEGIN IMMEDIATE; a writer that gives the lock back while someone waits writes a byte to it. The
sleep still ends after the waiter's own poll interval: a wake-up is a hint, never the only way
out (a writer outside these rules, one that died, a byte another process's waiter took first).
"""
from __future__ import annotations

import errno
import os
import select
import stat
import time

NONE = -1  # no FIFO could be had: sleeps are plain sleeps, wake-ups do nothing


def open_fifo(path: str) -> int:
    """The FIFO at ``path`` (made if missing), opened read-write and non-blocking (O_RDWR on a
    FIFO neither blocks nor fails for want of a reader); ``NONE`` where none can be had (a file
    system without FIFOs, another kind of file there)."""
    try:
        try:
            os.mkfifo(path, 0o644)
        except FileExistsError:
            pass
        if not stat.S_ISFIFO(os.stat(path).st_mode):
            return NONE
        return os.open(path, os.O_RDWR | os.O_NONBLOCK)
    except OSError as exc:
        if exc.errno in (errno.ENOENT, errno.EPERM, errno.EACCES, errno.EINVAL, errno.ENOTSUP, errno.EROFS):
            return NONE
        raise


def wake(fd: int) -> None:
    if fd == NONE:
        return
    try:
        os.write(fd, b"w")
    except OSError:
        pass  # full (EAGAIN): a wake-up is pending already


def sleep(fd: int, seconds: float) -> None:
    """Up to ``seconds``, less when a byte arrives; the bytes pending are taken."""
    if fd == NONE:
        time.sleep(seconds)
        return
    poller = select.poll()
    poller.register(fd, select.POLLIN)
    if poller.poll(seconds * 1000):
        try:
            os.read(fd, 512)
        except OSError:
            pass  # another process's waiter took it (EAGAIN)
