"""Every lock a batch takes is taken up front, in one order (``service_layer.locks``): a task's
previous owner too. On PostgreSQL, a batch moving a task from A to B while another transaction
holds A and then asks for B (both in the order) must not deadlock: the batch waits for A before
it takes B. Before, it took B up front and A only on reading the task, and PostgreSQL had to
break the cycle by failing one of them."""
from __future__ import annotations

import threading
from datetime import date, datetime, timedelta, timezone

import pytest
from sqlalchemy import text

from kinerja.events.tugas import TASK_APPROVED, TASK_ASSIGNED
from kinerja.testing import wait_until
from penilaian.adapters.orm import TaskFactRow
from penilaian.service_layer.batch import Batch
from penilaian.service_layer.intake import apply_batch
from penilaian.service_layer.locks import FACT, LockOrderError, asn_key, task_key
from kinerja_testkit.penilaian import day_event, make_penilaian, task_event, wire

pytestmark = pytest.mark.integration

WIB = timezone(timedelta(hours=7))
# A before B both as strings and in the lock order, so a transaction taking A then B is in order
A, B = "199001012020011010", "199001012020011011"
DUE = date(2026, 11, 20)


def _move(task_id: str, to: str):
    at = datetime(2026, 11, 25, 10, tzinfo=WIB)
    return wire(task_event(TASK_APPROVED, to, task_id, "approved", DUE, at=at, realised="10", quality=90,
                           submitted_at=at - timedelta(days=1), approved_at=at))


def test_a_batch_takes_its_locks_in_one_increasing_pass_with_the_previous_owner(database_url):
    p = make_penilaian(database_url)
    assert asn_key(A).order < asn_key(B).order
    p.apply(task_event(TASK_ASSIGNED, A, "T1", "assigned", DUE, at=datetime(2026, 11, 2, 9, tzinfo=WIB)))
    with p.runtime.session() as s, s.begin():
        batch = Batch(s)
        batch.prepare([_move("T1", B), wire(day_event(B, date(2026, 11, 3)))])
        taken = batch.locks.taken
        assert [k.order for k in taken] == sorted(k.order for k in taken)
        assert task_key("T1") in taken and taken[0].klass == FACT
        assert asn_key(A) in taken and asn_key(B) in taken  # A: the task's owner until now
        with pytest.raises(LockOrderError):  # nothing more once the batch has taken its locks
            batch.lock_all(["199001012020011099"])
        batch.lock_all([A, B])  # held: nothing to take
    p.runtime.dispose()


def test_two_transactions_crossing_on_a_moved_task_do_not_deadlock(postgres_url):
    p = make_penilaian(postgres_url)
    tz = p.runtime.settings.timezone
    p.apply(task_event(TASK_ASSIGNED, A, "T1", "assigned", DUE, at=datetime(2026, 11, 2, 9, tzinfo=WIB)))
    errors: list[BaseException] = []
    with p.runtime.session() as other, other.begin():
        apply_batch(other, None, [wire(day_event(A, date(2026, 11, 3), ("TL1", "0.5")))], tz=tz)  # holds A

        def move() -> None:
            try:
                with p.runtime.session() as s, s.begin():
                    apply_batch(s, p.runtime.outbox, [_move("T1", B)], tz=tz)
            except BaseException as exc:  # noqa: BLE001 - reported below
                errors.append(exc)

        mover = threading.Thread(target=move)
        mover.start()
        waiting = ("SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted "
                   "AND database = (SELECT oid FROM pg_database WHERE datname = current_database())")
        wait_until(lambda: other.connection().exec_driver_sql(waiting).scalar() > 0, 30,
                   message="the moving batch waiting for A")
        # in order (A, then B): B must be free, the mover waits for A without holding B
        other.execute(text("SET LOCAL lock_timeout = '20s'"))
        apply_batch(other, None, [wire(day_event(B, date(2026, 11, 4), ("TL2", "1")))], tz=tz)
    mover.join(timeout=60)
    assert not mover.is_alive() and errors == []
    with p.runtime.session() as s:
        assert s.get(TaskFactRow, "T1").nip == B
    assert p.score(A, "2026-11").disiplin is not None and p.score(B, "2026-11").produktivitas is not None
    p.runtime.dispose()


def test_an_innovation_stated_for_another_asn_leaves_the_first_one(database_url):
    """Its previous owner is locked with the rest, and recomputed: the innovation no longer counts
    for them (before, their month was left as it was)."""
    from kinerja.events import make_event
    from kinerja.events.tugas import INNOVATION_APPROVED

    p = make_penilaian(database_url)
    at = datetime(2026, 11, 10, 11, tzinfo=WIB)

    def approved(nip: str, event_id: str):
        return make_event(INNOVATION_APPROVED, subject=nip, agency="dinkes", source="test/tugas", time=at,
                          event_id=event_id, data={"innovation_id": "INO-1", "nip": nip, "title": "Inovasi",
                                                   "approved_at": at})

    first, second = "00000000-0000-4000-8000-000000000001", "ffffffff-ffff-4fff-bfff-ffffffffffff"

    def in_ledger(nip: str) -> set[str]:
        return {i for e in p.score(nip, "2026-11").detail["ledger"] for i in e["event_ids"]}

    p.apply(_move("TA", A), _move("TB", B))  # a task each: innovation points add to its score
    p.apply(approved(A, first))
    assert first in in_ledger(A)
    p.apply(approved(B, second))
    assert first not in in_ledger(A) and second not in in_ledger(A)
    assert second in in_ledger(B)
    p.runtime.dispose()
