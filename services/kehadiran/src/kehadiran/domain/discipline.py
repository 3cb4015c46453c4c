"""Daily discipline rules (DESIGN section 6): arrival, departure, TL/PSW/TK and their deductions.

Pure functions over local (agency-timezone) wall-clock times; no I/O.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from operator import itemgetter
from typing import NamedTuple


@dataclass(frozen=True)
class DeductionTable:
    """Percent deducted per code (Permentan 68/2012, the project's default)."""

    tl: tuple[Decimal, Decimal, Decimal, Decimal] = (Decimal("0.5"), Decimal("1"), Decimal("1.5"), Decimal("2"))
    psw: tuple[Decimal, Decimal, Decimal, Decimal] = (Decimal("0.5"), Decimal("1"), Decimal("1.5"), Decimal("2"))
    tk: Decimal = Decimal("4")
    # upper bounds in minutes of bands 1..3; band 4 is anything beyond
    bands: tuple[int, int, int] = (30, 60, 90)


DEFAULT_TABLE = DeductionTable()
# a ``Punch``'s local time, event id and correction id (its fields 0, 2, 3), read in C: the day
# worker sorts and reads every day's punches (no Python function called a punch for them)
_AT = itemgetter(0)
_EVENT_ID = itemgetter(2)
_CORRECTION_ID = itemgetter(3)
_ZERO = timedelta(0)
# a DayResult or Deduction made from a tuple of every one of its fields, without its generated
# ``__new__`` (a Python function, a call a record): the day worker makes a DayResult and a Deduction
# or two per ASN-day (test_discipline compares whole DayResults: a field added and not given here fails)
_make = tuple.__new__


@dataclass(frozen=True)
class WorkWindow:
    """One scheduled working period: local start and end (end may be the next day for night shifts)."""

    start: datetime
    end: datetime
    # worked out once a window, not at every lone punch (a window is made once per schedule and date)
    midpoint: datetime = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "midpoint", self.start + (self.end - self.start) / 2)


def default_window(day: date) -> WorkWindow | None:
    """Perpres 21/2023: Mon–Thu 07:30–16:00, Fri 07:30–16:30, weekends off."""
    weekday = day.weekday()
    if weekday >= 5:
        return None
    end = time(16, 30) if weekday == 4 else time(16, 0)
    return WorkWindow(datetime.combine(day, time(7, 30)), datetime.combine(day, end))


class Punch(NamedTuple):
    """A plain tuple: the day worker makes one per punch and day it recomputes."""

    local_time: datetime  # naive, agency-local wall clock
    status: str | None = None  # "in" / "out" when the device reports it
    event_id: str | None = None
    correction_id: str | None = None  # an approved correction (lupa absen) made this punch


# plain tuples, immutable as the frozen dataclasses they were: the day worker makes one DayResult and
# a Deduction or two per ASN-day, and a frozen dataclass sets each field through
# ``object.__setattr__`` (a DayResult ~6 us loaded, ten times a tuple's)
class Deduction(NamedTuple):
    code: str
    percent: Decimal
    minutes: int | None = None


class DayResult(NamedTuple):
    day: date
    workday: bool
    excused: str | None
    arrival: datetime | None
    departure: datetime | None
    minutes_late: int
    minutes_early: int
    deductions: tuple[Deduction, ...] = ()
    punch_event_ids: tuple[str, ...] = ()
    # the corrections (lupa absen) among the day's punches: the day rests partly on them
    correction_ids: tuple[str, ...] = ()

    @property
    def total_percent(self) -> Decimal:
        return sum((d.percent for d in self.deductions), Decimal("0"))


def whole_minutes_late(arrival: datetime, start: datetime) -> int:
    """07:30:59 is on time, 07:31:00 is one minute late."""
    if arrival <= start:
        return 0
    return int((arrival - start) // timedelta(minutes=1))


def whole_minutes_early(departure: datetime, end: datetime) -> int:
    """Leaving at 15:59:01 is one minute early (partial minutes before the end count)."""
    if departure >= end:
        return 0
    seconds = (end - departure).total_seconds()
    return int(-(-seconds // 60))


def band(minutes: int, table: DeductionTable = DEFAULT_TABLE) -> int:
    """1..4 for minutes > 0; 4 also stands for a missing punch."""
    for i, upper in enumerate(table.bands, start=1):
        if minutes <= upper:
            return i
    return 4


def collapse_bursts(punches: list[Punch], window: timedelta) -> list[Punch]:
    """One person's punches at most ``window`` after the first of their burst are one punch (the
    lobby terminal, then the floor's a minute later; a finger read twice): the burst's first,
    carrying the in/out a later one of them reported if it reported none. Sorted by time."""
    return _collapse(sorted(punches, key=_AT), window)


def _collapse(ordered: list[Punch], window: timedelta) -> list[Punch]:
    """``collapse_bursts`` of punches already in time order."""
    if window <= _ZERO or len(ordered) < 2:
        return ordered
    out: list[Punch] = []
    began: datetime | None = None
    for p in ordered:
        if out and began is not None and p.local_time - began <= window:
            if out[-1].status is None and p.status is not None:
                out[-1] = out[-1]._replace(status=p.status)
            continue
        out.append(p)
        began = p.local_time
    return out


def split_arrival_departure(punches: list[Punch], window: WorkWindow) -> tuple[Punch | None, Punch | None]:
    """First punch arrives, last departs; a lone punch is whichever side of the midpoint it falls
    on, unless the device said in or out."""
    return _split(sorted(punches, key=_AT), window)


def _split(ordered: list[Punch], window: WorkWindow) -> tuple[Punch | None, Punch | None]:
    """``split_arrival_departure`` of punches already in time order."""
    if not ordered:
        return None, None
    if len(ordered) == 1:
        only = ordered[0]
        if only.status == "in":
            return only, None
        if only.status == "out":
            return None, only
        return (only, None) if only.local_time < window.midpoint else (None, only)
    ins = [p for p in ordered if p.status == "in"]
    outs = [p for p in ordered if p.status == "out"]
    arrival = ins[0] if ins else ordered[0]
    departure: Punch | None = outs[-1] if outs else ordered[-1]
    if departure is arrival or departure.local_time <= arrival.local_time:
        departure = None
    elif departure.status != "out" and departure.local_time < window.midpoint:
        # a second touch seconds after arriving (devices double-read fingers) is not a departure
        departure = None
    return arrival, departure


def summarize_day(
    day: date,
    window: WorkWindow | None,
    punches: list[Punch],
    *,
    excused: str | None = None,
    day_over: bool,
    table: DeductionTable = DEFAULT_TABLE,
    burst: timedelta = timedelta(0),
) -> DayResult:
    """The day's record. While the day is not over, only what is already known is deducted:
    a late arrival counts at once; a missing departure or a missing day counts only when it ends.
    Punches within ``burst`` of each other count as one for arrival and departure (every one of
    them is still named in ``punch_event_ids``)."""
    # sorted once (stable: equal times keep their order); the rules below take them in that order
    ordered = sorted(punches, key=_AT)
    ids = tuple(filter(None, map(_EVENT_ID, ordered)))
    corrections = tuple(sorted(set(filter(None, map(_CORRECTION_ID, ordered)))))
    punches = _collapse(ordered, burst) if len(ordered) > 1 else ordered
    if window is None or excused:
        arrival, departure = _split(punches, window) if window else (None, None)
        if window is None and punches:
            arrival, departure = punches[0], punches[-1] if len(punches) > 1 else None
        return _make(DayResult, (day, window is not None, excused, arrival and arrival.local_time,
                                 departure and departure.local_time, 0, 0, (), ids, corrections))
    arrival, departure = _split(punches, window)
    deductions: list[Deduction] = []
    # on time or early: no minutes (``whole_minutes_late`` / ``_early`` would say 0)
    late = (whole_minutes_late(arrival.local_time, window.start)
            if arrival and arrival.local_time > window.start else 0)
    early = (whole_minutes_early(departure.local_time, window.end)
             if departure and departure.local_time < window.end else 0)
    if not punches:
        if day_over:
            deductions.append(_make(Deduction, ("TK", table.tk, None)))
    else:
        if arrival is None:
            deductions.append(_make(Deduction, ("TL4", table.tl[3], None)))
        elif late > 0:
            b = band(late, table)
            deductions.append(_make(Deduction, (f"TL{b}", table.tl[b - 1], late)))
        if departure is None:
            if day_over:
                deductions.append(_make(Deduction, ("PSW4", table.psw[3], None)))
        elif early > 0:
            b = band(early, table)
            deductions.append(_make(Deduction, (f"PSW{b}", table.psw[b - 1], early)))
    return _make(DayResult, (
        day, True, None,
        arrival.local_time if arrival else None,
        departure.local_time if departure else None,
        late, early, tuple(deductions), ids, corrections,
    ))
