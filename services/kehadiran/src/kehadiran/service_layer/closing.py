"""Closing a range of days on demand, with the account of what it did not close and why: the
days before an ASN's TMT or before the roster named them, holidays, days off, days not over.

The range is queued for the day worker (``day_closing``) and the request then works through it
like a worker, a bounded chunk a transaction (other workers may take chunks too), so it can
answer how many day records were published without holding a lock ingest waits for."""
from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from kehadiran.adapters import markers
from kehadiran.adapters.orm import DaySummaryRow, Employee
from kehadiran.domain.schedule import ScheduleContext, close_time
from kehadiran.domain.tracking import BEFORE_TMT, BEFORE_TRACKING, REASONS, skip_reason
from kehadiran.service_layer.day_closing import queue_range
from kehadiran.service_layer.day_worker import DayWorker
from kehadiran.service_layer.schedules import (daterange, employees_of, load_unit_context, tracked_since, utcnow,
                                               with_shifts)

# the reasons that belong to one ASN rather than to the calendar: listed per ASN
PER_ASN = (BEFORE_TMT, BEFORE_TRACKING)
MAX_LISTED = 1000


@dataclass
class CloseReport:
    count: int = 0  # day records published
    workdays: int = 0  # ASN-days closed as workdays (worked, excused or TK)
    skipped: dict[str, dict[str, Any]] = field(default_factory=dict)
    by_asn: list[dict[str, Any]] = field(default_factory=list)
    inactive: int = 0

    def as_dict(self) -> dict[str, Any]:
        return {"count": self.count, "workdays": self.workdays,
                "skipped": [{"reason": r, "message": REASONS[r], "asn_days": v["asn_days"], "asn": len(v["nips"]),
                             "dates": sorted(v["dates"])} for r, v in self.skipped.items()],
                "by_asn": self.by_asn[:MAX_LISTED], "by_asn_truncated": len(self.by_asn) > MAX_LISTED,
                "inactive": self.inactive}


def close_range(session_factory: sessionmaker[Session], worker: DayWorker, agency: str, start: date, end: date, *,
                agency_tz: str, now: datetime | None = None) -> CloseReport:
    """Every active ASN's workdays from ``start`` to ``end`` closed (worked through by
    ``worker``), and per active ASN and day the reason it left no workday record, by the same
    rules (TMT, roster, calendar, schedule, the day's end)."""
    with session_factory() as session, session.begin():
        report = skip_report(session, agency, start, end, agency_tz=agency_tz, now=now)
        before = _versions(session, agency, start, end)
        queue_range(session, agency, start, end)
        upto = markers.last_day_marker(session.connection())
    worker.drive(upto, agency=agency)
    with session_factory() as session, session.begin():
        after = _versions(session, agency, start, end)
    report.count = sum(1 for key, version in after.items() if version > before.get(key, 0))
    return report


def _versions(session: Session, agency: str, start: date, end: date) -> dict[tuple[str, date], int]:
    return {(nip, day): version for nip, day, version in session.execute(
        select(DaySummaryRow.nip, DaySummaryRow.day, DaySummaryRow.version)
        .join(Employee, Employee.nip == DaySummaryRow.nip)
        .where(Employee.agency == agency, DaySummaryRow.day >= start, DaySummaryRow.day <= end))}


def skip_report(session: Session, agency: str, start: date, end: date, *, agency_tz: str,
            now: datetime | None = None) -> CloseReport:
    """Per active ASN and day of the range, the reason it is no workday record (if any)."""
    now = now or utcnow()
    tz = ZoneInfo(agency_tz)
    report = CloseReport()
    units: dict[str, ScheduleContext] = {}
    skipped: dict[str, dict[str, Any]] = defaultdict(lambda: {"asn_days": 0, "nips": set(), "dates": set()})
    for emp in employees_of(session, agency):
        if emp.unit not in units:
            units[emp.unit] = load_unit_context(session, agency, emp.unit, start - timedelta(days=2),
                                                end + timedelta(days=2))
        ctx = with_shifts(session, units[emp.unit], emp.nip, start - timedelta(days=2), end + timedelta(days=2),
                          starts=emp.tmt)
        since = tracked_since(session, emp.nip)
        runs: dict[str, list[date]] = defaultdict(list)
        for day in daterange(start, end):
            reason = skip_reason(day, ctx, since=since,
                                 day_over=now >= close_time(day, ctx).replace(tzinfo=tz))
            if reason is None:
                report.workdays += 1
                continue
            entry = skipped[reason]
            entry["asn_days"] += 1
            entry["nips"].add(emp.nip)
            entry["dates"].add(day.isoformat())
            runs[reason].append(day)
        for reason in PER_ASN:
            if runs.get(reason):
                days = runs[reason]
                report.by_asn.append({"nip": emp.nip, "nama": emp.nama, "reason": reason, "from_": days[0],
                                      "to": days[-1], "days": len(days),
                                      "tmt": emp.tmt, "tracked_since": since})
    report.skipped = dict(sorted(skipped.items()))
    report.inactive = session.execute(select(func.count()).select_from(Employee).where(
        Employee.agency == agency, Employee.active.is_(False))).scalar_one()
    return report
