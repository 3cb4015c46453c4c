"""Closing a range of days on demand, with the account of what it did not close and why: the
days before an ASN's TMT or before the roster named them, holidays, days off, days not over."""
from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from kehadiran.adapters.orm import Employee
from kehadiran.domain.schedule import ScheduleContext, close_time
from kehadiran.domain.tracking import BEFORE_TMT, BEFORE_TRACKING, REASONS, skip_reason
from kehadiran.service_layer.attendance import close_days, utcnow
from kehadiran.service_layer.schedules import (daterange, employees_of, load_unit_context, tracked_since,
                                               with_shifts)
from kinerja.messaging.outbox import Outbox

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


def close_range(session: Session, outbox: Outbox, agency: str, start: date, end: date, *, agency_tz: str,
                now: datetime | None = None) -> CloseReport:
    """``close_days`` over the range, and per active ASN and day the reason it left no workday
    record, by the same rules (TMT, roster, calendar, schedule, the day's end)."""
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
    report.count = close_days(session, outbox, agency, start, end, agency_tz=agency_tz, now=now)
    return report
