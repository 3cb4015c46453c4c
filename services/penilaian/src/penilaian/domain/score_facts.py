"""The facts a score is computed from, as the service layer hands them in (the latest version of
each day, the latest state of each task, innovations, a BerAKHLAK rating), and the order that
decides which state of a task is the latest."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Mapping

APPROVED, CANCELLED = "approved", "cancelled"


@dataclass(frozen=True)
class DayDeduction:
    code: str
    percent: Decimal
    minutes: int | None = None


@dataclass(frozen=True)
class DayFact:
    """The latest version of one ASN's day as kehadiran summarised it."""

    day: date
    event_id: str
    workday: bool = True
    deductions: tuple[DayDeduction, ...] = ()
    punch_event_ids: tuple[str, ...] = ()
    excused: str | None = None
    corrected: bool = False  # rests on an approved correction (lupa absen)

    @classmethod
    def of(cls, day: date, event_id: str, workday: bool, excused: str | None, corrected: bool,
           deductions: tuple[DayDeduction, ...] = (), punch_event_ids: tuple[str, ...] = ()) -> "DayFact":
        """``DayFact(...)`` with every field given, the same object (equal, same hash), built with one
        ``__dict__`` update instead of the frozen ``__init__``'s ``object.__setattr__`` per field
        (~5 µs → ~2 µs): a batch reads its months' day facts by the ten thousand."""
        fact = object.__new__(cls)
        fact.__dict__.update(day=day, event_id=event_id, workday=workday, deductions=deductions,
                             punch_event_ids=punch_event_ids, excused=excused, corrected=corrected)
        return fact


@dataclass(frozen=True)
class TaskFact:
    """The latest state of one task (see ``task_state_key`` for what "latest" means)."""

    task_id: str
    title: str
    status: str
    due_date: date
    target_quantity: Decimal
    event_id: str
    realised_quantity: Decimal | None = None
    quality: int | None = None
    submitted_on: date | None = None  # local date of the submission that was approved
    approved_on: date | None = None
    overdue: bool = False  # some event said it was past due and not approved


@dataclass(frozen=True)
class InnovationFact:
    innovation_id: str
    title: str
    approved_on: date
    event_id: str


@dataclass(frozen=True)
class Rating:
    """A BerAKHLAK rating: level per value (only rated values are present)."""

    levels: Mapping[str, str]
    rating_id: str | None = None


STATUS_RANK = {APPROVED: 3, CANCELLED: 2}


def task_state_key(status: str, event_time: datetime, event_id: str) -> tuple:
    """Total order on the states of one task; the fact kept is the maximum, so any order or
    duplication of the events gives the same fact. An approval beats everything (a later
    re-approval beats an earlier one), a cancellation beats open states, and among open states
    (assigned, in progress, submitted, returned) the latest event wins; the event id breaks ties."""
    return (STATUS_RANK.get(status, 1), event_time, event_id)
