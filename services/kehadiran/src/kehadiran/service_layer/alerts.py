"""PP 94/2021 alerts kept in step with the day records, both ways.

A transaction that changes whether a closed workday is TK (closing it, a late punch, leave, a
holiday, an approved correction) notes the ASN's year (``note_year``); when it commits, each noted
year's standing alerts are recomputed from the stored day records and compared with those raised
before: new ones are raised (``kehadiran.discipline.alert.v1``), ones that no longer hold are
withdrawn (``kehadiran.discipline.alert.withdrawn.v1``). The work is done once per (ASN, year) per
transaction, after every day of it, under a lock per (ASN, year) on PostgreSQL taken in sorted
order after the day locks, so two transactions cannot each miss the other's day.
"""
from __future__ import annotations

from datetime import date, datetime, timezone
from zoneinfo import ZoneInfo

from sqlalchemy import event as sa_event
from sqlalchemy import select, text
from sqlalchemy.orm import Session

from kehadiran.adapters.calendar_orm import DisciplineAlertRow
from kehadiran.adapters.orm import DaySummaryRow, Employee
from kehadiran.domain.alerts import counts, reconcile, standing
from kinerja.events import make_event
from kinerja.events.kehadiran import DISCIPLINE_ALERT, DISCIPLINE_ALERT_WITHDRAWN
from kinerja.messaging.outbox import Outbox

SOURCE = "kinerja/kehadiran"
_PENDING = "kehadiran.alert_years"
_HOOKED = "kehadiran.alert_hook"
_LOCK_KEYS = text("SELECT pg_advisory_xact_lock(hashtextextended(k, 0)) FROM unnest(CAST(:keys AS text[])) AS k")


def counts_as_tk(payload: dict | None) -> tuple[bool, bool]:
    """(a closed workday, TK): what the alerts read of a day record."""
    if not payload:
        return False, False
    closed = bool(payload.get("final") and payload.get("workday"))
    return closed, closed and any(d.get("code") == "TK" for d in payload.get("deductions") or [])


def note_year(session: Session, outbox: Outbox, nip: str, year: int, *, agency_tz: str) -> None:
    """Reconcile ``nip``'s alerts of ``year`` when this transaction commits."""
    pending = session.info.setdefault(_PENDING, {"outbox": outbox, "tz": agency_tz, "keys": set()})
    pending["keys"].add((nip, year))
    if not session.info.get(_HOOKED):
        session.info[_HOOKED] = True
        sa_event.listen(session, "before_commit", _before_commit)
        sa_event.listen(session, "after_rollback", _after_rollback)


def _before_commit(session: Session) -> None:
    pending = session.info.pop(_PENDING, None)
    if pending and pending["keys"]:
        reconcile_alerts(session, pending["outbox"], sorted(pending["keys"]), agency_tz=pending["tz"])


def _after_rollback(session: Session) -> None:
    session.info.pop(_PENDING, None)


def reconcile_alerts(session: Session, outbox: Outbox, keys: list[tuple[str, int]], *, agency_tz: str,
                     now: datetime | None = None) -> dict[str, int]:
    """Raise and withdraw each (NIP, year)'s alerts so they match its day records; returns how
    many were raised and withdrawn."""
    now = now or datetime.now(timezone.utc)
    today = now.astimezone(ZoneInfo(agency_tz)).date()
    if session.get_bind().dialect.name == "postgresql":
        session.execute(_LOCK_KEYS, {"keys": [f"kehadiran.alerts:{nip}:{year}" for nip, year in keys]}).all()
    done = {"raised": 0, "withdrawn": 0}
    for nip, year in keys:
        emp = session.get(Employee, nip)
        if emp is None:
            continue
        payloads = session.execute(
            select(DaySummaryRow.day, DaySummaryRow.payload).where(
                DaySummaryRow.nip == nip, DaySummaryRow.day >= date(year, 1, 1), DaySummaryRow.day <= date(year, 12, 31))
        ).all()
        workdays = []
        for day, payload in payloads:
            closed, tk = counts_as_tk(payload)
            if closed:
                workdays.append((day, tk))
        rows = {(r.kind, r.threshold): r for r in session.execute(
            select(DisciplineAlertRow).where(DisciplineAlertRow.nip == nip, DisciplineAlertRow.year == year)).scalars()}
        to_raise, to_withdraw = reconcile(set(rows), standing(workdays))
        for alert in to_raise:
            session.add(DisciplineAlertRow(nip=nip, year=year, kind=alert.kind, threshold=alert.threshold,
                                           day=alert.day, raised_at=now))
            outbox.add(session, make_event(
                DISCIPLINE_ALERT, subject=nip, agency=emp.agency, source=SOURCE,
                data={"nip": nip, "year": year, "kind": alert.kind, "days": alert.days,
                      "threshold": alert.threshold, "date": alert.day}))
        now_counts = counts(workdays)
        for key in to_withdraw:
            row = rows[key]
            outbox.add(session, make_event(
                DISCIPLINE_ALERT_WITHDRAWN, subject=nip, agency=emp.agency, source=SOURCE,
                data={"nip": nip, "year": year, "kind": row.kind, "days": now_counts[row.kind],
                      "threshold": row.threshold, "raised_on": row.day, "date": today}))
            session.delete(row)
        done["raised"] += len(to_raise)
        done["withdrawn"] += len(to_withdraw)
    session.flush()
    return done
