"""Folding replayed facts in memory: the facts a rebuild meets by the hundred thousand (day
summaries, task states, innovations) are merged per fact key by the live path's own rules
(``scoring.store_day_fact``, ``store_task_fact``, ``store_innovation``: the same comparisons in the
same order, the same days noted in ``Touched``), and only each key's final row is written, in bulk,
once its topic has been read. Everything else a rebuild applies goes through the live path.

Memory holds one row per fact key of the table being folded (the fact table itself, never a
record per event), plus the days to recompute per ASN.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from kinerja.events.envelope import Event
from kinerja.events.kehadiran import DAY_SUMMARIZED
from kinerja.events.tugas import INNOVATION_APPROVED
from penilaian.adapters.bulk_facts import bulk_insert
from penilaian.adapters.orm import DayFactRow, InnovationFactRow, TaskFactRow
from penilaian.domain.scoring import STATUS_RANK, task_state_key
from penilaian.service_layer.scoring import TASK_TYPES, Touched, _open_on, as_utc, local_date

FOLDED_TYPES = frozenset({DAY_SUMMARIZED, INNOVATION_APPROVED, *TASK_TYPES})


@dataclass(slots=True)
class _Day:
    version: int
    event_id: str
    agency: str
    workday: bool
    excused: str | None
    deductions: list
    punch_event_ids: list
    corrected: bool


@dataclass(slots=True)
class _Task:
    nip: str = ""
    agency: str = ""
    title: str = ""
    status: str = ""
    status_rank: int = 1
    event_time: object = None
    event_id: str = ""
    due_date: date | None = None
    target_quantity: str = ""
    realised_quantity: str | None = None
    quality: int | None = None
    category: str | None = None
    rhk_id: str | None = None
    submitted_on: date | None = None
    approved_on: date | None = None
    last_open_on: date | None = None


@dataclass(slots=True)
class _Innovation:
    nip: str
    title: str
    event_id: str
    approved_on: date


class FactFold:
    def __init__(self, zone: ZoneInfo, touched: Touched) -> None:
        self.zone, self.touched = zone, touched
        self.days: dict[tuple[str, date], _Day] = {}
        self.tasks: dict[str, _Task] = {}
        self.innovations: dict[str, _Innovation] = {}
        self.written = {"day_facts": 0, "task_facts": 0, "innovation_facts": 0}

    def add(self, event: Event) -> None:
        t = event.type
        if t == DAY_SUMMARIZED:
            self._day(event)
        elif t in TASK_TYPES:
            self._task(event)
        elif t == INNOVATION_APPROVED:
            self._innovation(event)
        else:
            raise ValueError(f"{t} is not folded")

    # the rules of scoring.store_day_fact
    def _day(self, event: Event) -> None:
        d = event.data
        key = (d["nip"], d["date"])
        row = self.days.get(key)
        if row is not None and (row.version, row.event_id) >= (d["version"], event.id):
            return
        self.days[key] = _Day(
            d["version"], event.id, event.agency, bool(d.get("workday", True)), d.get("excused"),
            [{"code": x["code"], "percent": str(Decimal(x["percent"])), "minutes": x.get("minutes")}
             for x in d.get("deductions") or []],
            list(d.get("punch_event_ids") or []), bool(d.get("corrected")))
        self.touched.add(d["nip"], [d["date"]], agency=event.agency, cause=event.id)

    # the rules of scoring.store_task_fact (and store_event's notes of what it returns)
    def _task(self, event: Event) -> None:
        d, zone = event.data, self.zone
        row = self.tasks.get(d["task_id"])
        open_on = _open_on(event, zone)
        key = task_state_key(d["status"], as_utc(event.time), event.id)
        touched: dict[str, list[date]] = {}
        if row is None:
            row = self.tasks[d["task_id"]] = _Task()
            wins = True
        else:
            touched.setdefault(row.nip, []).append(row.due_date)
            wins = key > task_state_key(row.status, row.event_time, row.event_id)
        before = (row.last_open_on, row.event_id)
        if open_on is not None and (row.last_open_on is None or open_on > row.last_open_on):
            row.last_open_on = open_on
        if wins:
            row.nip, row.agency, row.title = d["nip"], event.agency, d["title"]
            row.status, row.status_rank = d["status"], STATUS_RANK.get(d["status"], 1)
            row.event_time, row.event_id, row.due_date = as_utc(event.time), event.id, d["due_date"]
            row.target_quantity = str(Decimal(d["target_quantity"]))
            rq = d.get("realised_quantity")
            row.realised_quantity = str(Decimal(rq)) if rq is not None else None
            row.quality, row.category, row.rhk_id = d.get("quality"), d.get("category"), d.get("rhk_id")
            row.submitted_on = local_date(d.get("submitted_at"), zone)
            row.approved_on = local_date(d.get("approved_at"), zone)
        if not wins and before == (row.last_open_on, row.event_id):
            return
        touched.setdefault(row.nip, []).append(row.due_date)
        for nip, days in sorted(touched.items()):
            self.touched.add(nip, days, agency=event.agency, cause=event.id)

    # the rules of scoring.store_innovation
    def _innovation(self, event: Event) -> None:
        d = event.data
        row = self.innovations.get(d["innovation_id"])
        if row is not None and row.event_id >= event.id:
            return
        days = [] if row is None else [row.approved_on]
        approved_on = local_date(d["approved_at"], self.zone)
        self.innovations[d["innovation_id"]] = _Innovation(d["nip"], d["title"], event.id, approved_on)
        self.touched.add(d["nip"], days + [approved_on], agency=event.agency, cause=event.id)

    # -- writing the final rows ------------------------------------------------------------------
    def write(self, session: Session) -> None:
        """Insert every folded row (the tables must not hold those keys yet) and forget them."""
        days, self.days = self.days, {}
        self.written["day_facts"] += bulk_insert(session, DayFactRow.__table__, (
            {"nip": nip, "day": day, "version": r.version, "event_id": r.event_id, "agency": r.agency,
             "workday": r.workday, "excused": r.excused, "deductions": r.deductions,
             "punch_event_ids": r.punch_event_ids, "corrected": r.corrected}
            for (nip, day), r in days.items()))
        del days
        tasks, self.tasks = self.tasks, {}
        self.written["task_facts"] += bulk_insert(session, TaskFactRow.__table__, (
            {"task_id": task_id, "nip": r.nip, "agency": r.agency, "title": r.title, "status": r.status,
             "status_rank": r.status_rank, "event_time": r.event_time, "event_id": r.event_id,
             "due_date": r.due_date, "target_quantity": r.target_quantity, "realised_quantity": r.realised_quantity,
             "quality": r.quality, "submitted_on": r.submitted_on, "approved_on": r.approved_on,
             "last_open_on": r.last_open_on, "category": r.category, "rhk_id": r.rhk_id}
            for task_id, r in tasks.items()))
        del tasks
        innovations, self.innovations = self.innovations, {}
        self.written["innovation_facts"] += bulk_insert(session, InnovationFactRow.__table__, (
            {"innovation_id": key, "nip": r.nip, "title": r.title, "approved_on": r.approved_on,
             "event_id": r.event_id} for key, r in innovations.items()))
