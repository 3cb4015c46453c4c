"""Folding replayed facts in memory: the facts a rebuild meets by the hundred thousand (day
summaries, task states, innovations) are merged per fact key by the live path's rules, and only
each key's final row is written, in bulk, once its topic has been read. Day summaries, the bulk,
are kept as plain rows by the rule ``facts.store_day_fact`` follows too (``domain.day_summaries``:
highest (version, event id); the day noted in ``Touched`` when the fact changed); tasks and innovations go through the live
``store_event`` itself on in-memory rows. Everything else a rebuild applies goes through the live
path against the database.

Memory holds one row per fact key of the table being folded (the fact table itself, never a
record per event), plus the days to recompute per ASN.
"""
from __future__ import annotations

import sys
from dataclasses import dataclass
from datetime import date
from typing import Iterable
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from kinerja.events.envelope import Event
from kinerja.events.kehadiran import DAY_SUMMARIZED
from kinerja.events.penilaian import DIALOG_RECORDED, TRAINING_RECORDED
from kinerja.events.tugas import INNOVATION_APPROVED
from penilaian.adapters.bulk_facts import bulk_insert
from penilaian.adapters.orm import DayFactRow, DialogRow, InnovationFactRow, TaskFactRow, TrainingRow
from penilaian.domain.day_summaries import day_values, supersedes
from penilaian.service_layer.scoring import TASK_TYPES, Batch, Touched, store_dialog, store_event, store_training

FOLDED_TYPES = frozenset({DAY_SUMMARIZED, INNOVATION_APPROVED, TRAINING_RECORDED, DIALOG_RECORDED, *TASK_TYPES})


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


class MonthsTouched(Touched):
    """``Touched`` that keeps each day as the first day of its month: a rebuild scores whole months
    (``rebuild_scores``), so it holds one date per (ASN, month) however many days and events there
    were, and scores the same months."""

    def add(self, nip: str, days: Iterable[date], *, agency: str, cause: str) -> None:
        months = {d.replace(day=1) for d in days if d is not None}
        if not months:
            return
        have = self.days.get(nip)
        if have is None:
            self.days[nip] = months
        else:
            have |= months
        self.agency[nip], self.cause[nip] = agency, cause


class _Records:
    """A session stand-in for ``facts.store_training`` and ``store_dialog`` (the first record of an
    id is kept): rows by primary key in memory, nothing flushed. Live, each such record flushes the
    session; a rebuild meets them by the thousand beside ratings and roster entries."""

    def __init__(self) -> None:
        self.rows: dict[type, dict] = {TrainingRow: {}, DialogRow: {}}

    def get(self, model: type, key):
        return self.rows[model].get(key)

    def add(self, row) -> None:
        self.rows[type(row)][row.id] = row

    def flush(self) -> None:
        pass


class _MemoryBatch(Batch):
    """A ``Batch`` whose rows live in memory only: ``store_event`` merges task and innovation
    events into transient rows by its own rules (no lock, no query, nothing added to a session)."""

    def __init__(self) -> None:  # noqa: D107 - no session: nothing here touches the database
        self.session = None
        self.rows: dict[type, dict] = {TaskFactRow: {}, InnovationFactRow: {}}
        self.roster_moves, self.statements, self.moved, self.stated = {}, {}, {}, []
        self.locked, self.postgres = set(), False
        self.day_versions, self.day_rows = {}, {}

    def prefetch_days(self, keys) -> None:
        self.day_versions.update({k: None for k in keys if k not in self.day_versions})

    def get(self, model: type, key):
        return self.rows[model].get(key)

    def added(self, model: type, key, row) -> None:
        self.rows[model][key] = row

    def lock(self, nip: str) -> None:
        pass

    def lock_all(self, nips) -> None:
        pass


class FactFold:
    def __init__(self, zone: ZoneInfo, touched: Touched) -> None:
        self.zone, self.touched = zone, touched
        self.days: dict[tuple[str, date], _Day] = {}
        self._batch = _MemoryBatch()
        self._records = _Records()
        self.written = {"day_facts": 0, "task_facts": 0, "innovation_facts": 0, "training_records": 0, "dialogs": 0}
        self.peak = 0  # the most rows held at once: fact keys, however many events stated them

    def add(self, event: Event) -> None:
        t = event.type
        if t == DAY_SUMMARIZED:
            self._day(event)
        elif t in TASK_TYPES or t == INNOVATION_APPROVED:
            self._by_live_rules(event)
        elif t == TRAINING_RECORDED:
            store_training(self._records, event)
        elif t == DIALOG_RECORDED:
            store_dialog(self._records, event)
        else:
            raise ValueError(f"{t} is not folded")

    def _day(self, event: Event) -> None:
        d = event.data
        key = (d["nip"], d["date"])
        row = self.days.get(key)
        if row is not None and not supersedes(d["version"], event.id, row.version, row.event_id):
            return
        # the NIP and agency strings interned: one copy each, however many days name them
        self.days[(sys.intern(key[0]), key[1])] = _Day(d["version"], event.id, sys.intern(event.agency),
                                                       **day_values(d))
        self.touched.add(d["nip"], (d["date"],), agency=event.agency, cause=event.id)

    def _by_live_rules(self, event: Event) -> None:
        """Tasks and innovations: the live path's own ``store_event`` on in-memory rows (rare
        enough that their ORM rows cost little; the rules are then the live ones by construction)."""
        store_event(None, event, self.zone, self.touched, None, self._batch)

    def held(self) -> int:
        """Rows held in memory now (one per fact key folded and not yet written)."""
        return (len(self.days) + sum(len(self._batch.rows[m]) for m in (TaskFactRow, InnovationFactRow))
                + sum(len(rows) for rows in self._records.rows.values()))

    def has_tasks_or_innovations(self) -> bool:
        return any(self._batch.rows[m] for m in (TaskFactRow, InnovationFactRow))

    def merge_days(self, days: dict) -> None:
        """Day facts folded elsewhere (another process's partitions): per key the greater
        (version, event id), as ``store_day_fact`` keeps."""
        mine = self.days
        for key, row in days.items():
            have = mine.get(key)
            if have is None or supersedes(row.version, row.event_id, have.version, have.event_id):
                mine[key] = row

    # -- writing the final rows ------------------------------------------------------------------
    def write(self, session: Session) -> None:
        """Insert every folded row (the tables must not hold those keys yet) and forget them."""
        self.peak = max(self.peak, self.held())
        days, self.days = self.days, {}
        self.written["day_facts"] += bulk_insert(session, DayFactRow.__table__, (
            {"nip": nip, "day": day, "version": r.version, "event_id": r.event_id, "agency": r.agency,
             "workday": r.workday, "excused": r.excused, "deductions": r.deductions,
             "punch_event_ids": r.punch_event_ids, "corrected": r.corrected}
            for (nip, day), r in days.items()))
        del days
        for model, name in ((TaskFactRow, "task_facts"), (InnovationFactRow, "innovation_facts")):
            rows, self._batch.rows[model] = self._batch.rows[model], {}
            columns = [c.key for c in model.__table__.columns]
            self.written[name] += bulk_insert(session, model.__table__, (
                {c: getattr(r, c) for c in columns} for r in rows.values()))
        for model, name in ((TrainingRow, "training_records"), (DialogRow, "dialogs")):
            rows, self._records.rows[model] = self._records.rows[model], {}
            columns = [c.key for c in model.__table__.columns]
            self.written[name] += bulk_insert(session, model.__table__, (
                {c: getattr(r, c) for c in columns} for r in rows.values()))
