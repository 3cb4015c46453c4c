"""The schedule contexts of a day worker's round, built once for the round: the working-time facts
of all its agencies and ASN read a statement each (``adapters.schedule_store``), and one
``ScheduleContext`` shared by every ASN of a unit who has no shift and whose TMT is before the
round's dates, so its windows are computed once for all of them, not per ASN and date."""
from __future__ import annotations

from datetime import date, time, timedelta
from typing import Iterable

from sqlalchemy.engine import Connection

from kehadiran.adapters.schedule_store import WorkingTimeFacts, working_time
from kehadiran.domain.schedule import DEFAULT_WEEK, DayHours, ScheduleContext
from kehadiran.service_layer.schedules import day_windows, hours_to_week

# how far from a marked date the recompute asks for windows: the days owning its punches (one
# either side) and the neighbours ``owning_day`` looks at from their punches (one more each way)
REACH = 3


class RoundContexts:
    """``around(emp, day)``: ``emp``'s context for the dates within ``REACH`` of the marked
    ``day``s the round was built for (``emp`` has nip, agency, unit and tmt)."""

    def __init__(self, conn: Connection, people: Iterable, marked_days: Iterable[date]):
        people = list(people)
        days = sorted(set(marked_days))
        self.spans = [(lo - timedelta(days=REACH), hi + timedelta(days=REACH)) for lo, hi in day_windows(days)]
        # a TMT on or before this changes no window the round asks for
        self.first = days[0] - timedelta(days=REACH) if days else date.max
        self.facts: WorkingTimeFacts = (working_time(conn, {p.agency for p in people}, [p.nip for p in people],
                                                     self.spans) if people and days else
                                        WorkingTimeFacts({}, {}, {}, {}))
        self.units: dict[tuple[str, str], ScheduleContext] = {}
        self.shared: dict[tuple[str, str, date | None], ScheduleContext] = {}
        self.own: dict[str, ScheduleContext] = {}

    def _unit(self, agency: str, unit: str) -> ScheduleContext:
        key = (agency, unit)
        found = self.units.get(key)
        if found is None:
            hours = self.facts.unit_hours.get(key)
            ramadan = sorted((r for r in self.facts.ramadan.get(agency, ()) if r.unit is None or r.unit == unit),
                             key=lambda r: (r.unit is None, r.id))  # a unit's own schedule first
            found = self.units[key] = ScheduleContext(
                unit_week=hours_to_week(hours) if hours is not None else DEFAULT_WEEK,
                ramadan=tuple((r.start, r.end, hours_to_week(r.hours)) for r in ramadan),
                holidays=self.facts.holidays.get(agency, frozenset()))
        return found

    def around(self, emp, day: date | None = None) -> ScheduleContext:
        own = self.own.get(emp.nip)
        if own is not None:
            return own
        shifts = self.facts.shifts.get(emp.nip)
        starts = emp.tmt if emp.tmt is not None and emp.tmt > self.first else None
        if shifts:
            ctx = self.own[emp.nip] = ScheduleContext(
                **{**_fields(self._unit(emp.agency, emp.unit)), "starts": emp.tmt,
                   "shifts": {d: (DayHours(time.fromisoformat(s.start), time.fromisoformat(s.end))
                                  if s.start and s.end else None) for d, s in shifts.items()}})
            return ctx
        key = (emp.agency, emp.unit, starts)
        ctx = self.shared.get(key)
        if ctx is None:
            unit = self._unit(emp.agency, emp.unit)
            ctx = self.shared[key] = unit if starts is None else ScheduleContext(**{**_fields(unit), "starts": starts})
        return ctx


def _fields(ctx: ScheduleContext) -> dict:
    return {"unit_week": ctx.unit_week, "ramadan": ctx.ramadan, "holidays": ctx.holidays}
