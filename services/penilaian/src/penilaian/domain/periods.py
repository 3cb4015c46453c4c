"""Appraisal periods: a month (``2026-11``), a quarter (``2026-Q4``) or a year (``2026``)."""
from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from datetime import date, timedelta

_MONTH = re.compile(r"^(\d{4})-(0[1-9]|1[0-2])$")
_QUARTER = re.compile(r"^(\d{4})-Q([1-4])$")
_YEAR = re.compile(r"^(\d{4})$")


class BadPeriod(ValueError):
    pass


@dataclass(frozen=True, order=True)
class Period:
    """A closed range of dates [start, end] with its canonical name."""

    start: date
    end: date
    name: str
    kind: str  # "month" | "quarter" | "year"

    def __contains__(self, day: date) -> bool:
        return self.start <= day <= self.end

    def __str__(self) -> str:
        return self.name


def _month_end(year: int, month: int) -> date:
    nxt = date(year + (month == 12), month % 12 + 1, 1)
    return nxt - timedelta(days=1)


def month(year: int, m: int) -> Period:
    return Period(date(year, m, 1), _month_end(year, m), f"{year:04d}-{m:02d}", "month")


def quarter(year: int, q: int) -> Period:
    first = 3 * (q - 1) + 1
    return Period(date(year, first, 1), _month_end(year, first + 2), f"{year:04d}-Q{q}", "quarter")


def year(y: int) -> Period:
    return Period(date(y, 1, 1), date(y, 12, 31), f"{y:04d}", "year")


def parse_period(text: str) -> Period:
    """``2026-11`` → November 2026; ``2026-Q4`` → October–December; ``2026`` → the year."""
    text = (text or "").strip()
    if m := _MONTH.match(text):
        return month(int(m[1]), int(m[2]))
    if m := _QUARTER.match(text):
        return quarter(int(m[1]), int(m[2]))
    if m := _YEAR.match(text):
        return year(int(m[1]))
    raise BadPeriod(f"period {text!r} is not YYYY-MM, YYYY-Qn or YYYY")


@lru_cache(maxsize=8192)
def periods_containing(day: date) -> tuple[Period, Period, Period]:
    """The month, quarter and year a date falls in."""
    return month(day.year, day.month), quarter(day.year, (day.month - 1) // 3 + 1), year(day.year)


@lru_cache(maxsize=4096)
def months_of(period: Period) -> tuple[Period, ...]:
    """The months a period is made of (a month: itself)."""
    return tuple(month(period.start.year, m) for m in range(period.start.month, period.end.month + 1))
