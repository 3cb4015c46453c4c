"""Rescheduling a task (PATCH /api/v1/tasks/<id>) on SQLite and PostgreSQL: the assignee's supervisor
changes due date, title or target of an open task; a due date in the past is allowed (a deadline
that has already passed); the change is published as ``tugas.task.rescheduled.v1`` with the terms
before it; refusals change nothing."""
from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest

from .tugas_testkit import (ATASAN, FOREIGN, FOREIGN_ATASAN, KEPALA, OTHER_ATASAN, PEG1, today_wib)
from tugas.entrypoints.consumer import check_overdue

pytestmark = pytest.mark.integration

SUPERVISOR = (ATASAN, "atasan")
ASSIGNEE = (PEG1, "pegawai")


def patch(t, task_id, body, who=SUPERVISOR):
    return t.call("PATCH", f"/api/v1/tasks/{task_id}", who, body)


def snapshot(t, task_id):
    return t.call("GET", f"/api/v1/tasks/{task_id}", SUPERVISOR).get_json(), len(t.outbox())


def test_supervisor_reschedules_into_the_past_and_the_task_is_late_by_the_new_date(tugas):
    task = tugas.assign()
    assert tugas.call("POST", f"/api/v1/tasks/{task['id']}/start", ASSIGNEE, {}).status_code == 200
    past = today_wib() - timedelta(days=2)
    resp = patch(tugas, task["id"], {"due_date": past.isoformat(), "title": "Laporan triwulan",
                                     "target_quantity": "6", "version": 2})
    assert resp.status_code == 200, resp.get_json()
    moved = resp.get_json()
    assert (moved["due_date"], moved["title"], Decimal(moved["target_quantity"])) == (past.isoformat(), "Laporan triwulan", 6)
    assert moved["status"] == "in_progress" and moved["version"] == 3 and moved["overdue_at"] is None

    event = tugas.outbox()[-1]
    assert event["type"] == "tugas.task.rescheduled.v1" and event["subject"] == PEG1
    data = event["data"]
    assert data["task_id"] == task["id"] and data["status"] == "in_progress"
    assert data["due_date"] == past.isoformat() and data["title"] == "Laporan triwulan"
    assert Decimal(data["target_quantity"]) == 6
    # the terms before the change, and who changed them
    assert data["previous_due_date"] == task["due_date"] and data["previous_title"] == task["title"]
    assert Decimal(data["previous_target_quantity"]) == Decimal(task["target_quantity"])
    assert data["rescheduled_by"] == ATASAN

    # the overdue sweep judges the new date
    assert check_overdue(tugas.runtime) == 1
    assert tugas.outbox()[-1]["type"] == "tugas.task.overdue.v1"
    assert tugas.outbox()[-1]["data"]["due_date"] == past.isoformat()
    assert tugas.call("GET", f"/api/v1/tasks/{task['id']}", SUPERVISOR).get_json()["overdue_at"] is not None


def test_a_new_due_date_is_judged_afresh_by_the_overdue_sweep(tugas):
    task = tugas.assign()
    yesterday = today_wib() - timedelta(days=1)
    assert patch(tugas, task["id"], {"due_date": yesterday.isoformat()}).status_code == 200
    assert check_overdue(tugas.runtime) == 1
    # an extension clears the flag; nothing is overdue any more
    extended = patch(tugas, task["id"], {"due_date": (today_wib() + timedelta(days=5)).isoformat()}).get_json()
    assert extended["overdue_at"] is None and extended["status"] == "assigned"
    assert check_overdue(tugas.runtime) == 0
    # only a title change keeps the due date and does not re-open the question
    assert patch(tugas, task["id"], {"title": "Judul baru"}).get_json()["title"] == "Judul baru"
    # moved into the past once more: flagged (and published) once more
    assert patch(tugas, task["id"], {"due_date": yesterday.isoformat()}).status_code == 200
    assert check_overdue(tugas.runtime) == 1
    assert check_overdue(tugas.runtime) == 0
    types = [e["type"].split(".")[2] for e in tugas.outbox()]
    assert types == ["assigned", "rescheduled", "overdue", "rescheduled", "rescheduled", "rescheduled", "overdue"]


def test_a_submitted_task_may_be_rescheduled_and_its_approval_keeps_the_new_terms(tugas):
    task = tugas.assign(target_quantity=4)
    tugas.call("POST", f"/api/v1/tasks/{task['id']}/start", ASSIGNEE, {})
    tugas.call("POST", f"/api/v1/tasks/{task['id']}/submit", ASSIGNEE, {"note": "selesai"})
    past = today_wib() - timedelta(days=3)
    moved = patch(tugas, task["id"], {"due_date": past.isoformat(), "target_quantity": 8}).get_json()
    assert moved["status"] == "submitted" and moved["note"] == "selesai"
    assert tugas.outbox()[-1]["type"] == "tugas.task.rescheduled.v1"
    assert tugas.outbox()[-1]["data"]["status"] == "submitted"
    approved = tugas.call("POST", f"/api/v1/tasks/{task['id']}/approve", SUPERVISOR,
                          {"realised_quantity": 6, "quality": 80}).get_json()
    assert approved["status"] == "approved" and approved["due_date"] == past.isoformat()
    data = tugas.outbox()[-1]["data"]
    assert data["due_date"] == past.isoformat() and Decimal(data["target_quantity"]) == 8


@pytest.mark.parametrize("who, status", [
    ((OTHER_ATASAN, "atasan"), 403),  # a supervisor, but not this assignee's
    ((KEPALA, "atasan"), 403),  # the supervisor's supervisor
    ((PEG1, "pegawai"), 403),  # the assignee
    ((FOREIGN_ATASAN, "atasan", FOREIGN), 404),  # another agency: the task does not exist for them
])
def test_only_the_assignees_supervisor_reschedules(tugas, who, status):
    task = tugas.assign()
    before = snapshot(tugas, task["id"])
    resp = patch(tugas, task["id"], {"due_date": today_wib().isoformat()}, who=who)
    assert resp.status_code == status, resp.get_json()
    assert snapshot(tugas, task["id"]) == before


def test_finished_and_proposed_tasks_are_not_rescheduled(tugas):
    approved = tugas.assign()
    tugas.call("POST", f"/api/v1/tasks/{approved['id']}/start", ASSIGNEE, {})
    tugas.call("POST", f"/api/v1/tasks/{approved['id']}/submit", ASSIGNEE, {})
    assert tugas.call("POST", f"/api/v1/tasks/{approved['id']}/approve", SUPERVISOR,
                      {"realised_quantity": 4, "quality": 90}).status_code == 200
    cancelled = tugas.assign()
    assert tugas.call("POST", f"/api/v1/tasks/{cancelled['id']}/cancel", SUPERVISOR, {}).status_code == 200
    proposed = tugas.assign(who=ASSIGNEE)
    assert proposed["status"] == "proposed"
    for task, status in ((approved, "approved"), (cancelled, "cancelled"), (proposed, "proposed")):
        before = snapshot(tugas, task["id"])
        resp = patch(tugas, task["id"], {"due_date": (today_wib() - timedelta(days=1)).isoformat()})
        assert resp.status_code == 409, resp.get_json()
        assert f"cannot reschedule a task that is {status}" in resp.get_json()["message"]
        assert snapshot(tugas, task["id"]) == before


def test_a_stale_version_is_409_and_changes_nothing(tugas):
    task = tugas.assign()
    before = snapshot(tugas, task["id"])
    resp = patch(tugas, task["id"], {"due_date": today_wib().isoformat(), "version": 7})
    assert resp.status_code == 409
    assert snapshot(tugas, task["id"]) == before


@pytest.mark.parametrize("body", [
    {},  # nothing to change
    {"version": 1},
    {"due_date": "2026-02-30"},
    {"due_date": "kemarin"},
    {"title": ""},
    {"title": "   "},
    {"target_quantity": 0},
    {"target_quantity": -2},
    {"target_quantity": "banyak"},
    {"due_date": None, "title": None, "target_quantity": None},
    {"status": "approved"},  # not a field of a reschedule
])
def test_bad_input_is_422_and_changes_nothing(tugas, body):
    task = tugas.assign()
    before = snapshot(tugas, task["id"])
    resp = patch(tugas, task["id"], body)
    assert resp.status_code == 422, resp.get_json()
    assert snapshot(tugas, task["id"]) == before


def test_unknown_task_is_404(tugas):
    assert patch(tugas, "no-such-task", {"title": "x"}).status_code == 404


def test_the_rhk_must_stay_in_the_skp_of_the_year_the_task_is_due(tugas):
    year = today_wib().year
    skp = tugas.call("POST", "/api/v1/skp", ASSIGNEE, {"year": year, "rhk": [{
        "kind": "main", "text": "Laporan tersusun",
        "indicators": [{"indicator": "Jumlah laporan", "target_quantity": 12, "unit": "laporan"}]}]}).get_json()
    task = tugas.assign(rhk_id=skp["rhk"][0]["id"], due=today_wib())
    before = snapshot(tugas, task["id"])
    resp = patch(tugas, task["id"], {"due_date": f"{year - 1}-12-31"})
    assert resp.status_code == 422 and f"SKP of {year}" in resp.get_json()["message"]
    assert snapshot(tugas, task["id"]) == before
