"""Counts for tests that pin a path's cost without timing it: the Python functions a call runs,
and whether a SQLite file's one write lock is free this instant."""
from __future__ import annotations

import sqlite3
import sys
from pathlib import Path
from typing import Callable, TypeVar

T = TypeVar("T")


def python_calls(fn: Callable[[], T]) -> tuple[int, T]:
    """(Python functions called, result) of ``fn()``, from ``sys.setprofile``'s call events: the
    same count on any machine, however loaded."""
    calls = 0

    def count(_frame, event, _arg):
        nonlocal calls
        if event == "call":
            calls += 1

    sys.setprofile(count)
    try:
        result = fn()
    finally:
        sys.setprofile(None)
    return calls, result


def sqlite_write_lock_free(path: str | Path) -> bool:
    """Whether another connection could take the file's write lock this instant (no waiting)."""
    probe = sqlite3.connect(path, timeout=0, isolation_level=None)
    try:
        probe.execute("BEGIN IMMEDIATE")
        probe.execute("ROLLBACK")
        return True
    except sqlite3.OperationalError as exc:
        if "locked" not in str(exc):
            raise
        return False
    finally:
        probe.close()
