"""Admin and supervisor commands that change working time, each marking the days it touches for
the day worker, so scores follow: unit schedules, Ramadan schedules, the holiday calendar, shifts,
leave. No request recomputes a day itself: a marker per (ASN, day) is all it writes."""
from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Iterable
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from kehadiran.adapters import markers
from kehadiran.adapters.calendar_orm import Holiday, Leave, RamadanSchedule, Shift, UnitLocation, UnitSchedule
from kehadiran.adapters.orm import Employee
from kehadiran.service_layer.schedules import daterange, employees_of, parse_hhmm, parse_holiday_csv, utcnow
from kinerja.messaging.outbox import Outbox


def _today(agency_tz: str) -> date:
    return datetime.now(ZoneInfo(agency_tz)).date()


# the longest span one request may change (leave, its cancellation, a Ramadan schedule, a unit
# schedule recomputed from a past date): each day of it is marked for every ASN it concerns, and
# the day worker recomputes them in bounded rounds
MAX_SPAN_DAYS = 366


def check_span(start: date, end: date, what: str) -> None:
    """ValueError (a 422 at the API) unless ``start`` .. ``end`` runs forwards over at most
    ``MAX_SPAN_DAYS`` days."""
    if end < start:
        raise ValueError("end_date is before start_date")
    if (end - start).days >= MAX_SPAN_DAYS:
        raise ValueError(f"{what} spans at most {MAX_SPAN_DAYS} days")


def recompute_many(session: Session, outbox: Outbox, nips: Iterable[str], days: Iterable[date], *,
                   agency_tz: str) -> int:
    """Mark the given days (up to today) of the given ASN for the day worker; returns how many."""
    today = _today(agency_tz)
    days = sorted(d for d in set(days) if d <= today)
    return markers.mark_days(session, [(nip, day) for nip in sorted(set(nips)) for day in days])


def hours_payload(days: dict[str, dict | None]) -> dict[str, list[str]]:
    """``{"mon": {"start": "07:30", "end": "16:00"}, "sat": null}`` → weekday index → [start, end]."""
    from kehadiran.domain.schedule import WEEKDAYS

    out: dict[str, list[str]] = {}
    for name, span in days.items():
        if name not in WEEKDAYS:
            raise ValueError(f"{name!r} is not a weekday ({', '.join(WEEKDAYS)})")
        if span:
            out[str(WEEKDAYS.index(name))] = [parse_hhmm(span["start"]), parse_hhmm(span["end"])]
    return out


def set_unit_schedule(session: Session, outbox: Outbox, agency: str, unit: str, days: dict, *,
                      agency_tz: str, recompute_from: date | None = None) -> UnitSchedule:
    hours = hours_payload(days)
    row = session.get(UnitSchedule, (agency, unit))
    if row is None:
        row = UnitSchedule(agency=agency, unit=unit, hours=hours, updated_at=utcnow())
        session.add(row)
    else:
        row.hours, row.updated_at = hours, utcnow()
    session.flush()
    if recompute_from:
        today = _today(agency_tz)
        if recompute_from > today:
            raise ValueError("recompute_from is in the future")
        check_span(recompute_from, today, "recompute_from (to today)")
        nips = [e.nip for e in employees_of(session, agency, unit)]
        recompute_many(session, outbox, nips, daterange(recompute_from, today), agency_tz=agency_tz)
    return row


def add_ramadan(session: Session, outbox: Outbox, agency: str, unit: str | None, start: date, end: date,
                days: dict, *, agency_tz: str) -> RamadanSchedule:
    check_span(start, end, "a Ramadan schedule")
    row = RamadanSchedule(agency=agency, unit=unit, start_date=start, end_date=end, hours=hours_payload(days))
    session.add(row)
    session.flush()
    nips = [e.nip for e in employees_of(session, agency, unit)]
    recompute_many(session, outbox, nips, daterange(start, end), agency_tz=agency_tz)
    return row


def load_holidays(session: Session, outbox: Outbox, agency: str, text: str, *, agency_tz: str):
    rows, errors = parse_holiday_csv(text)
    for r in rows:
        existing = session.get(Holiday, (agency, r["day"]))
        if existing is None:
            session.add(Holiday(agency=agency, day=r["day"], name=r["name"], kind=r["kind"]))
        else:
            existing.name, existing.kind = r["name"], r["kind"]
    session.flush()
    nips = [e.nip for e in employees_of(session, agency)]
    recompute_many(session, outbox, nips, [r["day"] for r in rows], agency_tz=agency_tz)
    return rows, errors


def assign_shifts(session: Session, outbox: Outbox, items: list[dict], *, agency_tz: str) -> int:
    """``[{nip, date, start, end, name}]``; no start/end means an assigned day off."""
    touched = []
    for it in items:
        row = session.get(Shift, (it["nip"], it["date"]))
        start = parse_hhmm(it["start"]) if it.get("start") else None
        end = parse_hhmm(it["end"]) if it.get("end") else None
        if row is None:
            session.add(Shift(nip=it["nip"], day=it["date"], start=start, end=end, name=it.get("name", "")))
        else:
            row.start, row.end, row.name = start, end, it.get("name", row.name)
        touched.append((it["nip"], it["date"]))
    session.flush()
    for nip, day in touched:
        # a night shift's punches may move between the day and its neighbours
        recompute_many(session, outbox, [nip], [day - timedelta(days=1), day, day + timedelta(days=1)],
                       agency_tz=agency_tz)
    return len(items)


def set_leave(session: Session, outbox: Outbox, emp: Employee, start: date, end: date, kind: str, note: str,
              entered_by: str, *, agency_tz: str) -> list[Leave]:
    check_span(start, end, "a leave record")
    rows = []
    for day in daterange(start, end):
        row = session.get(Leave, (emp.nip, day))
        if row is None:
            row = Leave(nip=emp.nip, day=day, kind=kind, note=note, entered_by=entered_by, entered_at=utcnow())
            session.add(row)
        else:
            row.kind, row.note, row.entered_by, row.entered_at = kind, note, entered_by, utcnow()
        rows.append(row)
    session.flush()
    recompute_many(session, outbox, [emp.nip], daterange(start, end), agency_tz=agency_tz)
    return rows


def cancel_leave(session: Session, outbox: Outbox, emp: Employee, start: date, end: date, *, agency_tz: str) -> int:
    check_span(start, end, "a cancellation")
    rows = session.execute(select(Leave).where(Leave.nip == emp.nip, Leave.day >= start, Leave.day <= end)).scalars().all()
    for r in rows:
        session.delete(r)
    session.flush()
    recompute_many(session, outbox, [emp.nip], daterange(start, end), agency_tz=agency_tz)
    return len(rows)


def set_location(session: Session, agency: str, unit: str, lat: float, lon: float, radius_m: float) -> UnitLocation:
    row = session.get(UnitLocation, (agency, unit))
    if row is None:
        row = UnitLocation(agency=agency, unit=unit, lat=lat, lon=lon, radius_m=radius_m)
        session.add(row)
    else:
        row.lat, row.lon, row.radius_m = lat, lon, radius_m
    return row
