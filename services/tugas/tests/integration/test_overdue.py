"""Overdue detection: once per task, after the due day ends in the agency's time zone."""
from __future__ import annotations

from datetime import date, datetime, timedelta, timezone
from decimal import Decimal

import pytest

from .tugas_testkit import AGENCY, ATASAN, PEG1, PEG2, today_wib
from tugas.entrypoints.consumer import check_overdue, overdue_ticker
from tugas.service_layer import tasks as service

pytestmark = pytest.mark.integration

SUPERVISOR = service.Actor(nip=ATASAN, role="atasan", agency=AGENCY)


def seed(t, nip, due: date, assigned_on: date) -> str:
    with t.runtime.session() as session, session.begin():
        row = service.assign_task(session, t.runtime.outbox, SUPERVISOR, assignee_nip=nip, title=f"due {due}",
                                  due_date=due, target_quantity=Decimal(2), today=assigned_on)
        return row.id


def overdue_events(t):
    return [e for e in t.outbox() if e["type"] == "tugas.task.overdue.v1"]


def test_overdue_once_per_task_and_never_for_finished_ones(tugas):
    due = date(2026, 1, 5)
    open_id = seed(tugas, PEG1, due, date(2026, 1, 2))
    submitted_id = seed(tugas, PEG2, due, date(2026, 1, 2))
    approved_id = seed(tugas, PEG1, due, date(2026, 1, 2))
    later_id = seed(tugas, PEG1, date(2026, 1, 9), date(2026, 1, 2))
    runtime = tugas.runtime
    peg1 = service.Actor(nip=PEG1, role="pegawai", agency=AGENCY)
    peg2 = service.Actor(nip=PEG2, role="pegawai", agency=AGENCY)
    with runtime.session() as session, session.begin():
        for actor, tid in ((peg2, submitted_id), (peg1, approved_id)):
            service.change_task(session, runtime.outbox, actor, tid, "start")
            service.change_task(session, runtime.outbox, actor, tid, "submit")
        service.change_task(session, runtime.outbox, SUPERVISOR, approved_id, "approve",
                            realised_quantity=Decimal(2), quality=80)

    with runtime.session() as session, session.begin():
        assert service.flag_overdue(session, runtime.outbox, today=due) == 0  # the due day itself is not late
    with runtime.session() as session, session.begin():
        assert service.flag_overdue(session, runtime.outbox, today=due + timedelta(days=1)) == 2
    with runtime.session() as session, session.begin():
        assert service.flag_overdue(session, runtime.outbox, today=due + timedelta(days=2)) == 0
    events = overdue_events(tugas)
    assert sorted(e["data"]["task_id"] for e in events) == sorted([open_id, submitted_id])
    by_id = {e["data"]["task_id"]: e for e in events}
    assert by_id[submitted_id]["data"]["status"] == "submitted" and by_id[open_id]["data"]["status"] == "assigned"
    assert by_id[open_id]["data"]["due_date"] == "2026-01-05" and by_id[open_id]["subject"] == PEG1
    task = tugas.call("GET", f"/api/v1/tasks/{open_id}", (ATASAN, "atasan")).get_json()
    assert task["overdue_at"] is not None and task["status"] == "assigned"
    # a later approval of an overdue task is still possible and published
    with runtime.session() as session, session.begin():
        assert service.flag_overdue(session, runtime.outbox, today=date(2026, 1, 10)) == 1  # later_id
    assert {e["data"]["task_id"] for e in overdue_events(tugas)} == {open_id, submitted_id, later_id}


def test_overdue_follows_jakarta_midnight(tugas):
    due = date(2026, 1, 5)
    tid = seed(tugas, PEG1, due, date(2026, 1, 1))
    # 23:30 WIB on the due day: not yet; 00:30 WIB the next day: overdue
    assert check_overdue(tugas.runtime, now=datetime(2026, 1, 5, 16, 30, tzinfo=timezone.utc)) == 0
    assert check_overdue(tugas.runtime, now=datetime(2026, 1, 5, 17, 30, tzinfo=timezone.utc)) == 1
    assert [e["data"]["task_id"] for e in overdue_events(tugas)] == [tid]


def test_idle_hook_sweeps_at_most_once_a_minute(tugas):
    clock = [1000.0]
    tick = overdue_ticker(tugas.runtime, interval_s=60, clock=lambda: clock[0])
    tick()  # first call sweeps (nothing to flag yet)
    yesterday = today_wib() - timedelta(days=1)
    tid = seed(tugas, PEG1, yesterday, yesterday - timedelta(days=3))
    clock[0] += 30
    tick()
    assert overdue_events(tugas) == []
    clock[0] += 31
    tick()
    assert [e["data"]["task_id"] for e in overdue_events(tugas)] == [tid]
