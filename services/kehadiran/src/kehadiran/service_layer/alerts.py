"""PP 94/2021 alerts kept in step with the day records, both ways.

The day worker notes, per round, each (ASN, year) where whether a closed workday is TK changed
(closing it, a late punch, leave, a holiday, an approved correction), and reconciles them at the
end of the round, in its transaction: the year's standing alerts are recomputed from the stored
day records and compared with those raised before; new ones are raised
(``kehadiran.discipline.alert.v1``), ones that no longer hold are withdrawn
(``kehadiran.discipline.alert.withdrawn.v1``). The worker holds the ASN's lock (``day_store``),
so two workers never reconcile one ASN at once, and each reads the days the other committed.
"""
from __future__ import annotations

from datetime import date, datetime, timezone
from typing import Callable
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from kehadiran.adapters.calendar_orm import DisciplineAlertRow
from kehadiran.adapters.orm import DaySummaryRow, Employee
from kehadiran.domain.alerts import counts, reconcile, standing
from kinerja.events import make_event
from kinerja.events.kehadiran import DISCIPLINE_ALERT, DISCIPLINE_ALERT_WITHDRAWN
from kinerja.messaging.outbox import Outbox

SOURCE = "kinerja/kehadiran"


def counts_as_tk(payload: dict | None) -> tuple[bool, bool]:
    """(a closed workday, TK): what the alerts read of a day record."""
    if not payload:
        return False, False
    closed = bool(payload.get("final") and payload.get("workday"))
    return closed, closed and any(d.get("code") == "TK" for d in payload.get("deductions") or [])


def reconcile_alerts(session: Session, outbox: Outbox, keys: list[tuple[str, int]], *,
                     zone_of: Callable[[str], ZoneInfo], now: datetime | None = None) -> dict[str, int]:
    """Raise and withdraw each (NIP, year)'s alerts so they match its day records; returns how
    many were raised and withdrawn. The caller holds each ASN's lock."""
    now = now or datetime.now(timezone.utc)
    done = {"raised": 0, "withdrawn": 0}
    for nip, year in keys:
        emp = session.get(Employee, nip)
        if emp is None:
            continue
        today = now.astimezone(zone_of(emp.agency)).date()
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
