"""Folding replayed facts in memory: the facts a rebuild meets by the hundred thousand (day
summaries, task states, innovations) are merged per fact key by the live path's rules, and only
each key's final row is written, in bulk, once its topic has been read. Day summaries, the bulk,
are kept as plain rows by the rule ``facts.store_day_fact`` follows too (``domain.day_summaries``:
highest (version, event id); the day noted in ``Touched`` when the fact changed); tasks and innovations go through the live
``store_event`` itself on in-memory rows. Everything else a rebuild applies goes through the live
path against the database.

Memory holds one row per fact key of the table being folded (the fact table itself, never a
record per event), plus the days to recompute per ASN. A day fact is one plain tuple in the
table's column order (``compact_day``): its deductions tuples of interned strings, its punch ids a
tuple, the NIP and agency interned; it becomes the stored JSON only as it is written. A worker
process hands its day facts over packed (``pack_days``: bytes, a chunk of rows each), and they are
written from those chunks one at a time (``write_days``), never all unpacked in the parent at once.
"""
from __future__ import annotations

import io
import pickle
import sys
from datetime import date
from typing import Iterable
from zoneinfo import ZoneInfo

from sqlalchemy import select
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


_intern = sys.intern
PACK_ROWS = 10_000  # day facts a packed chunk holds


def compact_day(nip: str, day: date, version: int, event_id: str, agency: str, data: dict) -> tuple:
    """The in-memory row of a summary's fact: ``day_facts``' columns in order (nip, day, version,
    event_id, agency, workday, excused, deductions, punch_event_ids, corrected), the deductions as
    (code, percent, minutes) tuples, strings that repeat interned (``stored`` gives the columns)."""
    v = day_values(data)
    return (_intern(nip), day, version, event_id, _intern(agency), v["workday"],
            None if v["excused"] is None else _intern(v["excused"]),
            tuple((_intern(x["code"]), _intern(x["percent"]), x["minutes"]) for x in v["deductions"]),
            tuple(v["punch_event_ids"]), v["corrected"])


def stored(row) -> dict:
    """A day row as ``day_facts`` stores it (what ``store_day_fact`` writes)."""
    return {"nip": row[0], "day": row[1], "version": row[2], "event_id": row[3], "agency": row[4],
            "workday": row[5], "excused": row[6],
            "deductions": [{"code": c, "percent": p, "minutes": m} for c, p, m in row[7]],
            "punch_event_ids": list(row[8]), "corrected": row[9]}


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
        self.days: dict[tuple[str, date], tuple] = {}  # compact_day's rows
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
        if row is not None and not supersedes(d["version"], event.id, row[2], row[3]):
            return
        self.days[(_intern(key[0]), key[1])] = compact_day(key[0], key[1], d["version"], event.id, event.agency, d)
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

    def pack_days(self, rows: int = PACK_ROWS) -> list[bytes]:
        """Hand the day rows over (and forget them): pickled a chunk of ``rows`` at a time, without
        the pickler's memo (one entry per object pickled: more than the rows themselves), so a
        worker's result costs its parent bytes, not objects."""
        self.peak = max(self.peak, self.held())
        days, self.days = self.days, {}
        out: list[bytes] = []
        values = list(days.values())
        del days
        while values:  # from the end, each chunk's rows let go once packed
            buf = io.BytesIO()
            p = pickle.Pickler(buf, protocol=pickle.HIGHEST_PROTOCOL)
            p.fast = True  # no memo: the rows are plain tuples of str, int, bool, date, None
            p.dump(values[-rows:])
            del values[-rows:]
            out.append(buf.getvalue())
        return out

    def write_days(self, session: Session, chunks: list[bytes], merge_nips: frozenset[str] | set[str] = frozenset()) -> None:
        """Insert the packed day rows of ``pack_days``, a chunk at a time (each chunk's bytes let go
        once written). Rows of ``merge_nips`` (ASN whose days were written already from another
        process's partitions: only after partitions were added) keep, per key, the greater
        (version, event id), as ``store_day_fact`` does."""
        table = DayFactRow.__table__
        while chunks:
            rows = pickle.loads(chunks.pop(0))
            if merge_nips:
                rows = self._merged(session, rows, merge_nips)
            self.written["day_facts"] += bulk_insert(session, table, map(stored, rows))
            del rows

    def _merged(self, session: Session, rows: list, nips) -> list:
        mine = [r for r in rows if r[0] in nips]
        if not mine:
            return rows
        t = DayFactRow.__table__
        held = {(n, d): (v, e) for n, d, v, e in session.execute(
            select(t.c.nip, t.c.day, t.c.version, t.c.event_id).where(t.c.nip.in_(sorted({r[0] for r in mine}))))}
        keep, drop = [], []
        for r in rows:
            have = held.get((r[0], r[1]))
            if have is None:
                keep.append(r)
            elif supersedes(r[2], r[3], *have):
                keep.append(r)
                drop.append((r[0], r[1]))
        for nip, day in drop:
            session.execute(t.delete().where(t.c.nip == nip, t.c.day == day))
        self.written["day_facts"] -= len(drop)
        return keep

    # -- writing the final rows ------------------------------------------------------------------
    def write(self, session: Session) -> None:
        """Insert every folded row (the tables must not hold those keys yet) and forget them."""
        self.peak = max(self.peak, self.held())
        days, self.days = self.days, {}
        self.written["day_facts"] += bulk_insert(session, DayFactRow.__table__, map(stored, days.values()))
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
