"""The rebuild's fold of day summaries keeps the rows ``store_event`` keeps and notes the same days
(and agency and cause) to recompute, for any order of the same events: versions, corrections, ties
on the version, duplicates. Both run in memory (the live rules on in-memory rows)."""
import random
from datetime import date, timedelta, timezone
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest

from kinerja.events import decode_event, make_event
from kinerja.events.kehadiran import DAY_SUMMARIZED
from kinerja.events.tugas import INNOVATION_APPROVED, TASK_APPROVED, TASK_ASSIGNED
from penilaian.service_layer.replay import FactFold, _MemoryBatch, stored
from penilaian.service_layer.scoring import Touched, store_event

pytestmark = pytest.mark.unit
ZONE = ZoneInfo("Asia/Jakarta")
NIPS = ("199501012020011003", "199601012020011004")


def day(nip, d, version, agency, *deductions, event_id=None):
    return decode_event(make_event(DAY_SUMMARIZED, subject=nip, agency=agency, source="t", event_id=event_id, data={
        "nip": nip, "date": d, "version": version, "final": False, "workday": d.weekday() < 5,
        "deductions": [{"code": c, "percent": Decimal(p), "minutes": 5} for c, p in deductions],
        "punch_event_ids": [f"p{version}"], "corrected": version > 1}).to_bytes())


def stream(rng):
    events = []
    for nip in NIPS:
        for k in range(6):
            d = date(2026, 11, 2) + timedelta(days=k)
            for version in range(1, rng.randint(1, 3) + 1):
                events.append(day(nip, d, version, rng.choice(("dinkes", "disdik")),
                                  *([("TL1", "0.5")] if rng.random() < 0.5 else [])))
            if rng.random() < 0.3:  # the same version stated twice: the greater event id wins
                events.append(day(nip, d, 1, "dinkes", ("TK", "4"), event_id=f"{rng.random():.6f}"))
    events += rng.sample(events, 5)  # duplicates
    rng.shuffle(events)
    return events


def live_rows(events):
    touched, batch = Touched(), _MemoryBatch()
    for e in events:
        store_event(None, e, ZONE, touched, None, batch)
    rows = {k: tuple(r[c] for c in ("version", "event_id", "agency", "workday", "excused", "deductions",
                                    "punch_event_ids", "corrected"))
            for k, r in batch.day_rows.items()}
    return rows, touched


def folded_rows(events):
    touched = Touched()
    fold = FactFold(ZONE, touched)
    for e in events:
        fold.add(e)
    columns = ("version", "event_id", "agency", "workday", "excused", "deductions", "punch_event_ids", "corrected")
    rows = {k: tuple(stored(r)[c] for c in columns) for k, r in fold.days.items()}  # as written
    return rows, touched


@pytest.mark.parametrize("seed", range(25))
def test_the_fold_keeps_the_rows_and_notes_the_days_the_live_rules_do(seed):
    events = stream(random.Random(seed))
    want, want_touched = live_rows(events)
    got, got_touched = folded_rows(events)
    assert got == want and len(want) == 12
    assert (got_touched.days, got_touched.agency, got_touched.cause) == (
        want_touched.days, want_touched.agency, want_touched.cause)


def test_tasks_and_innovations_are_folded_by_store_event_itself():
    nip = NIPS[0]
    at = lambda d: date(2026, 11, d)  # noqa: E731
    from datetime import datetime

    wib = timezone(timedelta(hours=7))
    def task(kind, status, when, due):
        return decode_event(make_event(kind, subject=nip, agency="dinkes", source="t",
                                       time=datetime(2026, 11, when, 9, tzinfo=wib), data={
            "task_id": "t1", "nip": nip, "title": "Laporan", "status": status, "due_date": at(due),
            "target_quantity": Decimal("10"), "realised_quantity": Decimal("10") if status == "approved" else None,
            "quality": 90 if status == "approved" else None,
            "approved_at": datetime(2026, 11, when, 9, tzinfo=wib) if status == "approved" else None}).to_bytes())
    innovation = decode_event(make_event(INNOVATION_APPROVED, subject=nip, agency="dinkes", source="t", data={
        "innovation_id": "i1", "nip": nip, "title": "Aplikasi",
        "approved_at": datetime(2026, 11, 5, tzinfo=wib)}).to_bytes())
    touched = Touched()
    fold = FactFold(ZONE, touched)
    for e in (task(TASK_APPROVED, "approved", 21, 20), task(TASK_ASSIGNED, "assigned", 2, 20), innovation):
        fold.add(e)
    rows = fold._batch.rows
    (t,) = rows[next(m for m in rows if m.__tablename__ == "task_facts")].values()
    assert (t.status, t.due_date, t.last_open_on) == ("approved", at(20), at(2))
    assert touched.days == {nip: {at(20), at(5)}}
