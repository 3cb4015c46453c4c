"""The facts a round of day recomputes reads: for each (ASN, day) it recomputes, the stored record,
the leave, and the punches that day can own (``schedule.owned_span``: its date, and its window
widened by the margins), a statement per window of dates (``day_windows``).

Not the punches of the days around it: in a working month every neighbour day has its punches and
its record, and reading them all (a week of instants, so as to cover any zone and night shift)
made a round read and decode four to five rows a key where one is needed; the drain after an
upload slowed run by run as the month filled (bench/day_drain.py, stop 38). The days a punch of
a recomputed day turns out to belong to (a night shift's departure, a punch past midnight within a
window's margin) are read in a second pass, for them alone.
"""
from __future__ import annotations

from collections import defaultdict
from datetime import date, datetime, timedelta, timezone
from typing import Iterable, Mapping
from zoneinfo import ZoneInfo

from sqlalchemy.engine import Connection

from kehadiran.adapters import day_store
from kehadiran.adapters.day_store import StoredDay, StoredPunch
from kehadiran.domain.schedule import ScheduleContext, owned_span
from kehadiran.service_layer.schedules import day_windows

# local to UTC: a time a change of offset skips or repeats maps to two instants up to the change
# apart (an hour almost everywhere, two at most); the span is widened by more than that, which reads a
# few more punches and never misses one
_SLACK = timedelta(hours=3)


class DayFacts:
    """What the reads found, accumulated over the passes: ``stored`` and ``leaves`` by (ASN, day),
    ``punches`` by ASN and punch id (the passes' spans may overlap)."""

    def __init__(self, conn: Connection, ctx_of: Mapping[str, ScheduleContext], zone_of_nip: Mapping[str, ZoneInfo]):
        self.conn = conn
        self.ctx_of = ctx_of
        self.zone_of_nip = zone_of_nip
        self.stored: dict[tuple[str, date], StoredDay] = {}
        self.leaves: dict[tuple[str, date], str] = {}
        self.punches: dict[str, dict[str, StoredPunch]] = defaultdict(dict)
        self.covered: set[tuple[str, date]] = set()

    def read(self, keys: Iterable[tuple[str, date]]) -> None:
        """Every fact the recompute of ``keys`` needs that no earlier pass read."""
        keys = {k for k in keys if k not in self.covered}
        self.covered |= keys
        ctx_of, zone_of_nip = self.ctx_of, self.zone_of_nip
        for lo, hi in day_windows({day for _, day in keys}):
            nips: set[str] = set()
            # the window's distinct (context, zone, day)s: a unit's ASN share one; a plain loop, no
            # call a key (``test_day_round_python_calls``)
            distinct: dict[tuple[int, ZoneInfo, date], tuple[ScheduleContext, ZoneInfo, date]] = {}
            for nip, day in keys:
                if lo <= day <= hi:
                    nips.add(nip)
                    ctx, tz = ctx_of[nip], zone_of_nip[nip]
                    distinct[(id(ctx), tz, day)] = (ctx, tz, day)
            spans = [_utc_span(ctx, tz, day) for ctx, tz, day in distinct.values()]
            days, leave, punches = day_store.facts(self.conn, sorted(nips), lo, hi,
                                                   min(start for start, _ in spans), max(end for _, end in spans))
            self.stored.update(days)
            self.leaves.update(leave)
            for p in punches:
                self.punches[p.nip][p.id] = p


def _utc_span(ctx: ScheduleContext, tz: ZoneInfo, day: date) -> tuple[datetime, datetime]:
    """``owned_span`` as instants, widened by ``_SLACK``."""
    first, last = owned_span(day, ctx)
    return (first.replace(tzinfo=tz).astimezone(timezone.utc) - _SLACK,
            last.replace(tzinfo=tz).astimezone(timezone.utc) + _SLACK)
