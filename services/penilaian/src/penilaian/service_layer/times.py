"""Instants as penilaian stores them (UTC) and the local day an instant falls on."""
from __future__ import annotations

from datetime import date, datetime, timezone
from zoneinfo import ZoneInfo


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


def as_utc(t: datetime) -> datetime:
    # SQLite hands back naive datetimes for timezone-aware columns; they were stored as UTC
    return t.replace(tzinfo=timezone.utc) if t.tzinfo is None else t.astimezone(timezone.utc)


def local_date(t: datetime | None, tz: ZoneInfo) -> date | None:
    return as_utc(t).astimezone(tz).date() if t is not None else None
