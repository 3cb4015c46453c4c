"""The time as the service layer reads it: now in UTC, and datetimes read back from SQLite (naive,
stored as UTC) made aware again."""
from __future__ import annotations

from datetime import datetime, timezone


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


def aware(value: datetime | None) -> datetime | None:
    # SQLite hands back naive datetimes for timezone-aware columns; they were stored as UTC
    return value.replace(tzinfo=timezone.utc) if value is not None and value.tzinfo is None else value


def iso(value: datetime | None) -> str | None:
    value = aware(value)
    return value.isoformat() if value is not None else None
