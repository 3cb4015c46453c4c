"""What a batch of events names, by kind (``named``): the ASN, agencies, days, tasks, innovations and
other fact rows whose locks a transaction takes and whose rows it reads up front
(``batch.Batch.prepare``), before any event is applied."""
from __future__ import annotations

from datetime import date
from typing import Iterable

from kinerja.events.envelope import Event
from kinerja.events.kehadiran import DAY_SUMMARIZED
from kinerja.events.pegawai import EMPLOYEE_UPSERTED
from kinerja.events.penilaian import (
    DIALOG_RECORDED,
    MEMBERSHIP_RECORDED,
    ORGANISATION_RATED,
    POLICY_SET,
    RATING_RECORDED,
    TRAINING_RECORDED,
)
from kinerja.events.tugas import (
    FEEDBACK_POSTED,
    INNOVATION_APPROVED,
    SKP_APPROVED,
    TASK_APPROVED,
    TASK_ASSIGNED,
    TASK_CANCELLED,
    TASK_OVERDUE,
    TASK_RESCHEDULED,
    TASK_RETURNED,
    TASK_SUBMITTED,
)
from penilaian.adapters.orm import DialogRow, FeedbackFactRow, SkpFactRow, TrainingRow

# a reschedule states the task's open state under its new terms: like any open state the latest
# wins, its due date decides the period the task counts in and its timeliness, and the period it
# left is recomputed too (``facts.store_task_fact``)
TASK_TYPES = frozenset({TASK_ASSIGNED, TASK_SUBMITTED, TASK_APPROVED, TASK_RETURNED, TASK_OVERDUE, TASK_CANCELLED,
                        TASK_RESCHEDULED})
# the types whose facts are stored under the ASN the event names (its ``nip``)
ASN_TYPES = frozenset({DAY_SUMMARIZED, INNOVATION_APPROVED, EMPLOYEE_UPSERTED, MEMBERSHIP_RECORDED, RATING_RECORDED,
                       TRAINING_RECORDED, DIALOG_RECORDED, SKP_APPROVED, FEEDBACK_POSTED, *TASK_TYPES})
AGENCY_TYPES = frozenset({POLICY_SET, ORGANISATION_RATED})


class Named:
    """The keys a batch's events name: ``nips`` (every ASN named), ``agencies`` (policy versions,
    the organisation's predikat), ``days`` ((nip, day) of day summaries), ``tasks``,
    ``innovations``, ``employees`` (roster entries), ``stated`` (ASN whose agency statements the
    events may change), ``ratings`` ((nip, period, rater)) and ``recorded`` (the keys of other
    fact rows by model)."""

    def __init__(self) -> None:
        self.nips: set[str] = set()
        self.agencies: set[str] = set()
        self.days: set[tuple[str, date]] = set()
        self.tasks: set[str] = set()
        self.innovations: set[str] = set()
        self.employees: set[str] = set()
        self.stated: set[str] = set()
        self.ratings: set[tuple[str, str, str]] = set()
        self.recorded: dict[type, set] = {TrainingRow: set(), DialogRow: set(), FeedbackFactRow: set(),
                                          SkpFactRow: set()}


def named(events: Iterable[Event]) -> Named:
    out = Named()
    for e in events:
        t, d = e.type, e.data
        if t in ASN_TYPES:
            out.nips.add(d["nip"])
        elif t in AGENCY_TYPES:
            out.agencies.add(d["agency"])
        if t == DAY_SUMMARIZED:
            out.days.add((d["nip"], d["date"]))
        elif t in TASK_TYPES:
            out.tasks.add(d["task_id"])
        elif t == INNOVATION_APPROVED:
            out.innovations.add(d["innovation_id"])
        elif t == EMPLOYEE_UPSERTED:
            out.employees.add(d["nip"])
            out.stated.add(d["nip"])
        elif t == MEMBERSHIP_RECORDED:
            out.stated.add(d["nip"])
        elif t == RATING_RECORDED:
            out.ratings.add((d["nip"], d["period"], d["rater"]))
        elif t == TRAINING_RECORDED:
            out.recorded[TrainingRow].add(d["training_id"])
        elif t == DIALOG_RECORDED:
            out.recorded[DialogRow].add(d["dialog_id"])
        elif t == FEEDBACK_POSTED:
            out.recorded[FeedbackFactRow].add(d["message_id"])
        elif t == SKP_APPROVED:
            out.recorded[SkpFactRow].add((d["nip"], d["year"]))
    return out
