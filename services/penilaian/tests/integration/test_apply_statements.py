"""A batch's writes are one statement a table: the statements the database runs for a batch (an
executemany counts once per row it sends, as the server runs it) do not grow with its events; and
any order of a batch's events, in any split into transactions, leaves the same rows in every
table the apply writes. On SQLite and PostgreSQL."""
import random
from datetime import date, timedelta

import pytest
from sqlalchemy import event, select

from kinerja.events.tugas import TASK_APPROVED, TASK_ASSIGNED, TASK_SUBMITTED
from kinerja.messaging.outbox import utcnow
from kinerja.testing import create_postgres_database
from penilaian.adapters import bulk_writes
from penilaian.adapters.orm import DayFactRow, InnovationFactRow, MonthTotalsRow, ScoreRow, TaskFactRow
from penilaian.service_layer.scoring import apply_batch
from kinerja_testkit.penilaian import at, day_event, innovation_event, make_penilaian, roster_event, task_event, wire

pytestmark = pytest.mark.integration

NIPS = [f"1990010120200110{i:02d}" for i in range(12)]
NOV = date(2026, 11, 2)


class Statements:
    """The statements the database runs: an executemany sends one per parameter set (SQLAlchemy's
    multi-row VALUES is one statement of many rows)."""

    def __init__(self, engine) -> None:
        self.count = 0
        event.listen(engine, "do_execute", self._one)
        event.listen(engine, "do_executemany", self._many)

    def _one(self, cursor, statement, parameters, context) -> None:
        self.count += 1

    def _many(self, cursor, statement, parameters, context) -> None:
        self.count += len(parameters)


def apply_as_consumer(p, events) -> None:
    """``apply_batch`` and the ``processed_events`` rows in one transaction, as the consumer's batch
    records them (in its first statement, ``PenilaianConsumer.claim_batch``)."""
    with p.runtime.session() as s, s.begin():
        apply_batch(s, p.runtime.outbox, [wire(e) for e in events], tz=p.runtime.settings.timezone)
        now = utcnow()
        bulk_writes.insert(s, p.runtime.processed_table, sorted(
            [{"event_id": e.id, "topic": "t", "partition": 0, "offset": i, "processed_at": now}
             for i, e in enumerate(events)], key=lambda r: r["event_id"]))


def batch_of(days: list[int], tasks: int, tag: str) -> list:
    """For every ASN: a day summary of each of ``days`` (a second version of the first), ``tasks``
    new tasks and a submission of the task assigned before, and an innovation."""
    events = []
    for n, nip in enumerate(NIPS):
        for k, offset in enumerate(days):
            events.append(day_event(nip, NOV + timedelta(days=offset), ("TL1", "0.5") if (n + k) % 3 == 0 else ("TK", "4")))
        events.append(day_event(nip, NOV + timedelta(days=days[0]), ("TL2", "1"), version=2))
        for t in range(tasks):
            events.append(task_event(TASK_ASSIGNED, nip, f"{tag}-{nip}-{t}", "assigned", NOV + timedelta(days=10 + t),
                                     at=at(NOV)))
        events.append(task_event(TASK_SUBMITTED, nip, f"warm-{nip}-0", "submitted", NOV + timedelta(days=10),
                                 at=at(NOV + timedelta(days=days[0])), submitted_at=at(NOV + timedelta(days=days[0]))))
        events.append(innovation_event(nip, f"{tag}-{nip}", at(NOV + timedelta(days=days[0]))))
    return events


def test_the_statements_of_a_batch_do_not_grow_with_its_events(database_url):
    p = make_penilaian(database_url)
    try:
        apply_as_consumer(p, [roster_event(nip, f"Pegawai {i}") for i, nip in enumerate(NIPS)]
                          + batch_of([0, 1], 1, "warm"))  # the score rows exist: later batches update them
        statements = Statements(p.runtime.engine)
        small, large = batch_of([2], 1, "small"), batch_of([3, 4, 7, 8, 9, 10, 11], 4, "large")
        assert len(large) >= 2.5 * len(small)
        counts = []
        for events in (small, large):
            statements.count = 0
            apply_as_consumer(p, events)
            counts.append(statements.count)
        assert counts[0] == counts[1], counts
        assert counts[1] <= 40, counts  # a batch's reads and one write a table, whatever its events
        with p.runtime.session() as s:  # and the batch was applied: its last day is stored and scored
            assert s.get(DayFactRow, (NIPS[0], NOV + timedelta(days=11))) is not None
            assert s.get(TaskFactRow, f"large-{NIPS[-1]}-3") is not None
            assert s.get(ScoreRow, (NIPS[0], "2026-11")).disiplin is not None
    finally:
        p.runtime.dispose()


def _rows(p) -> dict:
    """Every row the apply writes, by table (a score's ``updated_at`` aside: the time it was written)."""
    out = {}
    with p.runtime.session() as s:
        for model in (DayFactRow, TaskFactRow, InnovationFactRow, MonthTotalsRow, ScoreRow):
            columns = [c for c in model.__table__.columns.keys() if c != "updated_at"]
            pk = [getattr(model, c.key) for c in model.__table__.primary_key.columns]
            out[model.__tablename__] = [tuple(r) for r in s.execute(
                select(*(getattr(model, c) for c in columns)).order_by(*pk))]
    return out


def mixed_events() -> list:
    """Day summaries in three versions, task lifecycles (a task moving between ASN too), innovations
    stated twice, a roster event: facts whose winner depends on the rules, not on the order."""
    a, b = NIPS[0], NIPS[1]
    events = [roster_event(a, "Pegawai A"), roster_event(b, "Pegawai B")]
    for nip in (a, b):
        for offset in (0, 1, 2, 29):
            day = NOV + timedelta(days=offset)
            events += [day_event(nip, day, ("TL1", "0.5")), day_event(nip, day, ("TK", "4"), version=2),
                       day_event(nip, day, version=3) if offset % 2 else day_event(nip, day, ("PSW1", "0.5"))]
    due = NOV + timedelta(days=5)
    events += [task_event(TASK_ASSIGNED, a, "t1", "assigned", due, at=at(NOV)),
               task_event(TASK_SUBMITTED, a, "t1", "submitted", due, at=at(NOV + timedelta(days=7)),
                          submitted_at=at(NOV + timedelta(days=7))),
               task_event(TASK_APPROVED, a, "t1", "approved", due, at=at(NOV + timedelta(days=8)), realised="8",
                          quality=90, submitted_at=at(NOV + timedelta(days=7)), approved_at=at(NOV + timedelta(days=8))),
               task_event(TASK_ASSIGNED, a, "t2", "assigned", due, at=at(NOV)),
               task_event(TASK_ASSIGNED, b, "t2", "assigned", due + timedelta(days=30), at=at(NOV, 11)),
               innovation_event(a, "i1", at(NOV + timedelta(days=1))),
               innovation_event(b, "i1", at(NOV + timedelta(days=2)))]
    return events


@pytest.fixture(params=["sqlite", "postgresql"])
def new_database(request, tmp_path):
    """Fresh, empty databases of one kind, as many as asked for."""
    made = []

    def make() -> str:
        made.append(1)
        if request.param == "sqlite":
            return f"sqlite:///{tmp_path / f'{len(made)}.db'}"
        return create_postgres_database(request.getfixturevalue("postgres_server"))
    return make


def test_any_order_and_split_of_the_events_leaves_the_same_rows(new_database):
    events = mixed_events()
    shuffled = events[:]
    random.Random(13).shuffle(shuffled)
    runs = [(events, len(events)), (events[::-1], len(events)), (shuffled, 7), (shuffled[::-1], 1)]
    found = []
    for order, size in runs:
        p = make_penilaian(new_database())
        try:
            for j in range(0, len(order), size):
                apply_as_consumer(p, order[j:j + size])
            found.append(_rows(p))
        finally:
            p.runtime.dispose()
    assert all(len(rows) > 0 for rows in found[0].values()), {t: len(r) for t, r in found[0].items()}
    for other in found[1:]:
        assert other == found[0]
