"""Working time: which window (if any) an ASN is expected to work on a date, and to which
scheduled day a punch belongs (night shifts cross midnight). Pure: no I/O.

Precedence for one ASN on one date: no work before the ASN's TMT (the first day they are
expected here), then an explicit shift assignment, then a holiday or collective leave day (no
work), then a Ramadan schedule in force for the unit, then the unit's week schedule, then the
default week (Perpres 21/2023).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta

from kehadiran.domain.discipline import WorkWindow

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
# a punch this long before a window's start or after its end still belongs to it
MARGIN_BEFORE = timedelta(hours=4)
MARGIN_AFTER = timedelta(hours=8)
_ONE_DAY = timedelta(days=1)


@dataclass(frozen=True)
class DayHours:
    start: time
    end: time  # at or before start means the next day (a night shift)

    def window(self, day: date) -> WorkWindow:
        start = datetime.combine(day, self.start)
        end = datetime.combine(day, self.end)
        if end <= start:
            end += timedelta(days=1)
        return WorkWindow(start, end)


@dataclass(frozen=True)
class WeekSchedule:
    """Hours per weekday (0 = Monday); a missing weekday is a day off."""

    hours: dict[int, DayHours] = field(default_factory=dict)

    def window(self, day: date) -> WorkWindow | None:
        h = self.hours.get(day.weekday())
        return h.window(day) if h else None

    @property
    def weekly_hours(self) -> float:
        total = timedelta()
        for h in self.hours.values():
            w = h.window(date(2026, 1, 5))
            total += w.end - w.start
        return total.total_seconds() / 3600


def week(**days: tuple[str, str] | None) -> WeekSchedule:
    """``week(mon=("07:30", "16:00"), ...)``."""
    hours = {}
    for name, span in days.items():
        if span is not None:
            hours[WEEKDAYS.index(name)] = DayHours(time.fromisoformat(span[0]), time.fromisoformat(span[1]))
    return WeekSchedule(hours)


DEFAULT_WEEK = week(mon=("07:30", "16:00"), tue=("07:30", "16:00"), wed=("07:30", "16:00"),
                    thu=("07:30", "16:00"), fri=("07:30", "16:30"))
# common practice during Ramadan (agencies load their own by date range)
DEFAULT_RAMADAN_WEEK = week(mon=("08:00", "15:00"), tue=("08:00", "15:00"), wed=("08:00", "15:00"),
                            thu=("08:00", "15:00"), fri=("08:00", "15:30"))


@dataclass(frozen=True)
class ScheduleContext:
    """What is known for one ASN around a date; each mapping is keyed by date."""

    unit_week: WeekSchedule = DEFAULT_WEEK
    ramadan: tuple[tuple[date, date, WeekSchedule], ...] = ()
    holidays: frozenset[date] = frozenset()
    shifts: dict[date, DayHours | None] = field(default_factory=dict)  # None: an assigned day off
    starts: date | None = None  # the ASN's TMT: no workday before it
    # each date's window once computed: the day worker asks for the same few dates again and
    # again (every punch's owning day looks at three); not a field ``replace`` carries over
    _windows: dict[date, WorkWindow | None] = field(default_factory=dict, init=False, repr=False, compare=False)
    # per date, the span of its moments ``owning_day`` gives to that date whatever its windows are
    _sole: dict[date, tuple[datetime, datetime]] = field(default_factory=dict, init=False, repr=False,
                                                          compare=False)

    def window(self, day: date) -> WorkWindow | None:
        try:
            return self._windows[day]
        except KeyError:
            found = self._windows[day] = self._window(day)
            return found

    def sole_span(self, day: date) -> tuple[datetime, datetime]:
        """(after, before): a moment dated ``day`` strictly between them is ``day``'s (``owning_day``):
        neither the day before's window nor the next day's reaches it, margins included, so only
        ``day``'s own window can claim it, and without one it keeps its calendar date. Worked out
        once per date: the day worker asks it for every punch (most punches are in it)."""
        try:
            return self._sole[day]
        except KeyError:
            before, after = self.window(day - _ONE_DAY), self.window(day + _ONE_DAY)
            start = datetime.combine(day, time(0))
            span = self._sole[day] = (before.end + MARGIN_AFTER if before else start - _ONE_DAY,
                                      after.start - MARGIN_BEFORE if after else start + 2 * _ONE_DAY)
            return span

    def _window(self, day: date) -> WorkWindow | None:
        if self.starts is not None and day < self.starts:
            return None
        if day in self.shifts:
            shift = self.shifts[day]
            return shift.window(day) if shift else None
        if day in self.holidays:
            return None
        for start, end, sched in self.ramadan:
            if start <= day <= end:
                return sched.window(day)
        return self.unit_week.window(day)


def owning_day(moment: datetime, ctx: ScheduleContext) -> date:
    """The scheduled day a local punch time belongs to: the window (yesterday's, today's or
    tomorrow's) it falls in or lies nearest to within the margins; else its calendar date."""
    day = moment.date()
    # its cached span read here, worked out on a miss: a call less for each punch the day worker dates
    after, before = ctx._sole.get(day) or ctx.sole_span(day)
    if after < moment < before:
        return day
    best: tuple[timedelta, int, date] | None = None
    for offset in (-1, 0, 1):
        day = moment.date() + timedelta(days=offset)
        w = ctx.window(day)
        if w is None or not (w.start - MARGIN_BEFORE <= moment <= w.end + MARGIN_AFTER):
            continue
        if w.start <= moment <= w.end:
            distance = timedelta(0)
        else:
            distance = (w.start - moment) if moment < w.start else (moment - w.end)
        # equal distance: the earlier day, so a boundary punch closes a shift rather than opening one
        candidate = (distance, offset, day)
        if best is None or candidate < best:
            best = candidate
    return best[2] if best else moment.date()


def owned_span(day: date, ctx: ScheduleContext) -> tuple[datetime, datetime]:
    """(first, last), local: every moment ``owning_day`` can give to ``day`` lies between them, both
    included. A moment goes to its calendar date or to a window it lies near (its margins), so the
    span is the date and ``day``'s window widened by the margins: the punches a recompute of ``day``
    needs are those, not every punch of the days around it."""
    first = datetime.combine(day, time(0))
    last = first + _ONE_DAY
    w = ctx.window(day)
    if w is not None:
        first = min(first, w.start - MARGIN_BEFORE)
        last = max(last, w.end + MARGIN_AFTER)
    return first, last


def close_time(day: date, ctx: ScheduleContext) -> datetime:
    """When the day is over and becomes final: its calendar midnight, or later for a window
    (a night shift) that ends after that, plus the margin for a late departure punch."""
    midnight = datetime.combine(day + timedelta(days=1), time(0))
    w = ctx.window(day)
    if w is None:
        return midnight
    return max(midnight, w.end + MARGIN_AFTER) if w.end.date() > day else midnight
