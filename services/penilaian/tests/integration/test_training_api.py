"""Training records, JP progress and suggestions through the API (SQLite and PostgreSQL)."""
from datetime import date

import pytest

from kinerja.events.tugas import TASK_APPROVED, TASK_OVERDUE
from kinerja.webapp import runtime_of
from penilaian.entrypoints.app import create_app
from kinerja_testkit.penilaian import AGENCY, FOREIGN, KEPALA, PEG1, PEG2, at, day_event, task_event

pytestmark = pytest.mark.integration


@pytest.fixture
def call(penilaian):
    penilaian.seed_roster()
    due = date(2026, 5, 4)
    penilaian.apply(
        *[day_event(PEG1, date(2026, 3, d), ("TL1", "0.5")) for d in (2, 3, 4)],
        task_event(TASK_APPROVED, PEG1, "loket", "approved", due, at=at(due), realised="10", quality=60,
                   submitted_at=at(due), approved_at=at(due), category="pelayanan"),
    )
    app = create_app({"database_url": penilaian.url})
    c = app.test_client()

    def _call(method, path, nip, role, body=None, agency=AGENCY):
        return c.open(path, method=method, json=body,
                      headers={"Authorization": f"Bearer {penilaian.token(nip, role, agency)}"})

    _call.penilaian = penilaian
    yield _call
    runtime_of(app).dispose()


def test_training_counts_towards_20_jp_and_weak_components_suggest_more(call):
    r = call("POST", f"/api/v1/training/{PEG1}", PEG1, "pegawai",
             {"title": "Pelatihan Excel", "jp": 8, "date": "2026-04-10", "provider": "BKPSDM"})
    assert r.status_code == 201, r.json
    r = call("POST", f"/api/v1/training/{PEG1}", KEPALA, "admin",
             {"title": "Latsar", "jp": 6, "date": "2026-06-01"})
    assert r.status_code == 201, r.json
    call("POST", f"/api/v1/training/{PEG1}", PEG1, "pegawai", {"title": "Lama", "jp": 30, "date": "2025-06-01"})
    body = call("GET", f"/api/v1/training/{PEG1}?year=2026", PEG1, "pegawai").json
    assert [(t["title"], t["jp"], t["date"]) for t in body["records"]] == [
        ("Pelatihan Excel", 8, "2026-04-10"), ("Latsar", 6, "2026-06-01")]
    assert (body["jp_total"], body["jp_remaining"], body["met"]) == (14, 6, False)
    assert [s["topic"] for s in body["suggestions"]] == ["Manajemen waktu", "Pelayanan publik"]


def test_a_below_rating_a_dialog_follow_up_and_late_tasks_suggest_training(call):
    """Issue 19 item 6, through the API: the supervisor's "below", the dialog's follow-up, a task
    handed in five days late (timeliness 50) and one overdue without approval."""
    from kinerja_testkit.penilaian import ATASAN

    levels = {v: "meets" for v in ("berorientasi_pelayanan", "akuntabel", "kompeten", "harmonis", "loyal",
                                   "adaptif", "kolaboratif")}
    r = call("PUT", f"/api/v1/ratings/{PEG1}?period=2026-05", ATASAN, "atasan",
             {"levels": {**levels, "kompeten": "below"}})
    assert r.status_code == 200, r.json
    r = call("POST", f"/api/v1/dialogs/{PEG1}?period=2026-05", ATASAN, "atasan",
             {"date": "2026-05-20", "notes": "Laporan sering terlambat", "follow_up": "Ikut bimtek e-Kinerja",
              "values": ["adaptif"]})
    assert r.status_code == 201, r.json
    body = call("GET", f"/api/v1/training/{PEG1}?year=2026", PEG1, "pegawai").json
    topics = [s["topic"] for s in body["suggestions"]]
    assert "Perencanaan dan manajemen pekerjaan" not in topics  # every task so far on time
    assert topics == ["Manajemen waktu", "Pelayanan publik", "Pengembangan kompetensi teknis jabatan",
                      "Tindak lanjut dialog kinerja: Ikut bimtek e-Kinerja", "Manajemen perubahan dan inovasi"]
    assert body["suggestions"][2]["reason"] == "nilai Kompeten di bawah ekspektasi menurut atasan (2026-05)"
    due = date(2026, 6, 1)
    late = date(2026, 6, 6)
    call.penilaian.apply(
        task_event(TASK_APPROVED, PEG1, "telat", "approved", due, at=at(late), realised="10", quality=90,
                   submitted_at=at(late), approved_at=at(late)),
        task_event(TASK_OVERDUE, PEG1, "lupa", "assigned", date(2026, 6, 10), at=at(date(2026, 6, 11))))
    body = call("GET", f"/api/v1/training/{PEG1}?year=2026", PEG1, "pegawai").json
    [slow] = [s for s in body["suggestions"] if s["topic"] == "Perencanaan dan manajemen pekerjaan"]
    assert slow["reason"] == "2 tugas dengan ketepatan waktu di bawah 70"
    # the supervisor reads the same
    assert call("GET", f"/api/v1/training/{PEG1}?year=2026", ATASAN, "atasan").json["suggestions"] == body["suggestions"]


@pytest.mark.parametrize("nip,role,agency,expected", [
    (PEG2, "pegawai", AGENCY, 403), (KEPALA, "admin", FOREIGN, 403), (None, "operator", AGENCY, 201)])
def test_who_records_training(call, nip, role, agency, expected):
    r = call("POST", f"/api/v1/training/{PEG1}", nip, role, {"title": "X", "jp": 2, "date": "2026-02-02"},
             agency=agency)
    assert r.status_code == expected, r.json


@pytest.mark.parametrize("body", [{"title": "X", "jp": 0, "date": "2026-02-02"}, {"title": "X", "jp": 2},
                                  {"title": "", "jp": 2, "date": "2026-02-02"}])
def test_bad_training_is_400(call, body):
    assert call("POST", f"/api/v1/training/{PEG1}", PEG1, "pegawai", body).status_code == 400
    assert call("GET", f"/api/v1/training/{PEG1}?year=2026", PEG1, "pegawai").json["records"] == []
