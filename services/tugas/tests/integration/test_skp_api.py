"""SKP through the API on SQLite and PostgreSQL: cascading RHK, approval as revisions, tasks on RHK."""
from __future__ import annotations

import pytest

from .tugas_testkit import (ADMIN, ATASAN, FOREIGN, FOREIGN_ATASAN, KEPALA, OTHER_ATASAN, PEG1, PEG2,
                           today_wib)

pytestmark = pytest.mark.integration
YEAR = today_wib().year


def rhk(text, kind="main", parent=None, target=12, unit="laporan", **extra):
    return {"kind": kind, "text": text, "parent_rhk_id": parent,
            "indicators": [{"indicator": f"Jumlah {unit}", "target_quantity": target, "unit": unit,
                            "quality_target": 90, "time_target": "12 bulan"}], **extra}


def draft(t, who, rhks, year=YEAR, status=201):
    resp = t.call("POST", "/api/v1/skp", who, {"year": year, "rhk": rhks})
    assert resp.status_code == status, resp.get_json()
    return resp.get_json()


@pytest.fixture
def cascade(tugas):
    """KEPALA's and ATASAN's SKP: ATASAN's RHK supports KEPALA's."""
    kepala = draft(tugas, (KEPALA, "atasan"), [rhk("Pelayanan kesehatan meningkat", target=1, unit="dokumen")])
    atasan = draft(tugas, (ATASAN, "atasan"), [rhk("Program puskesmas terlaksana", parent=kepala["rhk"][0]["id"])])
    return kepala, atasan


def test_skp_drafted_returned_revised_approved_and_revised_again(tugas, cascade):
    _, atasan = cascade
    parent = atasan["rhk"][0]["id"]
    me = (PEG1, "pegawai")
    skp = draft(tugas, me, [rhk("Laporan bulanan tersusun", parent=parent), rhk("Pelatihan", kind="additional")])
    assert skp["status"] == "draft" and [r["kind"] for r in skp["rhk"]] == ["main", "additional"]
    assert skp["rhk"][0]["parent_rhk_id"] == parent and skp["rhk"][0]["indicators"][0]["target_quantity"] == "12.00"
    sid = skp["id"]
    assert tugas.call("POST", f"/api/v1/skp/{sid}/submit", me, {}).get_json()["status"] == "submitted"
    assert tugas.call("POST", f"/api/v1/skp/{sid}/return", (ATASAN, "atasan"), {"note": " "}).status_code == 422
    returned = tugas.call("POST", f"/api/v1/skp/{sid}/return", (ATASAN, "atasan"), {"note": "tambah target"})
    assert returned.status_code == 200 and returned.get_json()["status"] == "returned"

    kept = dict(skp["rhk"][0], indicators=[dict(skp["rhk"][0]["indicators"][0], target_quantity=24)])
    edited = tugas.call("PUT", f"/api/v1/skp/{sid}/rhk", me, {"rhk": [kept]})
    assert edited.status_code == 200, edited.get_json()
    assert [r["id"] for r in edited.get_json()["rhk"]] == [kept["id"]]
    assert tugas.call("POST", f"/api/v1/skp/{sid}/submit", me, {}).status_code == 200
    approved = tugas.call("POST", f"/api/v1/skp/{sid}/approve", (ATASAN, "atasan"), {"note": "setuju"}).get_json()
    assert (approved["status"], approved["revision"]) == ("approved", 1)
    assert approved["revisions"][0]["rhk"][0]["indicators"][0]["target_quantity"] == "24.00"

    # a change after approval drafts revision 2; revision 1 stays on record
    changed = dict(kept, text="Laporan bulanan dan triwulan tersusun")
    resp = tugas.call("PUT", f"/api/v1/skp/{sid}/rhk", me, {"rhk": [changed, rhk("Baru", kind="additional")]})
    assert resp.get_json()["status"] == "draft" and resp.get_json()["revision"] == 1
    tugas.call("POST", f"/api/v1/skp/{sid}/submit", me, {})
    second = tugas.call("POST", f"/api/v1/skp/{sid}/approve", (ATASAN, "atasan"), {}).get_json()
    assert second["revision"] == 2 and len(second["revisions"]) == 2
    assert second["revisions"][0]["rhk"][0]["text"] == "Laporan bulanan tersusun"
    assert second["revisions"][1]["rhk"][0]["text"] == "Laporan bulanan dan triwulan tersusun"

    events = [e for e in tugas.outbox() if e["type"] == "tugas.skp.approved.v1"]
    assert [e["data"]["revision"] for e in events] == [1, 2]
    first = dict(events[0]["data"])
    assert first.pop("approved_at")  # when it was approved, with the plan approved (additive fields)
    assert first == {"skp_id": sid, "nip": PEG1, "atasan_nip": ATASAN, "year": YEAR, "revision": 1,
                     "rhk": approved["revisions"][0]["rhk"]}
    assert events[1]["data"]["rhk"][0]["text"] == "Laporan bulanan dan triwulan tersusun"
    assert [r["kind"] for r in events[1]["data"]["rhk"]] == ["main", "additional"]
    assert events[0]["key"] == PEG1 and events[0]["topic"] == "tugas.v1"


def test_tasks_hang_off_the_assignees_rhk(tugas, cascade):
    skp = draft(tugas, (PEG1, "pegawai"), [rhk("Laporan", parent=cascade[1]["rhk"][0]["id"])])
    rhk_id = skp["rhk"][0]["id"]
    task = tugas.assign(rhk_id=rhk_id, due=today_wib())  # due in the SKP's year
    assert task["rhk_id"] == rhk_id
    assert tugas.call("POST", "/api/v1/tasks", (ATASAN, "atasan"), {"nip": PEG2, "title": "x", "rhk_id": rhk_id,
                      "due_date": "2099-01-01", "target_quantity": 1}).status_code == 422
    # an RHK with tasks, or with subordinates' RHK hanging off it, cannot be removed
    resp = tugas.call("PUT", f"/api/v1/skp/{skp['id']}/rhk", (PEG1, "pegawai"), {"rhk": [rhk("Ganti")]})
    assert resp.status_code == 409 and "keep it" in resp.get_json()["message"]
    resp = tugas.call("PUT", f"/api/v1/skp/{cascade[1]['id']}/rhk", (ATASAN, "atasan"), {"rhk": [rhk("Ganti")]})
    assert resp.status_code == 409
    assert tugas.call("GET", f"/api/v1/skp/{skp['id']}", (PEG1, "pegawai")).get_json()["rhk"][0]["id"] == rhk_id


@pytest.mark.parametrize("body", [
    {"rhk": []},  # no year
    {"year": "2026x", "rhk": []},
    {"year": YEAR, "rhk": [rhk("x", kind="other")]},
    {"year": YEAR, "rhk": [rhk("x", target=0)]},
    {"year": YEAR, "rhk": [dict(rhk("x"), indicators=[])]},
    {"year": YEAR, "rhk": [rhk("x", parent="not-an-rhk")]},
])
def test_bad_skp_input_is_422_and_changes_nothing(tugas, cascade, body):
    resp = tugas.call("POST", "/api/v1/skp", (PEG1, "pegawai"), body)
    assert resp.status_code == 422, resp.get_json()
    assert tugas.call("GET", f"/api/v1/skp?nip={PEG1}", (ADMIN, "admin")).get_json()["total"] == 0


def test_cascade_only_to_own_supervisor(tugas, cascade):
    kepala, _ = cascade
    # PEG1's supervisor is ATASAN, not KEPALA: linking to KEPALA's RHK is refused
    resp = tugas.call("POST", "/api/v1/skp", (PEG1, "pegawai"), {"year": YEAR, "rhk": [rhk("x", parent=kepala["rhk"][0]["id"])]})
    assert resp.status_code == 422 and "supervisor" in resp.get_json()["message"]


def test_skp_refusals_change_nothing(tugas, cascade):
    me = (PEG1, "pegawai")
    skp = draft(tugas, me, [rhk("Laporan")])
    sid = skp["id"]
    draft(tugas, me, [rhk("Lagi")], status=409)  # one SKP per year
    assert tugas.call("POST", f"/api/v1/skp/{sid}/approve", (ATASAN, "atasan"), {}).status_code == 409  # still a draft
    assert tugas.call("POST", f"/api/v1/skp/{sid}/submit", (PEG2, "pegawai"), {}).status_code == 403
    tugas.call("POST", f"/api/v1/skp/{sid}/submit", me, {})
    before = tugas.call("GET", f"/api/v1/skp/{sid}", me).get_json()
    attempts = [
        ("POST", f"/api/v1/skp/{sid}/approve", (PEG1, "pegawai"), {}, 403),
        ("POST", f"/api/v1/skp/{sid}/approve", (ADMIN, "admin"), {}, 403),
        ("POST", f"/api/v1/skp/{sid}/approve", (OTHER_ATASAN, "atasan"), {}, 403),
        ("POST", f"/api/v1/skp/{sid}/approve", (KEPALA, "atasan"), {}, 403),
        ("POST", f"/api/v1/skp/{sid}/return", (OTHER_ATASAN, "atasan"), {"note": "x"}, 403),
        ("POST", f"/api/v1/skp/{sid}/approve", (FOREIGN_ATASAN, "atasan", FOREIGN), {}, 404),
        ("PUT", f"/api/v1/skp/{sid}/rhk", (PEG1, "pegawai"), {"rhk": [rhk("x")]}, 409),  # under review
        ("PUT", f"/api/v1/skp/{sid}/rhk", (ATASAN, "atasan"), {"rhk": [rhk("x")]}, 403),
        ("GET", f"/api/v1/skp/{sid}", (PEG2, "pegawai"), None, 403),
        ("GET", f"/api/v1/skp/{sid}", (FOREIGN_ATASAN, "admin", FOREIGN), None, 404),
        ("GET", "/api/v1/skp/nope", me, None, 404),
        ("POST", f"/api/v1/skp/{sid}/approve", (ATASAN, "atasan"), {"version": before["version"] - 1}, 409),
    ]
    for method, path, who, body, status in attempts:
        resp = tugas.call(method, path, who, body)
        assert resp.status_code == status, (method, path, who, resp.get_json())
    assert tugas.call("GET", f"/api/v1/skp/{sid}", me).get_json() == before
    assert not [e for e in tugas.outbox() if e["type"] == "tugas.skp.approved.v1"]
    # edit with an id that is not this SKP's
    tugas.call("POST", f"/api/v1/skp/{sid}/return", (ATASAN, "atasan"), {"note": "ubah"})
    resp = tugas.call("PUT", f"/api/v1/skp/{sid}/rhk", me, {"rhk": [dict(rhk("x"), id=cascade[1]["rhk"][0]["id"])]})
    assert resp.status_code == 422 and "unknown RHK" in resp.get_json()["message"]


def test_skp_visibility(tugas, cascade):
    kepala, atasan = cascade
    mine = draft(tugas, (PEG1, "pegawai"), [rhk("Laporan")])
    # a subordinate reads the supervisor's SKP to cascade from it; not the boss's boss's
    assert tugas.call("GET", f"/api/v1/skp/{atasan['id']}", (PEG1, "pegawai")).status_code == 200
    assert tugas.call("GET", f"/api/v1/skp/{kepala['id']}", (PEG1, "pegawai")).status_code == 403
    listed = tugas.call("GET", "/api/v1/skp", (ATASAN, "atasan")).get_json()
    assert sorted(i["id"] for i in listed["items"]) == sorted([atasan["id"], mine["id"]])
    assert tugas.call("GET", f"/api/v1/skp?year={YEAR}", (ADMIN, "admin")).get_json()["total"] == 3
    assert tugas.call("GET", "/api/v1/skp", (PEG2, "pegawai")).get_json()["total"] == 0
    assert tugas.call("GET", "/api/v1/skp", (FOREIGN_ATASAN, "admin", FOREIGN)).get_json()["total"] == 0


def test_the_head_of_the_agency_acts_as_supervisor_and_asn_with_one_admin_token(tugas, cascade):
    """Issue 19 item 7: roles compose. KEPALA holds an admin token and is ATASAN's supervisor on the
    roster: they approve ATASAN's SKP, assign ATASAN a task and approve it, and draft their own SKP,
    all with that one token; an admin who supervises nobody still approves nothing."""
    kepala_admin = (KEPALA, "admin")
    _, atasan = cascade
    sid = atasan["id"]
    assert tugas.call("POST", f"/api/v1/skp/{sid}/submit", (ATASAN, "atasan"), {}).status_code == 200
    assert tugas.call("POST", f"/api/v1/skp/{sid}/approve", (ADMIN, "admin"), {}).status_code == 403
    approved = tugas.call("POST", f"/api/v1/skp/{sid}/approve", kepala_admin, {"note": "setuju"})
    assert approved.status_code == 200, approved.get_json()
    assert approved.get_json()["revisions"][0]["approved_by"] == KEPALA
    task = tugas.assign(nip=ATASAN, who=kepala_admin)
    assert task["atasan_nip"] == KEPALA
    assert tugas.call("POST", f"/api/v1/tasks/{task['id']}/start", (ATASAN, "atasan"), {}).status_code == 200
    assert tugas.call("POST", f"/api/v1/tasks/{task['id']}/submit", (ATASAN, "atasan"), {"note": "ok"}).status_code == 200
    done = tugas.call("POST", f"/api/v1/tasks/{task['id']}/approve", kepala_admin, {"realised_quantity": 4, "quality": 90})
    assert done.status_code == 200 and done.get_json()["status"] == "approved"
    # an admin's own affairs as an ASN: KEPALA's SKP already exists (drafted with an atasan token)
    kepala_skp = tugas.call("GET", "/api/v1/skp?nip=" + KEPALA, kepala_admin).get_json()["items"][0]
    assert tugas.call("POST", f"/api/v1/skp/{kepala_skp['id']}/submit", kepala_admin, {}).status_code == 200
    assert tugas.call("POST", "/api/v1/skp", (ADMIN, "admin"), {"year": YEAR, "rhk": [rhk("Administrasi")]}).status_code == 201
