"""What every tugas handler works with: the caller (``Actor``), the clock, and the ``source`` its
events carry."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timezone

SOURCE = "kinerja/tugas"


@dataclass(frozen=True)
class Actor:
    nip: str | None
    role: str
    agency: str


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


def as_utc(t: datetime | None) -> datetime | None:
    # SQLite hands back naive datetimes for timezone-aware columns; they were stored as UTC
    if t is None:
        return None
    return t.replace(tzinfo=timezone.utc) if t.tzinfo is None else t
