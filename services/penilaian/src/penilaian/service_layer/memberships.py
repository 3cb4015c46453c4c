"""The roster's statements of each ASN's agency (``domain.membership``), one row per (ASN, month):
read for a batch of ASN at once, recorded when newer. A roster event is kept (and published as
``penilaian.membership.recorded.v1``) only when it changes the agency of some month: a roster is
imported again and again, and the same agency said once more is no news. The published statements
come back (and, in a rebuild, restore the moves a compacted ``pegawai.v1`` no longer holds): those
are kept whenever newer, since they may arrive after a later statement."""
from __future__ import annotations

from datetime import datetime, timezone
from typing import Iterable
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from kinerja.events import make_event
from kinerja.events.envelope import Event
from kinerja.events.penilaian import MEMBERSHIP_RECORDED
from penilaian.adapters.orm import MembershipRow
from penilaian.domain.membership import Statement

SOURCE = "kinerja/penilaian"


def as_utc(t: datetime) -> datetime:
    return t.replace(tzinfo=timezone.utc) if t.tzinfo is None else t.astimezone(timezone.utc)


def from_roster(event: Event, zone: ZoneInfo) -> Statement:
    """A roster event's statement: from the month of its TMT (the first day at work there), else
    from the month the roster said so (the event's time, in the agency's time zone)."""
    d = event.data
    day = d.get("tmt") or as_utc(event.time).astimezone(zone).date()
    return Statement(day.replace(day=1), d["agency"], as_utc(event.time), event.id)


def from_recorded(event: Event) -> Statement:
    d = event.data
    return Statement(d["since"].replace(day=1), d["agency"], as_utc(d["stated_at"]), d["roster_event_id"])


def recorded_event(nip: str, statement: Statement) -> Event:
    return make_event(MEMBERSHIP_RECORDED, subject=nip, agency=statement.agency, source=SOURCE,
                      data={"nip": nip, "agency": statement.agency, "since": statement.since,
                            "stated_at": statement.stated_at, "roster_event_id": statement.event_id})


def statements_of(session: Session, nips: Iterable[str]) -> dict[str, list[Statement]]:
    """Each ASN's statements, in month order, with one query per 500 ASN."""
    out: dict[str, list[Statement]] = {}
    todo = sorted(set(nips))
    for i in range(0, len(todo), 500):
        for r in session.execute(select(MembershipRow).where(MembershipRow.nip.in_(todo[i:i + 500]))
                                 .order_by(MembershipRow.nip, MembershipRow.since)).scalars():
            out.setdefault(r.nip, []).append(Statement(r.since, r.agency, as_utc(r.stated_at), r.event_id))
    return out


def store(session: Session, nip: str, statement: Statement, *, stored: bool | None = None) -> None:
    """Keep ``statement`` as the ASN's word for its month (the caller knows it is newer).
    ``stored``: whether a row for that month exists, when the caller knows (then a new one is
    added without a lookup, which would flush the batch so far)."""
    row = session.get(MembershipRow, (nip, statement.since)) if stored is not False else None
    if row is None:
        row = MembershipRow(nip=nip, since=statement.since)
        session.add(row)
    row.agency, row.stated_at, row.event_id = statement.agency, statement.stated_at, statement.event_id
