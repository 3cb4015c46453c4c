"""Closing days: a workday that is over becomes final, one nobody punched on TK. The closer does
not recompute anything itself: it queues the (ASN, day)s as markers and the day worker works
through them in bounded chunks, so closing a big agency's day never holds ingest up."""
from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Callable
from zoneinfo import ZoneInfo

from sqlalchemy import bindparam, func, select
from sqlalchemy.orm import Session

from kehadiran.adapters import markers
from kehadiran.adapters.calendar_orm import ClosingCursor, Tracking
from kehadiran.adapters.day_store import Asn
from kehadiran.adapters.orm import DaySummaryRow, Employee
from kehadiran.service_layer.round_contexts import RoundContexts
from kehadiran.service_layer.schedules import daterange, utcnow


def queue_range(session: Session, agency: str, start: date, end: date) -> int:
    """A marker for every active ASN of ``agency`` and every day from ``start`` to ``end``;
    returns how many."""
    nips = session.execute(select(Employee.nip).where(Employee.agency == agency, Employee.active.is_(True))
                           .order_by(Employee.nip)).scalars().all()
    days = list(daterange(start, end))
    return markers.mark_days(session, [(nip, day) for nip in nips for day in days])


_ACTIVE = select(Employee.nip, Employee.agency, Employee.unit, Employee.tmt, Employee.active).where(
    Employee.agency == bindparam("agency"), Employee.active.is_(True)).order_by(Employee.nip)
_SINCE = select(Tracking.nip, Tracking.since).join(Employee, Employee.nip == Tracking.nip).where(
    Employee.agency == bindparam("agency"), Employee.active.is_(True))
_RECORDED = select(DaySummaryRow.nip, DaySummaryRow.day, DaySummaryRow.final).join(
    Employee, Employee.nip == DaySummaryRow.nip).where(
    Employee.agency == bindparam("agency"), Employee.active.is_(True), DaySummaryRow.day >= bindparam("lo"),
    DaySummaryRow.day <= bindparam("hi"))


def queue_unfinished(session: Session, agency: str, start: date, end: date) -> int:
    """``queue_range`` without the (ASN, day)s whose recompute would leave them as they are: those
    whose stored record is final already (a final day whose facts change is marked by the change
    itself), and those with no record that time alone can never give one: a day off, a holiday,
    a day before the ASN's TMT or before the roster named them (``day_recompute.day_record``
    records nothing there, and a punch, leave, a schedule or an earlier TMT that would change
    that marks the day itself). Returns how many."""
    conn = session.connection()
    params = {"agency": agency, "lo": start, "hi": end}
    people = [Asn(*row) for row in conn.execute(_ACTIVE, params).all()]
    if not people:
        return 0
    since = dict(conn.execute(_SINCE, params).all())
    recorded = {(nip, day): final for nip, day, final in conn.execute(_RECORDED, params).all()}
    days = list(daterange(start, end))
    contexts = RoundContexts(conn, people, days)
    keys = []
    for emp in people:
        ctx = contexts.around(emp)
        first = since.get(emp.nip)
        for day in days:
            final = recorded.get((emp.nip, day))
            if final is None:
                if ctx.window(day) is None or (first is not None and day < first):
                    continue
            elif final:
                continue
            keys.append((emp.nip, day))
    return markers.mark_days(session, keys)


def close_due_days(session: Session, *, zone_of: Callable[[str], ZoneInfo], now: datetime | None = None) -> int:
    """Queue, per agency, the days from its cursor up to yesterday (in the agency's zone);
    yesterday is queued again next time, since a night shift that began then may still be
    running. Returns the ASN-days queued."""
    now = now or utcnow()
    queued = 0
    agencies = session.execute(select(Employee.agency).distinct().order_by(Employee.agency)).scalars().all()
    for agency in agencies:
        yesterday = now.astimezone(zone_of(agency)).date() - timedelta(days=1)
        # locked: a roster event may move it back meanwhile (an earlier TMT), another worker
        # may be closing too
        cursor = session.get(ClosingCursor, agency, with_for_update=True)
        if cursor is None:
            first = session.execute(
                select(func.min(Tracking.since)).join(Employee, Employee.nip == Tracking.nip)
                .where(Employee.agency == agency)
            ).scalar()
            if first is None:
                continue
            cursor = ClosingCursor(agency=agency, closed_through=first - timedelta(days=1))
            session.add(cursor)
        start = min(cursor.closed_through + timedelta(days=1), yesterday)
        if start > yesterday:
            continue
        # yesterday comes round again every few minutes until it is over for every ASN (a night
        # shift); queuing the whole roster's yesterday each time put tens of thousands of
        # unchanged recomputes ahead of the fresh punches' days
        queued += queue_unfinished(session, agency, start, yesterday)
        cursor.closed_through = max(cursor.closed_through, yesterday - timedelta(days=1))
    return queued
