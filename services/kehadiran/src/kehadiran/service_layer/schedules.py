"""Loading an ASN's working-time context from the tables, and the admin commands that change it."""
from __future__ import annotations

import csv
import io
from dataclasses import replace
from datetime import date, datetime, time, timedelta, timezone
from typing import Iterable

from sqlalchemy import bindparam, or_, select
from sqlalchemy.orm import Session

from kehadiran.adapters.calendar_orm import Holiday, Leave, RamadanSchedule, Shift, Tracking, UnitSchedule
from kehadiran.adapters.orm import Employee
from kehadiran.domain.schedule import DEFAULT_WEEK, DayHours, ScheduleContext, WeekSchedule
from kinerja.fields import WINDOW, in_window

LEAVE_KINDS = ("cuti", "sakit", "dinas_luar")
HOLIDAY_KINDS = ("libur", "cuti_bersama")


def hours_to_week(hours: dict) -> WeekSchedule:
    return WeekSchedule({int(k): DayHours(time.fromisoformat(v[0]), time.fromisoformat(v[1]))
                         for k, v in hours.items() if v})


# built once (every punch batch runs them): building a statement costs about what running it does
_RAMADAN = select(RamadanSchedule).where(
    RamadanSchedule.agency == bindparam("agency"),
    or_(RamadanSchedule.unit.is_(None), RamadanSchedule.unit == bindparam("unit")),
    RamadanSchedule.start_date <= bindparam("end"), RamadanSchedule.end_date >= bindparam("start"),
).order_by(RamadanSchedule.unit.is_(None), RamadanSchedule.id)  # a unit's own schedule first
_HOLIDAYS = select(Holiday.day).where(Holiday.agency == bindparam("agency"), Holiday.day >= bindparam("start"),
                                      Holiday.day <= bindparam("end"))


def load_unit_context(session: Session, agency: str, unit: str, start: date, end: date) -> ScheduleContext:
    """The unit-wide part of the context (week, Ramadan, holidays): the same for everyone in the unit."""
    row = session.get(UnitSchedule, (agency, unit))
    ramadan = session.execute(_RAMADAN, {"agency": agency, "unit": unit, "start": start, "end": end}).scalars().all()
    holidays = session.execute(_HOLIDAYS, {"agency": agency, "start": start, "end": end}).scalars().all()
    return ScheduleContext(
        unit_week=hours_to_week(row.hours) if row else DEFAULT_WEEK,
        ramadan=tuple((r.start_date, r.end_date, hours_to_week(r.hours)) for r in ramadan),
        holidays=frozenset(holidays),
    )


def with_shifts(session: Session, unit_ctx: ScheduleContext, nip: str, start: date, end: date, *,
                starts: date | None = None) -> ScheduleContext:
    shifts = session.execute(
        select(Shift).where(Shift.nip == nip, Shift.day >= start, Shift.day <= end)
    ).scalars().all()
    return shifts_applied(unit_ctx, shifts, starts=starts)


def shifts_applied(unit_ctx: ScheduleContext, shifts: list[Shift], *, starts: date | None = None) -> ScheduleContext:
    """The unit-wide context with one ASN's shifts (already loaded) and TMT on top."""
    if not shifts and starts is None:
        return unit_ctx
    return replace(unit_ctx, starts=starts,
                   shifts={s.day: (DayHours(time.fromisoformat(s.start), time.fromisoformat(s.end))
                                   if s.start and s.end else None) for s in shifts})


def day_windows(days: Iterable[date], span: int = 7) -> list[tuple[date, date]]:
    """Sorted dates grouped into ranges of at most ``span`` days, so bulk queries cover a batch's
    dates without reading the years between two far-apart ones."""
    windows: list[tuple[date, date]] = []
    for day in sorted(set(days)):
        if windows and (day - windows[-1][0]).days < span:
            windows[-1] = (windows[-1][0], day)
        else:
            windows.append((day, day))
    return windows


def load_context(session: Session, emp: Employee, start: date, end: date) -> ScheduleContext:
    """Everything that decides ``emp``'s windows on the days ``start``..``end``."""
    return with_shifts(session, load_unit_context(session, emp.agency, emp.unit, start, end), emp.nip, start, end,
                       starts=emp.tmt)


def leave_on(session: Session, nip: str, day: date) -> Leave | None:
    return session.get(Leave, (nip, day))


def track_from(session: Session, nip: str, since: date, *, only_if_earlier: bool = True) -> None:
    row = session.get(Tracking, nip)
    if row is None:
        session.add(Tracking(nip=nip, since=since))
    elif not only_if_earlier or since < row.since:
        row.since = since


def tracked_since(session: Session, nip: str) -> date | None:
    row = session.get(Tracking, nip)
    return row.since if row else None


def month_span(period: str) -> tuple[date, date]:
    """``"2026-11"`` → (2026-11-01, 2026-12-01): the month's first day and the next month's."""
    y, m = map(int, period.split("-"))
    return date(y, m, 1), date(y + (m == 12), m % 12 + 1, 1)


def daterange(start: date, end: date):
    d = start
    while d <= end:
        yield d
        d += timedelta(days=1)


# a year's holidays and collective leave are a few dozen lines; each line's day is recomputed
# for every ASN of the agency in the request
MAX_HOLIDAY_LINES = 1000


def parse_holiday_csv(text: str) -> tuple[list[dict], list[tuple[int, str]]]:
    """``date,name,kind`` (kind libur or cuti_bersama, default libur); header optional."""
    rows, errors = [], []
    reader = csv.reader(io.StringIO(text.lstrip("\ufeff")))
    for line_no, fields in enumerate(reader, start=1):
        if not fields or not any(f.strip() for f in fields):
            continue
        if line_no == 1 and fields[0].strip().lower() in ("date", "tanggal"):
            continue
        if len(fields) < 2:
            errors.append((line_no, "expected date,name[,kind]"))
            continue
        if len(rows) + len(errors) >= MAX_HOLIDAY_LINES:
            errors.append((line_no, f"at most {MAX_HOLIDAY_LINES} lines in one load: load the rest separately"))
            break
        try:
            day = date.fromisoformat(fields[0].strip()[:10]) if len(fields[0].strip()) == 10 else None
        except ValueError:
            day = None
        if day is None:
            errors.append((line_no, f"date: {fields[0].strip()[:40]!r} is not YYYY-MM-DD"))
            continue
        if not in_window(day):
            errors.append((line_no, f"date: {day} is not {WINDOW}"))
            continue
        name = fields[1].strip()
        kind = (fields[2].strip() if len(fields) > 2 and fields[2].strip() else "libur").lower()
        if not name:
            errors.append((line_no, "name: empty"))
            continue
        if kind not in HOLIDAY_KINDS:
            errors.append((line_no, f"kind: {kind!r} is not one of {', '.join(HOLIDAY_KINDS)}"))
            continue
        rows.append({"day": day, "name": name[:200], "kind": kind})
    return rows, errors


def parse_hhmm(value: str) -> str:
    t = time.fromisoformat(value)
    return t.strftime("%H:%M")


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


def employees_of(session: Session, agency: str, unit: str | None = None) -> list[Employee]:
    q = select(Employee).where(Employee.agency == agency, Employee.active.is_(True))
    if unit is not None:
        q = q.where(Employee.unit == unit)
    return list(session.execute(q.order_by(Employee.nip)).scalars())


