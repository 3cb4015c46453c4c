"""``tugas.task.rescheduled.v1`` in penilaian: a new due date moves the task to the period it now
falls in (the period it left is recomputed and published too) and is what its timeliness is judged
by. Through the real broker, then the same facts in every order on SQLite and PostgreSQL."""
from __future__ import annotations

import itertools
from datetime import date
from decimal import Decimal as D

import pytest

from kinerja.events import make_event
from kinerja.events.tugas import TASK_APPROVED, TASK_ASSIGNED, TASK_OVERDUE, TASK_RESCHEDULED, TASK_SUBMITTED
from kinerja.messaging.topics import PEGAWAI, TUGAS
from kinerja.testing import wait_until
from kinerja_testkit.penilaian import (AGENCY, ATASAN, PEG1, RunningConsumer, at, make_penilaian, publish, roster_event,
                               task_event)

pytestmark = pytest.mark.integration

OLD_DUE, NEW_DUE = date(2026, 1, 10), date(2026, 2, 5)


def rescheduled(at_, *, status="assigned", due=NEW_DUE, previous=OLD_DUE, task_id="t-1", nip=PEG1):
    base = {"task_id": task_id, "nip": nip, "atasan_nip": ATASAN, "title": f"Laporan {task_id}", "status": status,
            "due_date": due, "target_quantity": D("10")}
    return make_event(TASK_RESCHEDULED, subject=nip, agency=AGENCY, source="test/tugas", time=at_,
                      data={**base, "previous_due_date": previous, "previous_title": base["title"],
                            "previous_target_quantity": D("10"), "rescheduled_by": ATASAN})


def story(nip=PEG1, task_id="t-1"):
    """Assigned due 10 January, flagged overdue on the 11th, extended on the 12th to 5 February,
    handed in on 3 February and approved on the 4th (quantity 100, quality 90)."""
    return [
        task_event(TASK_ASSIGNED, nip, task_id, "assigned", OLD_DUE, at=at(date(2026, 1, 5))),
        task_event(TASK_OVERDUE, nip, task_id, "assigned", OLD_DUE, at=at(date(2026, 1, 11))),
        rescheduled(at(date(2026, 1, 12)), nip=nip, task_id=task_id),
        task_event(TASK_SUBMITTED, nip, task_id, "submitted", NEW_DUE, at=at(date(2026, 2, 3)),
                   submitted_at=at(date(2026, 2, 3))),
        task_event(TASK_APPROVED, nip, task_id, "approved", NEW_DUE, at=at(date(2026, 2, 4)), realised="10",
                   quality=90, submitted_at=at(date(2026, 2, 3)), approved_at=at(date(2026, 2, 4))),
    ]


@pytest.mark.slow
def test_a_reschedule_through_the_broker_moves_the_task_and_its_timeliness(database_url, kafka_bootstrap,
                                                                            topic_prefix):
    p = make_penilaian(database_url, kafka_bootstrap=kafka_bootstrap, topic_prefix=topic_prefix)
    assigned, overdue, moved, submitted, approved = story()
    consumer = RunningConsumer(p.runtime)
    try:
        publish(kafka_bootstrap, topic_prefix, [(PEGAWAI, roster_event(PEG1, "Pegawai Satu"))])
        publish(kafka_bootstrap, topic_prefix, [(TUGAS, assigned), (TUGAS, overdue)])
        # overdue and not approved: the task counts 0 in January
        wait_until(lambda: (p.score(PEG1, "2026-01") or None) and p.score(PEG1, "2026-01").produktivitas == 0,
                   timeout_s=60, message="January's overdue task at 0")

        publish(kafka_bootstrap, topic_prefix, [(TUGAS, moved)])
        # extended to February: January has no task due any more, and February's is not late yet
        wait_until(lambda: p.score(PEG1, "2026-01").produktivitas is None, timeout_s=60,
                   message="the task to leave January")
        january = [e for e in p.outbox() if e["data"].get("period") == "2026-01"][-1]
        assert january["data"]["produktivitas"] is None and january["data"]["caused_by"] == [moved.id]
        assert p.score(PEG1, "2026-02").produktivitas is None

        publish(kafka_bootstrap, topic_prefix, [(TUGAS, submitted), (TUGAS, approved)])
        february = wait_until(lambda: (p.score(PEG1, "2026-02") or None) and p.score(PEG1, "2026-02").produktivitas
                              and p.score(PEG1, "2026-02"), timeout_s=60, message="February's approved task")
    finally:
        consumer.close()
        p.runtime.dispose()
    # judged by 5 February: on time (by 10 January it would be 24 days late, timeliness 0)
    task = february.detail["tasks"][0]
    assert (task["due_date"], task["timeliness"], task["quality"], task["quantity"]) == (
        "2026-02-05", "100", "90", "100")
    assert february.produktivitas == D("96.67")
    assert p.score(PEG1, "2026-01").produktivitas is None
    assert consumer.consumer.stats.dead_lettered == 0


def test_the_same_facts_in_any_order_give_the_same_scores(penilaian):
    """Order does not matter (DESIGN section 4). The story stopped after the extension (every one
    of its 6 orders): the task is due in February and not late, so January counts nothing. The
    whole story (12 of its orders, the reverse among them): in February, on time."""
    def produktivitas(nip, period):
        row = penilaian.score(nip, period)
        return row.produktivitas if row is not None else None

    open_orders = list(itertools.permutations(range(3)))
    whole_orders = list(itertools.permutations(range(5)))[::10] + [(4, 3, 2, 1, 0)]
    runs = [(order, 3) for order in open_orders] + [(order, 5) for order in whole_orders]
    for i, (order, _) in enumerate(runs):
        nip = f"1995010120200110{i:02d}"
        events = story(nip, f"t-{i}")
        penilaian.apply(*[events[j] for j in order])
    results = {n: set() for n in (3, 5)}
    for i, (_, n) in enumerate(runs):
        nip = f"1995010120200110{i:02d}"
        results[n].add((produktivitas(nip, "2026-01"), produktivitas(nip, "2026-02")))
    assert results == {3: {(None, None)}, 5: {(None, D("96.67"))}}


def test_an_open_task_rescheduled_into_the_past_is_overdue_by_the_new_date(penilaian):
    """Shortened on 20 February to 15 February while open: overdue since it was seen open after
    the new date; handed in on the 18th it is 3 days late (timeliness 70)."""
    due, shorter = date(2026, 2, 28), date(2026, 2, 15)
    penilaian.apply(roster_event(PEG1, "Pegawai Satu"),
                    task_event(TASK_SUBMITTED, PEG1, "t-2", "submitted", due, at=at(date(2026, 2, 18)),
                               submitted_at=at(date(2026, 2, 18))),
                    rescheduled(at(date(2026, 2, 20)), status="submitted", due=shorter, previous=due, task_id="t-2"))
    assert penilaian.score(PEG1, "2026-02").produktivitas == 0  # overdue, not yet approved
    penilaian.apply(task_event(TASK_APPROVED, PEG1, "t-2", "approved", shorter, at=at(date(2026, 2, 21)),
                               realised="10", quality=80, submitted_at=at(date(2026, 2, 18)),
                               approved_at=at(date(2026, 2, 21))))
    task = penilaian.score(PEG1, "2026-02").detail["tasks"][0]
    assert (task["due_date"], task["timeliness"]) == ("2026-02-15", "70")
