"""The working-time facts a day worker's round needs, read set-based: every unit schedule,
Ramadan schedule and holiday of the round's agencies over its dates, and the shifts of its ASN,
a statement each (not a few per unit and date)."""
from __future__ import annotations

from collections import defaultdict
from datetime import date
from typing import Iterable, NamedTuple

from sqlalchemy import bindparam, select
from sqlalchemy.engine import Connection

from kehadiran.adapters.calendar_orm import Holiday, RamadanSchedule, Shift, UnitSchedule
from kehadiran.adapters.day_store import MEMBER, lists


class RamadanRow(NamedTuple):
    id: int
    agency: str
    unit: str | None
    start: date
    end: date
    hours: dict


class ShiftRow(NamedTuple):
    day: date
    start: str | None
    end: str | None


def _reads(member):
    return {
        "units": select(UnitSchedule.agency, UnitSchedule.unit, UnitSchedule.hours).where(
            member(UnitSchedule.agency, "agencies")),
        "ramadan": select(RamadanSchedule.id, RamadanSchedule.agency, RamadanSchedule.unit,
                          RamadanSchedule.start_date, RamadanSchedule.end_date, RamadanSchedule.hours).where(
            member(RamadanSchedule.agency, "agencies"), RamadanSchedule.start_date <= bindparam("hi"),
            RamadanSchedule.end_date >= bindparam("lo")),
        "holidays": select(Holiday.agency, Holiday.day).where(
            member(Holiday.agency, "agencies"), Holiday.day >= bindparam("lo"), Holiday.day <= bindparam("hi")),
        "shifts": select(Shift.nip, Shift.day, Shift.start, Shift.end).where(
            member(Shift.nip, "nips"), Shift.day >= bindparam("lo"), Shift.day <= bindparam("hi")),
    }


_READS = {dialect: _reads(member) for dialect, member in MEMBER.items()}


class WorkingTimeFacts(NamedTuple):
    unit_hours: dict[tuple[str, str], dict]  # (agency, unit) → hours; absent: the default week
    ramadan: dict[str, list[RamadanRow]]  # agency → its rows, by id
    holidays: dict[str, frozenset[date]]
    shifts: dict[str, dict[date, ShiftRow]]  # nip → its shifts by date


def working_time(conn: Connection, agencies: Iterable[str], nips: Iterable[str],
                 spans: list[tuple[date, date]]) -> WorkingTimeFacts:
    """The facts of ``agencies`` and ``nips`` on the dates of ``spans`` (date ranges)."""
    q = _READS[conn.dialect.name]
    agencies = sorted(set(agencies))
    lo, hi = min(s for s, _ in spans), max(e for _, e in spans)
    unit_hours = {(a, u): h for a, u, h in conn.execute(q["units"], {"agencies": agencies}).all()}
    ramadan: dict[str, list[RamadanRow]] = defaultdict(list)
    for row in sorted(conn.execute(q["ramadan"], {"agencies": agencies, "lo": lo, "hi": hi}).all()):
        ramadan[row[1]].append(RamadanRow(*row))
    holidays: dict[str, set[date]] = defaultdict(set)
    for agency, day in conn.execute(q["holidays"], {"agencies": agencies, "lo": lo, "hi": hi}).all():
        holidays[agency].add(day)
    shifts: dict[str, dict[date, ShiftRow]] = defaultdict(dict)
    nips = sorted(set(nips))
    for start, end in spans:
        for chunk in lists(conn, nips):
            for nip, day, s, e in conn.execute(q["shifts"], {"nips": chunk, "lo": start, "hi": end}).all():
                shifts[nip][day] = ShiftRow(day, s, e)
    return WorkingTimeFacts(unit_hours, dict(ramadan), {a: frozenset(d) for a, d in holidays.items()},
                            dict(shifts))
