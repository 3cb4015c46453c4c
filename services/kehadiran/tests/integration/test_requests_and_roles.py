"""Issue 19 items 7 and 8 in kehadiran, through the API on SQLite and PostgreSQL: an ASN asks for
leave and their supervisor approves it (the days are excused), every request that waits publishes
the event notifikasi tells the supervisor from, and decisions the one it tells the ASN from; a
supervisor reads their own unit's recap, an admin who supervises decides as the supervisor."""
import json
from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import func, select

from kehadiran.adapters.calendar_orm import Leave
from kehadiran.adapters.leave_requests_orm import LeaveRequest
from kehadiran.entrypoints.app import create_app
from kehadiran.entrypoints.migrate import main as migrate
from kehadiran.service_layer.roster import apply_roster_event
from kinerja.auth import issue_token
from kinerja.config import DEV_JWT_SECRET
from kinerja.events import make_event
from kinerja.events.pegawai import EMPLOYEE_UPSERTED
from kinerja.webapp import runtime_of

pytestmark = pytest.mark.integration
AGENCY = "disdik"
KEPALA, BOSS, CLERK, PEER, OTHER_BOSS, OUTSIDER = (
    "197001012000011001", "197101012000011002", "199001012015011003", "199101012016011004",
    "197501012001011005", "199201012017011006")
WIB = timezone(timedelta(hours=7))
ROSTER = ((KEPALA, None, "Pimpinan"), (BOSS, KEPALA, "Sekretariat"), (CLERK, BOSS, "Sekretariat"),
          (PEER, BOSS, "Sekretariat"), (OTHER_BOSS, KEPALA, "Bidang SD"), (OUTSIDER, OTHER_BOSS, "Bidang SD"))


def bearer(role, nip=None, agency=AGENCY):
    return {"Authorization": "Bearer " + issue_token(DEV_JWT_SECRET, role=role, agency=agency, nip=nip)}


ME, BOSS_T = bearer("pegawai", CLERK), bearer("atasan", BOSS)


@pytest.fixture
def app(database_url):
    migrate(database_url)
    app = create_app({"database_url": database_url, "kafka_bootstrap": "127.0.0.1:1"})
    rt = runtime_of(app)
    for nip, atasan, unit in ROSTER:
        ev = make_event(EMPLOYEE_UPSERTED, subject=nip, agency=AGENCY, source="test",
                        time=datetime.now(timezone.utc) - timedelta(days=60),
                        data={"nip": nip, "nama": f"N{nip[-2:]}", "agency": AGENCY, "unit": unit, "atasan_nip": atasan})
        with rt.session() as s, s.begin():
            apply_roster_event(s, ev, agency_tz="Asia/Jakarta")
    yield app
    rt.dispose()


def events(app, *types):
    rt = runtime_of(app)
    with rt.engine.connect() as c:
        out = [json.loads(v) for v in c.execute(select(rt.outbox_table.c.value).order_by(rt.outbox_table.c.id)).scalars()]
    return [e for e in out if not types or e["type"] in types]


def next_weekday(days_ahead=7):
    day = datetime.now(WIB).date() + timedelta(days=days_ahead)
    while day.weekday() >= 5:
        day += timedelta(days=1)
    return day


def test_a_pegawai_asks_for_leave_and_the_supervisor_approves_it(app):
    client = app.test_client()
    start = next_weekday()
    body = {"kind": "cuti", "start_date": str(start), "end_date": str(start + timedelta(days=1)),
            "reason": "acara keluarga"}
    r = client.post("/api/v1/leave-requests", headers=ME, json=body)
    assert r.status_code == 201, r.json
    req = r.json
    assert (req["nip"], req["status"], req["kind"]) == (CLERK, "pending", "cuti")  # the NIP came from the token
    [asked] = events(app, "kehadiran.leave.requested.v1")
    assert asked["subject"] == CLERK and asked["data"]["atasan_nip"] == BOSS and asked["data"]["request_id"] == req["id"]
    # the same days again while it waits: 409; nobody else asks for the ASN
    assert client.post("/api/v1/leave-requests", headers=ME, json=body).status_code == 409
    assert client.post("/api/v1/leave-requests", headers=BOSS_T, json={**body, "nip": CLERK}).status_code == 403
    # what waits, as the supervisor sees it; a colleague sees nothing of it
    waiting = client.get("/api/v1/leave-requests?status=pending", headers=BOSS_T).json
    assert [w["id"] for w in waiting] == [req["id"]]
    assert client.get(f"/api/v1/leave-requests/{req['id']}", headers=bearer("pegawai", PEER)).status_code == 403
    for who in (ME, bearer("atasan", OTHER_BOSS), bearer("pegawai", PEER)):
        assert client.post(f"/api/v1/leave-requests/{req['id']}/approve", headers=who, json={}).status_code == 403
    ok = client.post(f"/api/v1/leave-requests/{req['id']}/approve", headers=BOSS_T, json={"note": "selamat"})
    assert ok.status_code == 200 and ok.json["status"] == "approved" and ok.json["decided_by"] == BOSS
    assert client.post(f"/api/v1/leave-requests/{req['id']}/reject", headers=BOSS_T, json={"note": "x"}).status_code == 409
    with runtime_of(app).session() as s:
        days = s.execute(select(Leave.day, Leave.kind).where(Leave.nip == CLERK).order_by(Leave.day)).all()
    assert [(d, k) for d, k in days] == [(start, "cuti"), (start + timedelta(days=1), "cuti")]
    listed = client.get(f"/api/v1/leave?nip={CLERK}&period={start:%Y-%m}", headers=ME).json
    assert str(start) in [x["date"] for x in listed]
    [decided] = events(app, "kehadiran.leave.decided.v1")
    assert (decided["data"]["status"], decided["data"]["decided_by"], decided["data"]["note"]) == ("approved", BOSS, "selamat")


def test_a_rejected_or_withdrawn_request_excuses_nothing_and_bad_ones_change_nothing(app):
    client = app.test_client()
    start = next_weekday(10)
    one = client.post("/api/v1/leave-requests", headers=ME, json={
        "kind": "sakit", "start_date": str(start), "end_date": str(start), "reason": "demam tinggi"}).json
    assert client.post(f"/api/v1/leave-requests/{one['id']}/reject", headers=BOSS_T, json={}).status_code == 422
    no = client.post(f"/api/v1/leave-requests/{one['id']}/reject", headers=BOSS_T, json={"note": "lampirkan surat dokter"})
    assert no.status_code == 200 and no.json["status"] == "rejected"
    two = client.post("/api/v1/leave-requests", headers=ME, json={
        "kind": "dinas_luar", "start_date": str(start), "end_date": str(start), "reason": "rapat di Bandar Lampung"}).json
    assert client.post(f"/api/v1/leave-requests/{two['id']}/withdraw", headers=BOSS_T).status_code == 403
    back = client.post(f"/api/v1/leave-requests/{two['id']}/withdraw", headers=ME)
    assert back.status_code == 200 and back.json["status"] == "cancelled"
    assert [e["data"]["status"] for e in events(app, "kehadiran.leave.decided.v1")] == ["rejected", "cancelled"]
    before = len(events(app))
    today = datetime.now(WIB).date()
    for bad in ({"kind": "libur", "start_date": str(start), "end_date": str(start), "reason": "x" * 5},
                {"kind": "cuti", "start_date": str(start), "end_date": str(start - timedelta(days=1)), "reason": "mundur"},
                {"kind": "cuti", "start_date": str(today - timedelta(days=60)), "end_date": str(today), "reason": "lama sekali"},
                {"kind": "cuti", "start_date": str(start), "end_date": str(start + timedelta(days=400)), "reason": "panjang"}):
        r = client.post("/api/v1/leave-requests", headers=ME, json=bad)
        assert r.status_code in (400, 422) and r.json["message"], (bad, r.json)
    assert len(events(app)) == before
    with runtime_of(app).session() as s:
        assert s.execute(select(func.count()).select_from(Leave)).scalar_one() == 0
        assert s.execute(select(func.count()).select_from(LeaveRequest)).scalar_one() == 2


def test_a_correction_asked_and_decided_publishes_what_notifikasi_tells(app):
    client = app.test_client()
    day = datetime.now(WIB).date() - timedelta(days=1)
    while day.weekday() >= 4:  # Monday–Thursday: 07:30–16:00
        day -= timedelta(days=1)
    r = client.post("/api/v1/corrections", headers=ME, json={
        "date": str(day), "reason": "lupa absen, HP tertinggal", "punches": [{"time": f"{day}T07:25:00+07:00"}]})
    assert r.status_code == 201, r.json
    [asked] = events(app, "kehadiran.correction.requested.v1")
    assert (asked["data"]["request_id"], asked["data"]["atasan_nip"], asked["data"]["date"]) == (r.json["id"], BOSS, str(day))
    assert client.post(f"/api/v1/corrections/{r.json['id']}/approve", headers=BOSS_T, json={}).status_code == 200
    [decided] = events(app, "kehadiran.correction.decided.v1")
    assert (decided["data"]["status"], decided["data"]["decided_by"]) == ("approved", BOSS)


def test_an_admin_who_supervises_decides_as_the_supervisor(app):
    """Roles compose: KEPALA holds an admin token and is BOSS's supervisor."""
    client = app.test_client()
    start = next_weekday()
    r = client.post("/api/v1/leave-requests", headers=BOSS_T, json={
        "kind": "cuti", "start_date": str(start), "end_date": str(start), "reason": "acara keluarga"})
    assert r.status_code == 201, r.json
    assert events(app, "kehadiran.leave.requested.v1")[-1]["data"]["atasan_nip"] == KEPALA
    waiting = client.get("/api/v1/leave-requests?status=pending", headers=bearer("admin", KEPALA)).json
    assert [w["id"] for w in waiting] == [r.json["id"]]
    ok = client.post(f"/api/v1/leave-requests/{r.json['id']}/approve", headers=bearer("admin", KEPALA), json={})
    assert ok.status_code == 200 and ok.json["decided_by"] == KEPALA


def test_a_supervisor_reads_their_own_units_recap_only(app):
    client = app.test_client()
    period = f"{datetime.now(WIB):%Y-%m}"
    r = client.get(f"/api/v1/reports/recap?period={period}", headers=BOSS_T)
    assert r.status_code == 200, r.json
    assert r.json["unit"] == "Sekretariat" and {row["nip"] for row in r.json["rows"]} == {BOSS, CLERK, PEER}
    assert client.get(f"/api/v1/reports/recap?period={period}&unit=Sekretariat&format=csv", headers=BOSS_T).status_code == 200
    assert client.get(f"/api/v1/reports/recap?period={period}&unit=Bidang%20SD", headers=BOSS_T).status_code == 403
    other = client.get(f"/api/v1/reports/recap?period={period}", headers=bearer("atasan", OTHER_BOSS)).json
    assert {row["nip"] for row in other["rows"]} == {OTHER_BOSS, OUTSIDER}
    assert client.get(f"/api/v1/reports/recap?period={period}", headers=ME).status_code == 403
    everyone = client.get(f"/api/v1/reports/recap?period={period}", headers=bearer("admin", KEPALA)).json
    assert len(everyone["rows"]) == len(ROSTER)
