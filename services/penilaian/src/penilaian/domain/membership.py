"""Which agency an ASN belongs to in a month, from what the roster stated: each statement says
"in this agency from this month on" (the month of the ASN's TMT at the new agency, else the month
the roster said so). A later statement wins from its month on; before every statement's month the
agency is that of the earliest month stated. A period is scored by the policy of the agency on its
first day, so an ASN who moves is scored under the new agency's policy from the month of the move
and keeps the old agency's policy for the months before. Pure."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from operator import attrgetter
from typing import Iterable


@dataclass(frozen=True)
class Statement:
    since: date  # a month's first day
    agency: str
    stated_at: datetime
    event_id: str

    @property
    def order(self) -> tuple:
        return (self.stated_at, self.event_id)


_ORDER = attrgetter("stated_at", "event_id")  # ``Statement.order``


def agency_at(statements: Iterable[Statement], day: date) -> str | None:
    """The agency on ``day``; None when nothing was stated."""
    statements = list(statements)
    if not statements:
        return None
    # lists and an attrgetter, not generators and lambdas: this runs for every period recomputed
    started = [s for s in statements if s.since <= day]
    if started:
        return max(started, key=_ORDER).agency
    first = min([s.since for s in statements])
    return max([s for s in statements if s.since == first], key=_ORDER).agency


def kept(statements: Iterable[Statement], new: Statement) -> list[Statement]:
    """The statements after ``new`` joins them: one per month, the latest stated."""
    by_month = {s.since: s for s in statements}
    old = by_month.get(new.since)
    if old is None or new.order > old.order:
        by_month[new.since] = new
    return sorted(by_month.values(), key=lambda s: s.since)


def changes_anything(statements: Iterable[Statement], new: Statement) -> bool:
    """Whether ``new`` changes the agency of any day. The agency only changes where a statement's
    month starts, so those days (and one before them all) are the ones to compare."""
    before = list(statements)
    after = kept(before, new)
    if after == sorted(before, key=lambda s: s.since):
        return False
    days = {date.min, *(s.since for s in after)}
    return any(agency_at(before, d) != agency_at(after, d) for d in days)
