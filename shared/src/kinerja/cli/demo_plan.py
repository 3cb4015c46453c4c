"""The demo history's plan (what ``make_plan`` writes and ``demo_load`` carries out) and the
calendar and id helpers the parts of the plan share."""
from __future__ import annotations

import random
import uuid
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from kinerja.cli.demo_story import END_FRI, END_MON_THU, MONTHS_ID, NAMESPACE


@dataclass
class Plan:
    agency: str
    today: date
    now: datetime  # aware, the agency's zone
    first: date  # the first day of the history
    months: list[str]  # YYYY-MM, oldest first, the current month last
    roster: list[dict]  # the roster rows with tmt and tpp
    personas: dict[str, str]
    holidays: list[tuple[date, str]] = field(default_factory=list)
    leaves: list[tuple[str, date, date, str, str]] = field(default_factory=list)  # nip, start, end, kind, note
    punches: dict[str, list[tuple[str, datetime]]] = field(default_factory=dict)  # device SN → (PIN, device time)
    absent_days: set[tuple[str, date]] = field(default_factory=set)  # TK (and not-yet-arrived today)
    history: dict[str, Any] = field(default_factory=dict)  # tugas's part (tugas.entrypoints.history)
    ratings: list[tuple[str, str, str, dict[str, str]]] = field(default_factory=list)  # nip, period, rater, levels
    trainings: list[tuple[str, str, int, date, str]] = field(default_factory=list)  # nip, title, jp, date, provider
    organisation: list[tuple[str, str]] = field(default_factory=list)  # period, predikat
    dialogs: list[dict[str, Any]] = field(default_factory=list)

    @property
    def workdays(self) -> list[date]:
        off = {d for d, _ in self.holidays}
        days, d = [], self.first
        while d <= self.today:
            if d.weekday() < 5 and d not in off:
                days.append(d)
            d += timedelta(days=1)
        return days


def story_id(*parts: Any) -> str:
    return str(uuid.uuid5(NAMESPACE, "/".join(map(str, parts))))


def month_start(day: date, back: int = 0) -> date:
    y, m = day.year, day.month - back
    while m < 1:
        y, m = y - 1, m + 12
    return date(y, m, 1)


def weekday_on_or_before(day: date) -> date:
    while day.weekday() >= 5:
        day -= timedelta(days=1)
    return day


def at_time(day: date, hh: int, mm: int, zone: ZoneInfo) -> datetime:
    return datetime.combine(day, time(hh, mm), tzinfo=zone)


def pick_weighted(rng: random.Random, weights: dict[str, int]) -> str:
    return rng.choices(list(weights), weights=list(weights.values()))[0]


def end_of_day(day: date) -> time:
    return END_FRI if day.weekday() == 4 else END_MON_THU


def isoformat_all(obj):
    if isinstance(obj, list):
        return [isoformat_all(x) for x in obj]
    if isinstance(obj, dict):
        return {k: isoformat_all(v) for k, v in obj.items()}
    if isinstance(obj, datetime):
        return obj.isoformat()
    return obj


def month_label(month: str) -> str:
    y, m = month.split("-")
    return f"{MONTHS_ID[int(m) - 1]} {y}"
