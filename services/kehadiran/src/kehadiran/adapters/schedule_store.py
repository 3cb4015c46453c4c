"""The working-time facts a day worker's round needs, read set-based: every unit schedule,
Ramadan schedule and holiday of the round's agencies over its dates, and the shifts of its ASN,
a statement each (not a few per unit and date)."""
from __future__ import annotations

from collections import defaultdict
from datetime import date
from typing import Iterable, NamedTuple

from sqlalchemy import JSON, Date, Integer, String, bindparam, select, union_all
from sqlalchemy.engine import Connection

from kehadiran.adapters.calendar_orm import Holiday, RamadanSchedule, Shift, UnitSchedule
from kehadiran.adapters.list_member import MEMBER, lists
from kehadiran.adapters.union_reads import kind, none


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


def _shifts(member):
    """The shifts of a span of dates after the first (``_one_read`` has the first's)."""
    return select(Shift.nip, Shift.day, Shift.start, Shift.end).where(
        member(Shift.nip, "nips"), Shift.day >= bindparam("lo"), Shift.day <= bindparam("hi"))


_SHIFTS = {dialect: _shifts(member) for dialect, member in MEMBER.items()}


def _one_read(member):
    """The four reads as one statement (each list one parameter whatever its size): a row per
    fact, its kind first; the shifts of one span of dates (``shift_lo``..``shift_hi``)."""
    return union_all(
        select(kind("r"), RamadanSchedule.id, RamadanSchedule.agency, RamadanSchedule.unit, RamadanSchedule.start_date,
               RamadanSchedule.end_date, RamadanSchedule.hours, none(String), none(String)).where(
            member(RamadanSchedule.agency, "agencies"), RamadanSchedule.start_date <= bindparam("hi"),
            RamadanSchedule.end_date >= bindparam("lo")),
        select(kind("u"), none(Integer), UnitSchedule.agency, UnitSchedule.unit, none(Date), none(Date),
               UnitSchedule.hours, none(String), none(String)).where(member(UnitSchedule.agency, "agencies")),
        select(kind("h"), none(Integer), Holiday.agency, none(String), Holiday.day, none(Date), none(JSON),
               none(String), none(String)).where(
            member(Holiday.agency, "agencies"), Holiday.day >= bindparam("lo"), Holiday.day <= bindparam("hi")),
        select(kind("s"), none(Integer), Shift.nip, none(String), Shift.day, none(Date), none(JSON), Shift.start,
               Shift.end).where(
            member(Shift.nip, "nips"), Shift.day >= bindparam("shift_lo"), Shift.day <= bindparam("shift_hi")),
    )


_ONE_READ = {dialect: _one_read(member) for dialect, member in MEMBER.items()}


class WorkingTimeFacts(NamedTuple):
    unit_hours: dict[tuple[str, str], dict]  # (agency, unit) → hours; absent: the default week
    ramadan: dict[str, list[RamadanRow]]  # agency → its rows, by id
    holidays: dict[str, frozenset[date]]
    shifts: dict[str, dict[date, ShiftRow]]  # nip → its shifts by date


def working_time(conn: Connection, agencies: Iterable[str], nips: Iterable[str],
                 spans: list[tuple[date, date]]) -> WorkingTimeFacts:
    """The facts of ``agencies`` and ``nips`` on the dates of ``spans`` (date ranges)."""
    agencies = sorted(set(agencies))
    nips = sorted(set(nips))
    lo, hi = min(s for s, _ in spans), max(e for _, e in spans)
    unit_hours: dict[tuple[str, str], dict] = {}
    ramadan_rows: list[RamadanRow] = []
    holidays: dict[str, set[date]] = defaultdict(set)
    shifts: dict[str, dict[date, ShiftRow]] = defaultdict(dict)
    # one statement for a round of one span of dates (every 1-key round), not four
    (first_lo, first_hi), rest = spans[0], spans[1:]
    for kind, rid, key, unit, d1, d2, hours, start, end in conn.execute(
            _ONE_READ[conn.dialect.name], {"agencies": agencies, "nips": nips, "lo": lo, "hi": hi,
                                           "shift_lo": first_lo, "shift_hi": first_hi}).all():
        if kind == "s":
            shifts[key][d1] = ShiftRow(d1, start, end)
        elif kind == "h":
            holidays[key].add(d1)
        elif kind == "u":
            unit_hours[(key, unit)] = hours
        else:
            ramadan_rows.append(RamadanRow(rid, key, unit, d1, d2, hours))
    for start, end in rest:
        for chunk in lists(conn, nips):
            for nip, day, s, e in conn.execute(_SHIFTS[conn.dialect.name], {"nips": chunk, "lo": start, "hi": end}).all():
                shifts[nip][day] = ShiftRow(day, s, e)
    ramadan: dict[str, list[RamadanRow]] = defaultdict(list)
    for row in sorted(ramadan_rows):
        ramadan[row.agency].append(row)
    return WorkingTimeFacts(unit_hours, dict(ramadan), {a: frozenset(d) for a, d in holidays.items()},
                            dict(shifts))
