"""Day facts read and written as plain rows, a batch at a time: which version of each day is
stored (one query for a batch's keys), and the winners of a batch written with one upsert
(``bulk_writes``; no ORM object per day: most of a batch's events are day summaries)."""
from __future__ import annotations

from datetime import date
from typing import Any, Iterable

from sqlalchemy import bindparam, select
from sqlalchemy.orm import Session

from penilaian.adapters.bulk_writes import upsert
from penilaian.adapters.orm import DayFactRow

_TABLE = DayFactRow.__table__
_NIPS, _LO, _HI = bindparam("nips", expanding=True), bindparam("lo"), bindparam("hi")
_VERSIONS_OF = select(DayFactRow.nip, DayFactRow.day, DayFactRow.version, DayFactRow.event_id).where(
    DayFactRow.nip.in_(_NIPS), DayFactRow.day >= _LO, DayFactRow.day <= _HI)
CHUNK = 500


def stored_versions(session: Session, keys: Iterable[tuple[str, date]]) -> dict[tuple[str, date], tuple]:
    """(version, event id) of each stored day among ``keys``; a key not stored is absent. One query
    per 500 ASN (their NIPs and the span of the days asked; the other days are dropped here)."""
    wanted: dict[str, set[date]] = {}
    for nip, day in keys:
        wanted.setdefault(nip, set()).add(day)
    out: dict[tuple[str, date], tuple] = {}
    nips = sorted(wanted)
    for i in range(0, len(nips), CHUNK):
        chunk = nips[i:i + CHUNK]
        days = [d for n in chunk for d in wanted[n]]
        for r in session.execute(_VERSIONS_OF, {"nips": chunk, "lo": min(days), "hi": max(days)}).all():
            if r.day in wanted[r.nip]:
                out[(r.nip, r.day)] = (r.version, r.event_id)
    return out


def write_day_facts(session: Session, rows: list[dict[str, Any]]) -> None:
    """Store the rows (each a full row by column name; inserted or overwritten) in one statement."""
    upsert(session, _TABLE, rows)
