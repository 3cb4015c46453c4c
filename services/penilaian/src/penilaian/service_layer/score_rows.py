"""A score as stored and as published: the row's values, its explaining detail as the API shows it
(exact decimal strings, assembled from the facts when read), and the ``penilaian.score.updated.v1``
events of one change to one ASN."""
from __future__ import annotations

from datetime import datetime, timezone
from decimal import Decimal
from typing import Any

from kinerja.events.envelope import Event
from kinerja.events.ids import time_ordered_uuid
from kinerja.events.penilaian import SCORE_UPDATED
from penilaian.adapters.orm import Employee, ScoreRow
from penilaian.domain.periods import Period
from penilaian.domain.scoring import Score

SOURCE = "kinerja/penilaian"
VALUE_FIELDS = ("disiplin", "produktivitas", "perilaku", "hasil_kerja", "total", "total_partial", "predikat")
NUMERIC_FIELDS = VALUE_FIELDS[:-1]


def write_score(row: ScoreRow, score: Score, *, agency: str, policy_id: str | None, now: datetime) -> None:
    """Store the score's values and the policy version they were computed under (``policy_id``,
    None for the DESIGN defaults): the ledger read later is assembled by that version."""
    row.agency, row.policy_id = agency, policy_id
    row.disiplin, row.produktivitas, row.berakhlak = score.disiplin, score.produktivitas, score.berakhlak
    row.perilaku, row.hasil_kerja, row.total, row.predikat = score.perilaku, score.hasil_kerja, score.total, score.predikat
    row.total_partial = score.total_partial
    row.detail = {}  # the ledger is assembled from the facts when read (``views.detail_of``)
    row.updated_at = now


def score_row(nip: str, period: str, score: Score, *, agency: str, policy_id: str | None, now: datetime) -> dict:
    """``write_score`` as a full row of ``scores`` (written a batch at a time, ``bulk_writes``)."""
    return {"nip": nip, "period": period, "agency": agency, "policy_id": policy_id, "disiplin": score.disiplin,
            "produktivitas": score.produktivitas, "berakhlak": score.berakhlak, "perilaku": score.perilaku,
            "hasil_kerja": score.hasil_kerja, "total": score.total, "predikat": score.predikat,
            "total_partial": score.total_partial, "detail": {}, "updated_at": now}


def same_score(row: ScoreRow, score: Score, agency: str, policy_id: str | None) -> bool:
    """The row holds this score already (values, agency and policy version, and no ledger of old):
    writing it again would only move ``updated_at``, so it is left as it is."""
    return (row.agency == agency and row.policy_id == policy_id and row.berakhlak == score.berakhlak
            and all(getattr(row, f) == v for f, v in score.values().items()) and not row.detail)


def _num(x: Decimal | None) -> str | None:
    return None if x is None else str(x)


def score_detail(score: Score) -> dict[str, Any]:
    """The explaining parts of a score, JSON-ready (numbers as exact decimal strings)."""
    return {
        "deductions": [{"date": day.isoformat(), "code": d.code, "percent": _num(d.percent), "minutes": d.minutes}
                       for day, d in score.deductions],
        "tasks": [{"task_id": t.task_id, "title": t.title, "due_date": t.due_date.isoformat(), "status": t.status,
                   "score": _num(t.score), "quantity": _num(t.quantity), "quality": _num(t.quality),
                   "timeliness": _num(t.timeliness), "event_id": t.event_id} for t in score.tasks],
        "ledger": [{"component": e.component, "points": _num(e.points), "rule": e.rule,
                    "event_ids": list(e.event_ids), "date": e.date.isoformat() if e.date else None,
                    **({"correction": True} if e.correction else {})}
                   for e in score.ledger],
    }


_KIND_RANK = {"month": 0, "quarter": 1, "year": 2}


def _period_rank(name: str) -> tuple:
    kind = "year" if len(name) == 4 else "quarter" if "-Q" in name else "month"
    return (_KIND_RANK[kind], [-ord(c) for c in name])  # months first, the latest first


def as_one_change(events: list[Event]) -> list[Event]:
    """The score updates one change made to one ASN (its month, quarter and year, or more when it
    reached back into another month) say they belong together: the first (the latest month moved)
    carries the others' values in ``also``, each of the others names it in ``part_of``, so whoever
    tells people about it tells them once. Additive fields; every period still has its event."""
    if len(events) < 2:
        return events
    events = sorted(events, key=lambda e: _period_rank(e.data["period"]))
    lead, rest = events[0], events[1:]
    lead.data["also"] = [{k: e.data[k] for k in ("period", "disiplin", "produktivitas", "perilaku", "hasil_kerja",
                                                   "total", "total_partial", "predikat", "changes")} for e in rest]
    for e in rest:
        e.data["part_of"] = lead.id
    return events


def score_event(nip: str, agency: str, period: Period, score: Score, before: dict, emp: Employee | None,
                cause: str) -> Event:
    """The ``penilaian.score.updated.v1`` of one period. Built as the schema would dump it (floats,
    strings, lists), without ``make_event``'s validation: a recompute publishes hundreds a batch
    and the validation was most of their cost; ``tests/unit/test_score_event.py`` holds them to
    the schema."""
    after = score.values()
    # floats inline, not by a helper: a recompute publishes hundreds of these a batch, and a
    # call per value was ~9 of a poll's Python calls an event
    changes = [{"component": f, "before": None if (b := before[f]) is None else float(b),
                "after": None if (a := after[f]) is None else float(a)}
               for f in NUMERIC_FIELDS if before[f] != after[f]]
    data = {"nip": nip, "period": period.name}
    for f in NUMERIC_FIELDS:
        data[f] = None if (x := after[f]) is None else float(x)
    data.update(predikat=score.predikat, changes=changes, caused_by=[cause],
                atasan_nip=emp.atasan_nip if emp is not None else None)
    # a time-ordered id (``kinerja.events.ids``): three a day summary land at the end of the outbox's
    # unique index, and of every consumer's processed ids, not on a random leaf each
    return Event(id=time_ordered_uuid(), type=SCORE_UPDATED, source=SOURCE, time=datetime.now(timezone.utc),
                 subject=nip, agency=agency, data=data)
