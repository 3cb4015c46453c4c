"""The tasks API on SQLite and PostgreSQL: lifecycle, events in the outbox, refusals that change nothing."""
from __future__ import annotations

import threading
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal

import pytest

from .tugas_testkit import (ADMIN, AGENCY, ATASAN, FOREIGN, FOREIGN_ATASAN, FOREIGN_PEG, KEPALA, OTHER_ATASAN, PEG1,
                      PEG2, PEG3, roster_event, today_wib)
from tugas.adapters.orm import RhkRow, SkpRow, TaskRow
from tugas.service_layer import tasks as service

pytestmark = pytest.mark.integration

SUPERVISOR = (ATASAN, "atasan")
ASSIGNEE = (PEG1, "pegawai")


def start_and_submit(t, task_id, note="selesai", links=("https://drive.test/laporan.pdf",)):
    assert t.call("POST", f"/api/v1/tasks/{task_id}/start", ASSIGNEE, {}).status_code == 200
    resp = t.call("POST", f"/api/v1/tasks/{task_id}/submit", ASSIGNEE, {"note": note, "links": list(links)})
    assert resp.status_code == 200, resp.get_json()
    return resp.get_json()


def snapshot(t, task_id):
    return t.call("GET", f"/api/v1/tasks/{task_id}", SUPERVISOR).get_json(), len(t.outbox())


def test_assign_start_submit_approve_writes_rows_and_events(tugas):
    task = tugas.assign(category="pelayanan")
    assert task["status"] == "assigned" and task["version"] == 1 and task["atasan_nip"] == ATASAN
    submitted = start_and_submit(tugas, task["id"])
    assert submitted["status"] == "submitted" and submitted["links"] == ["https://drive.test/laporan.pdf"]
    resp = tugas.call("POST", f"/api/v1/tasks/{task['id']}/approve", SUPERVISOR,
                      {"realised_quantity": 3, "quality": 85, "note": "rapi"})
    assert resp.status_code == 200, resp.get_json()
    approved = resp.get_json()
    assert approved["status"] == "approved" and approved["quality"] == 85
    assert Decimal(approved["realised_quantity"]) == 3 and approved["version"] == 4

    events = tugas.outbox()
    assert [e["type"] for e in events] == ["tugas.task.assigned.v1", "tugas.task.submitted.v1", "tugas.task.approved.v1"]
    assert {e["topic"] for e in events} == {"tugas.v1"} and {e["key"] for e in events} == {PEG1}
    data = events[-1]["data"]
    assert events[-1]["subject"] == PEG1 and events[-1]["agency"] == AGENCY
    assert data["task_id"] == task["id"] and data["nip"] == PEG1 and data["atasan_nip"] == ATASAN
    assert data["due_date"] == task["due_date"] and data["status"] == "approved"
    assert Decimal(data["target_quantity"]) == 4 and Decimal(data["realised_quantity"]) == 3
    assert data["quality"] == 85 and data["rhk_id"] is None and data["category"] == "pelayanan"
    assert datetime.fromisoformat(data["submitted_at"]) == datetime.fromisoformat(submitted["submitted_at"])
    assert datetime.fromisoformat(data["approved_at"]) >= datetime.fromisoformat(data["submitted_at"])


def test_returned_then_resubmitted_approval_carries_the_last_submission(tugas):
    task = tugas.assign()
    first = start_and_submit(tugas, task["id"])
    resp = tugas.call("POST", f"/api/v1/tasks/{task['id']}/return", SUPERVISOR, {"feedback": "lampirkan daftar hadir"})
    assert resp.status_code == 200 and resp.get_json()["status"] == "returned"
    assert resp.get_json()["note"] == "lampirkan daftar hadir"
    again = tugas.call("POST", f"/api/v1/tasks/{task['id']}/submit", ASSIGNEE, {"note": "sudah"}).get_json()
    assert again["status"] == "submitted" and again["submitted_at"] >= first["submitted_at"]
    approved = tugas.call("POST", f"/api/v1/tasks/{task['id']}/approve", SUPERVISOR,
                          {"realised_quantity": 4, "quality": 90}).get_json()
    assert approved["submitted_at"] == again["submitted_at"]
    types = [e["type"].split(".")[2] for e in tugas.outbox()]
    assert types == ["assigned", "submitted", "returned", "submitted", "approved"]
    returned = tugas.outbox()[2]["data"]
    assert returned["status"] == "returned" and returned["note"] == "lampirkan daftar hadir"


def test_cancel_by_supervisor(tugas):
    task = tugas.assign()
    resp = tugas.call("POST", f"/api/v1/tasks/{task['id']}/cancel", SUPERVISOR, {"reason": "tidak relevan"})
    assert resp.status_code == 200 and resp.get_json()["status"] == "cancelled"
    assert tugas.outbox()[-1]["type"] == "tugas.task.cancelled.v1"
    resp = tugas.call("POST", f"/api/v1/tasks/{task['id']}/start", ASSIGNEE, {})
    assert resp.status_code == 409 and "cancelled" in resp.get_json()["message"]


@pytest.mark.parametrize("action, who, body", [
    ("submit", ASSIGNEE, {}),  # not started
    ("approve", SUPERVISOR, {"realised_quantity": 1, "quality": 50}),  # not submitted
    ("return", SUPERVISOR, {"feedback": "x"}),
])
def test_illegal_transitions_are_409_and_change_nothing(tugas, action, who, body):
    task = tugas.assign()
    before = snapshot(tugas, task["id"])
    resp = tugas.call("POST", f"/api/v1/tasks/{task['id']}/{action}", who, body)
    assert resp.status_code == 409
    assert f"cannot {action} a task that is assigned" in resp.get_json()["message"]
    assert snapshot(tugas, task["id"]) == before


def test_approving_twice_is_409(tugas):
    task = tugas.assign()
    start_and_submit(tugas, task["id"])
    ok = tugas.call("POST", f"/api/v1/tasks/{task['id']}/approve", SUPERVISOR, {"realised_quantity": 4, "quality": 80})
    assert ok.status_code == 200
    again = tugas.call("POST", f"/api/v1/tasks/{task['id']}/approve", SUPERVISOR, {"realised_quantity": 4, "quality": 99})
    assert again.status_code == 409 and "approved" in again.get_json()["message"]
    assert [e["type"] for e in tugas.outbox()].count("tugas.task.approved.v1") == 1


def test_racing_approvals_one_wins_one_conflicts(tugas):
    task = tugas.assign()
    start_and_submit(tugas, task["id"])
    barrier = threading.Barrier(2)
    results: list[tuple[int, dict]] = []

    def approve(quality):
        client = tugas.app.test_client()
        barrier.wait(timeout=10)
        resp = client.post(f"/api/v1/tasks/{task['id']}/approve", json={"realised_quantity": 4, "quality": quality},
                           headers=tugas.headers(*SUPERVISOR))
        results.append((resp.status_code, resp.get_json()))

    threads = [threading.Thread(target=approve, args=(q,)) for q in (70, 95)]
    for th in threads:
        th.start()
    for th in threads:
        th.join(timeout=60)
    assert sorted(code for code, _ in results) == [200, 409], results
    winner = next(body for code, body in results if code == 200)
    approved_events = [e for e in tugas.outbox() if e["type"] == "tugas.task.approved.v1"]
    assert len(approved_events) == 1 and approved_events[0]["data"]["quality"] == winner["quality"]
    assert tugas.call("GET", f"/api/v1/tasks/{task['id']}", SUPERVISOR).get_json()["quality"] == winner["quality"]


def test_stale_version_is_409_even_for_a_legal_transition(tugas):
    task = tugas.assign()
    submitted = start_and_submit(tugas, task["id"])
    stale = submitted["version"] - 1
    resp = tugas.call("POST", f"/api/v1/tasks/{task['id']}/approve", SUPERVISOR,
                      {"realised_quantity": 4, "quality": 80, "version": stale})
    assert resp.status_code == 409 and "version" in resp.get_json()["message"]
    resp = tugas.call("POST", f"/api/v1/tasks/{task['id']}/approve", SUPERVISOR,
                      {"realised_quantity": 4, "quality": 80, "version": submitted["version"]})
    assert resp.status_code == 200


def test_conditional_update_loses_to_a_concurrent_writer(tugas):
    """Two sessions read the same version; the one that writes second gets a conflict."""
    task = tugas.assign()
    start_and_submit(tugas, task["id"])
    runtime = tugas.runtime
    actor = service.Actor(nip=ATASAN, role="atasan", agency=AGENCY)
    with runtime.session() as session:
        row = session.get(TaskRow, task["id"])
        stale_version = row.version
    with runtime.session() as session, session.begin():
        service.change_task(session, runtime.outbox, actor, task["id"], "approve",
                            realised_quantity=Decimal(4), quality=80)
    with runtime.session() as session, session.begin():
        with pytest.raises(service.ConcurrentUpdate):
            service.change_task(session, runtime.outbox, actor, task["id"], "cancel", expected_version=stale_version)


# -- bad input ----------------------------------------------------------------------------------
@pytest.mark.parametrize("body, status", [
    ({"nip": PEG1, "due_date": "2099-01-01", "target_quantity": 1}, 422),  # no title
    ({"nip": PEG1, "title": "x", "target_quantity": 1}, 422),  # no due date
    ({"nip": PEG1, "title": "x", "due_date": "2099-01-01"}, 422),  # no target
    ({"nip": PEG1, "title": "x", "due_date": "2099-01-01", "target_quantity": 0}, 422),
    ({"nip": PEG1, "title": "x", "due_date": "2099-01-01", "target_quantity": -3}, 422),
    ({"nip": PEG1, "title": "x", "due_date": "2020-01-01", "target_quantity": 1}, 422),  # in the past
    ({"nip": "123", "title": "x", "due_date": "2099-01-01", "target_quantity": 1}, 422),
    ({"nip": PEG1, "title": "x", "due_date": "2099-01-01", "target_quantity": 1, "rhk_id": "nope"}, 422),
    ({"nip": PEG3, "title": "x", "due_date": "2099-01-01", "target_quantity": 1}, 403),  # not my team
    ({"nip": KEPALA, "title": "x", "due_date": "2099-01-01", "target_quantity": 1}, 403),  # my own boss
    ({"nip": FOREIGN_PEG, "title": "x", "due_date": "2099-01-01", "target_quantity": 1}, 403),
    ({"nip": "199901012020011099", "title": "x", "due_date": "2099-01-01", "target_quantity": 1}, 403),  # unknown
])
def test_bad_assignments_are_refused_and_change_nothing(tugas, body, status):
    resp = tugas.call("POST", "/api/v1/tasks", SUPERVISOR, body)
    assert resp.status_code == status, resp.get_json()
    assert resp.get_json()["message"]
    assert tugas.outbox() == []
    assert tugas.call("GET", "/api/v1/tasks", (ADMIN, "admin")).get_json()["total"] == 0


def test_past_due_date_message_is_clear(tugas):
    yesterday = (today_wib() - timedelta(days=1)).isoformat()
    resp = tugas.call("POST", "/api/v1/tasks", SUPERVISOR,
                      {"nip": PEG1, "title": "x", "due_date": yesterday, "target_quantity": 1})
    assert resp.status_code == 422 and "in the past" in resp.get_json()["message"]
    assert tugas.assign(due=today_wib())["due_date"] == today_wib().isoformat()


@pytest.mark.parametrize("body", [
    {"quality": 80}, {"realised_quantity": 1}, {"realised_quantity": 1, "quality": 101},
    {"realised_quantity": 1, "quality": -1}, {"realised_quantity": 1, "quality": 85.5},
    {"realised_quantity": 1, "quality": "80"}, {"realised_quantity": -1, "quality": 80},
])
def test_bad_approvals_are_422_and_change_nothing(tugas, body):
    task = tugas.assign()
    start_and_submit(tugas, task["id"])
    before = snapshot(tugas, task["id"])
    resp = tugas.call("POST", f"/api/v1/tasks/{task['id']}/approve", SUPERVISOR, body)
    assert resp.status_code == 422, resp.get_json()
    assert snapshot(tugas, task["id"]) == before


def test_return_needs_feedback_and_unknown_task_is_404(tugas):
    task = tugas.assign()
    start_and_submit(tugas, task["id"])
    before = snapshot(tugas, task["id"])
    for body in ({}, {"feedback": "   "}):
        assert tugas.call("POST", f"/api/v1/tasks/{task['id']}/return", SUPERVISOR, body).status_code == 422
    assert snapshot(tugas, task["id"]) == before
    assert tugas.call("GET", "/api/v1/tasks/no-such-task", SUPERVISOR).status_code == 404
    assert tugas.call("POST", "/api/v1/tasks/no-such-task/approve", SUPERVISOR,
                      {"realised_quantity": 1, "quality": 1}).status_code == 404
    bad_link = tugas.call("POST", f"/api/v1/tasks/{task['id']}/submit", ASSIGNEE, {"links": ["not a url"]})
    assert bad_link.status_code == 422


def test_task_against_an_rhk_of_the_assignee(tugas):
    now = datetime.now(timezone.utc)
    with tugas.runtime.session() as session, session.begin():
        session.add(SkpRow(id="skp-1", nip=PEG1, agency=AGENCY, year=today_wib().year, status="approved",
                           atasan_nip=ATASAN, revision=1, created_at=now, updated_at=now))
        session.add(SkpRow(id="skp-2", nip=PEG2, agency=AGENCY, year=today_wib().year, status="approved",
                           atasan_nip=ATASAN, revision=1, created_at=now, updated_at=now))
        session.flush()
        session.add(RhkRow(id="rhk-1", skp_id="skp-1", nip=PEG1, kind="main", text="Laporan kinerja", indicators=[]))
        session.add(RhkRow(id="rhk-2", skp_id="skp-2", nip=PEG2, kind="main", text="Lain", indicators=[]))
    task = tugas.assign(rhk_id="rhk-1", due=today_wib())
    assert task["rhk_id"] == "rhk-1" and tugas.outbox()[-1]["data"]["rhk_id"] == "rhk-1"
    resp = tugas.call("POST", "/api/v1/tasks", SUPERVISOR, {"nip": PEG1, "title": "x", "rhk_id": "rhk-2",
                                                            "due_date": "2099-01-01", "target_quantity": 1})
    assert resp.status_code == 422 and "unknown RHK" in resp.get_json()["message"]
    next_year = f"{today_wib().year + 1}-01-15"
    resp = tugas.call("POST", "/api/v1/tasks", SUPERVISOR, {"nip": PEG1, "title": "x", "rhk_id": "rhk-1",
                                                            "due_date": next_year, "target_quantity": 1})
    assert resp.status_code == 422 and "SKP of" in resp.get_json()["message"]
    listed = tugas.call("GET", "/api/v1/tasks?rhk=rhk-1", SUPERVISOR).get_json()
    assert [i["id"] for i in listed["items"]] == [task["id"]]


# -- who may do what ----------------------------------------------------------------------------
def test_refusals_by_role_supervisor_and_agency_change_nothing(tugas):
    task = tugas.assign()
    tid = task["id"]
    start_and_submit(tugas, tid)
    before = snapshot(tugas, tid)
    approve = {"realised_quantity": 1, "quality": 50}
    attempts = [
        # wrong role
        ("POST", "/api/v1/tasks", (PEG1, "pegawai"), {"nip": PEG2, "title": "x", "due_date": "2099-01-01", "target_quantity": 1}, 403),
        ("POST", f"/api/v1/tasks/{tid}/approve", (PEG1, "pegawai"), approve, 403),
        ("POST", f"/api/v1/tasks/{tid}/approve", (ADMIN, "admin"), approve, 403),
        ("POST", f"/api/v1/tasks/{tid}/return", (PEG2, "pegawai"), {"feedback": "x"}, 403),
        ("POST", f"/api/v1/tasks/{tid}/cancel", (ADMIN, "admin"), {}, 403),
        ("POST", f"/api/v1/tasks/{tid}/submit", (ADMIN, "admin"), {}, 403),
        ("POST", f"/api/v1/tasks/{tid}/approve", (None, "operator"), approve, 403),
        # wrong person
        ("POST", f"/api/v1/tasks/{tid}/approve", (OTHER_ATASAN, "atasan"), approve, 403),
        ("POST", f"/api/v1/tasks/{tid}/approve", (KEPALA, "atasan"), approve, 403),  # the boss's boss
        ("POST", f"/api/v1/tasks/{tid}/return", (OTHER_ATASAN, "atasan"), {"feedback": "x"}, 403),
        ("POST", f"/api/v1/tasks/{tid}/cancel", (OTHER_ATASAN, "atasan"), {}, 403),
        ("POST", f"/api/v1/tasks/{tid}/approve", (PEG1, "atasan"), approve, 403),  # assignee with an atasan token
        ("POST", f"/api/v1/tasks/{tid}/submit", (PEG2, "pegawai"), {}, 403),
        ("POST", "/api/v1/tasks", (OTHER_ATASAN, "atasan"), {"nip": PEG1, "title": "x", "due_date": "2099-01-01", "target_quantity": 1}, 403),
        ("GET", f"/api/v1/tasks/{tid}", (PEG2, "pegawai"), None, 403),
        ("GET", f"/api/v1/tasks/{tid}", (OTHER_ATASAN, "atasan"), None, 403),
        # another agency
        ("POST", f"/api/v1/tasks/{tid}/approve", (FOREIGN_ATASAN, "atasan", FOREIGN), approve, 404),
        ("POST", f"/api/v1/tasks/{tid}/approve", (ATASAN, "atasan", FOREIGN), approve, 404),
        ("GET", f"/api/v1/tasks/{tid}", (FOREIGN_ATASAN, "admin", FOREIGN), None, 404),
        ("POST", "/api/v1/tasks", (FOREIGN_ATASAN, "atasan", FOREIGN), {"nip": PEG1, "title": "x", "due_date": "2099-01-01", "target_quantity": 1}, 403),
    ]
    for method, path, who, body, status in attempts:
        resp = tugas.call(method, path, who, body)
        assert resp.status_code == status, (method, path, who, resp.get_json())
        assert resp.get_json()["message"]
    assert tugas.client.post(f"/api/v1/tasks/{tid}/approve", json=approve).status_code == 401
    assert snapshot(tugas, tid) == before
    foreign_list = tugas.call("GET", "/api/v1/tasks", (FOREIGN_ATASAN, "admin", FOREIGN)).get_json()
    assert foreign_list["total"] == 0


def test_roster_decides_the_supervisor(tugas):
    """PEG1 moves under OTHER_ATASAN: the new supervisor approves, the old one no longer may."""
    task = tugas.assign()
    start_and_submit(tugas, task["id"])
    tugas.apply(roster_event(PEG1, "Pegawai Satu", AGENCY, OTHER_ATASAN))
    body = {"realised_quantity": 4, "quality": 75}
    assert tugas.call("POST", f"/api/v1/tasks/{task['id']}/approve", SUPERVISOR, body).status_code == 403
    resp = tugas.call("POST", f"/api/v1/tasks/{task['id']}/approve", (OTHER_ATASAN, "atasan"), body)
    assert resp.status_code == 200 and resp.get_json()["atasan_nip"] == OTHER_ATASAN
    assert tugas.outbox()[-1]["data"]["atasan_nip"] == OTHER_ATASAN


def test_inactive_employee_cannot_be_assigned(tugas):
    tugas.apply(roster_event(PEG2, "Pegawai Dua", AGENCY, ATASAN, active=False))
    resp = tugas.call("POST", "/api/v1/tasks", SUPERVISOR, {"nip": PEG2, "title": "x", "due_date": "2099-01-01",
                                                            "target_quantity": 1})
    assert resp.status_code == 403 and tugas.outbox() == []


# -- lists --------------------------------------------------------------------------------------
def test_lists_are_scoped_filtered_and_paged(tugas):
    today = today_wib()
    next_month = (today.replace(day=1) + timedelta(days=32)).replace(day=1)
    a = tugas.assign(PEG1, due=today)
    b = tugas.assign(PEG1, due=next_month)
    c = tugas.assign(PEG2, due=next_month)
    d = tugas.assign(PEG3, due=next_month, who=(OTHER_ATASAN, "atasan"))
    start_and_submit(tugas, a["id"])

    def ids(who, query=""):
        resp = tugas.call("GET", f"/api/v1/tasks{query}", who)
        assert resp.status_code == 200, resp.get_json()
        body = resp.get_json()
        return [i["id"] for i in body["items"]], body["total"]

    assert ids((PEG1, "pegawai")) == ([a["id"], b["id"]], 2)
    assert ids((PEG1, "pegawai"), f"?assignee={PEG2}") == ([], 0)
    assert sorted(ids(SUPERVISOR)[0]) == sorted([a["id"], b["id"], c["id"]])
    assert ids((OTHER_ATASAN, "atasan")) == ([d["id"]], 1)
    assert ids((ADMIN, "admin"))[1] == 4
    assert ids((KEPALA, "atasan"))[1] == 0  # not direct reports' tasks
    assert ids(SUPERVISOR, f"?assignee={PEG2}") == ([c["id"]], 1)
    assert ids(SUPERVISOR, "?status=submitted") == ([a["id"]], 1)
    assert ids(SUPERVISOR, f"?period={next_month:%Y-%m}")[1] == 2
    assert ids(SUPERVISOR, f"?period={today:%Y-%m}") == ([a["id"]], 1)
    page1, total = ids((ADMIN, "admin"), "?limit=3")
    page2, _ = ids((ADMIN, "admin"), "?limit=3&page=2")
    by_offset, _ = ids((ADMIN, "admin"), "?limit=3&offset=3")
    assert total == 4 and len(page1) == 3 and page2 == by_offset and len(page2) == 1
    assert set(page1) | set(page2) == {a["id"], b["id"], c["id"], d["id"]}
    for bad in ("?period=2026-13", "?status=done", "?limit=0", "?assignee=12"):
        assert tugas.call("GET", f"/api/v1/tasks{bad}", SUPERVISOR).status_code == 422


def test_openapi_document_lists_the_task_routes(tugas):
    spec = tugas.client.get("/openapi.json").get_json()
    for path in ("/api/v1/tasks", "/api/v1/tasks/{task_id}", "/api/v1/tasks/{task_id}/approve"):
        assert path in spec["paths"]
    assert tugas.client.get("/healthz").status_code == 200


# -- proposals ----------------------------------------------------------------------------------
def test_asn_proposes_supervisor_accepts_or_rejects(tugas):
    due = (today_wib() + timedelta(days=5)).isoformat()
    resp = tugas.call("POST", "/api/v1/tasks", ASSIGNEE, {"nip": PEG1, "title": "Usulan: digitalisasi arsip",
                                                         "due_date": due, "target_quantity": 2})
    assert resp.status_code == 201, resp.get_json()
    proposal = resp.get_json()
    assert proposal["status"] == "proposed" and proposal["atasan_nip"] == ATASAN
    # nothing to score until it is accepted, but the supervisor is told it waits (issue 19 item 8)
    [waiting] = tugas.outbox()
    assert waiting["type"] == "tugas.task.proposed.v1" and waiting["data"]["status"] == "proposed"
    assert waiting["data"]["atasan_nip"] == ATASAN and waiting["data"]["task_id"] == proposal["id"]
    assert [i["id"] for i in tugas.call("GET", "/api/v1/tasks?status=proposed", SUPERVISOR).get_json()["items"]] == [proposal["id"]]
    for who, status in (((PEG1, "pegawai"), 403), ((PEG1, "atasan"), 403), ((OTHER_ATASAN, "atasan"), 403),
                        ((FOREIGN_ATASAN, "atasan", FOREIGN), 404)):
        assert tugas.call("POST", f"/api/v1/tasks/{proposal['id']}/accept", who, {}).status_code == status
    assert tugas.call("POST", f"/api/v1/tasks/{proposal['id']}/start", ASSIGNEE, {}).status_code == 409
    assert tugas.call("POST", f"/api/v1/tasks/{proposal['id']}/accept", SUPERVISOR,
                      {"due_date": "2020-01-01"}).status_code == 422
    later = (today_wib() + timedelta(days=9)).isoformat()
    accepted = tugas.call("POST", f"/api/v1/tasks/{proposal['id']}/accept", SUPERVISOR,
                          {"due_date": later, "target_quantity": 3})
    assert accepted.status_code == 200, accepted.get_json()
    assert (accepted.get_json()["status"], accepted.get_json()["due_date"]) == ("assigned", later)
    events = tugas.outbox()[1:]
    assert [e["type"] for e in events] == ["tugas.task.assigned.v1"]
    assert events[0]["data"]["due_date"] == later and Decimal(events[0]["data"]["target_quantity"]) == 3

    other = tugas.call("POST", "/api/v1/tasks", (PEG2, "pegawai"), {"nip": PEG2, "title": "Usulan lain",
                                                                   "due_date": due, "target_quantity": 1}).get_json()
    assert tugas.call("POST", f"/api/v1/tasks/{other['id']}/reject", SUPERVISOR, {"reason": " "}).status_code == 422
    rejected = tugas.call("POST", f"/api/v1/tasks/{other['id']}/reject", SUPERVISOR, {"reason": "bukan prioritas"})
    assert rejected.status_code == 200 and rejected.get_json()["status"] == "cancelled"
    assert tugas.outbox()[-1]["type"] == "tugas.task.cancelled.v1"


def test_a_proposal_need_not_repeat_the_callers_nip(tugas):
    """Issue 19 item 9: what the token implies is optional in the body."""
    due = (today_wib() + timedelta(days=5)).isoformat()
    resp = tugas.call("POST", "/api/v1/tasks", ASSIGNEE, {"title": "Usulan tanpa NIP", "due_date": due,
                                                         "target_quantity": 1})
    assert resp.status_code == 201, resp.get_json()
    assert (resp.get_json()["nip"], resp.get_json()["status"]) == (PEG1, "proposed")


def test_proposals_are_never_overdue(tugas):
    actor = service.Actor(nip=PEG1, role="pegawai", agency=AGENCY)
    with tugas.runtime.session() as session, session.begin():
        service.assign_task(session, tugas.runtime.outbox, actor, assignee_nip=PEG1, title="Usulan",
                            due_date=date(2026, 1, 5), target_quantity=Decimal(1), today=date(2026, 1, 1))
    with tugas.runtime.session() as session, session.begin():
        assert service.flag_overdue(session, tugas.runtime.outbox, today=date(2026, 2, 1)) == 0


def test_the_task_category_is_an_enumeration_in_the_api_and_its_document(tugas):
    """Issue 19 item 6: "pelayanan" (what suggests public-service training) is one of a documented
    list, not a free text that a typo silently leaves out."""
    resp = tugas.call("POST", "/api/v1/tasks", SUPERVISOR, {"nip": PEG1, "title": "Loket", "due_date": "2030-01-31",
                                                          "target_quantity": 1, "category": "service"})
    assert resp.status_code == 422 and "category" in str(resp.get_json())
    assert tugas.outbox() == []
    spec = tugas.client.get("/openapi.json").get_json()
    prop = spec["components"]["schemas"]["TaskIn"]["properties"]["category"]
    assert prop["enum"][:2] == ["pelayanan", "administrasi"] and "lainnya" in prop["enum"]
    assert "public service" in prop["description"]
    assert tugas.assign(category="teknis")["category"] == "teknis"
