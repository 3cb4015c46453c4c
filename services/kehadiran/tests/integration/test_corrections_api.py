"""Issue 19 item 1, the other half, through the API on SQLite and PostgreSQL: a forgotten punch on
a past day is asked for (lupa absen) by the ASN and approved by their supervisor or an admin of
the agency; the approval becomes punches marked as corrections, and the day record, the recap
(JSON, CSV, XLSX) say so. Nobody else decides, nobody decides twice, bad requests change nothing."""
import io
import json
import uuid
from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import func, select

from kehadiran.adapters.corrections_orm import CorrectionRequest
from kehadiran.adapters.orm import DaySummaryRow, PunchRow
from kehadiran.entrypoints.app import create_app
from kehadiran.entrypoints.runtime import settle_days
from kehadiran.entrypoints.migrate import main as migrate
from kehadiran.service_layer.roster import apply_roster_event
from kinerja.auth import issue_token
from kinerja.config import DEV_JWT_SECRET
from kinerja.events import make_event
from kinerja.events.pegawai import EMPLOYEE_UPSERTED
from kinerja.webapp import runtime_of

pytestmark = pytest.mark.integration
AGENCY = "disdik"
BOSS, CLERK, PEER, OTHER_BOSS, ADMIN = ("197001012000011001", "199001012015011003", "199101012016011004",
                                        "197501012001011005", "198001012005011009")
WIB = timezone(timedelta(hours=7))


def bearer(role, nip=None, agency=AGENCY):
    return {"Authorization": "Bearer " + issue_token(DEV_JWT_SECRET, role=role, agency=agency, nip=nip)}


ME, BOSS_T, PEER_T = bearer("pegawai", CLERK), bearer("atasan", BOSS), bearer("pegawai", PEER)


def recent_workdays(n):
    """The n most recent Monday–Thursday dates before today (WIB), newest first."""
    day, out = datetime.now(WIB).date() - timedelta(days=1), []
    while len(out) < n:
        if day.weekday() <= 3:
            out.append(day)
        day -= timedelta(days=1)
    return out


@pytest.fixture
def app(database_url):
    migrate(database_url)
    app = create_app({"database_url": database_url, "kafka_bootstrap": "127.0.0.1:1"})
    rt = runtime_of(app)
    for nip, atasan in ((BOSS, None), (CLERK, BOSS), (PEER, BOSS), (OTHER_BOSS, None), (ADMIN, None)):
        ev = make_event(EMPLOYEE_UPSERTED, subject=nip, agency=AGENCY, source="test",
                        time=datetime.now(timezone.utc) - timedelta(days=60),
                        data={"nip": nip, "nama": f"N{nip[-2:]}", "agency": AGENCY, "unit": "Sekretariat",
                              "atasan_nip": atasan})
        with rt.session() as s, s.begin():
            apply_roster_event(s, ev, agency_tz="Asia/Jakarta")
    yield app
    rt.dispose()


def outbox(app):
    rt = runtime_of(app)
    settle_days(rt)  # what the day worker does as markers commit
    with rt.engine.connect() as c:
        return [json.loads(v) for v in c.execute(select(rt.outbox_table.c.value).order_by(rt.outbox_table.c.id)).scalars()]


def counts(app):
    rt = runtime_of(app)
    settle_days(rt)  # what the day worker does as markers commit
    with rt.engine.connect() as c:
        return tuple(c.execute(select(func.count()).select_from(t)).scalar_one()
                     for t in (CorrectionRequest.__table__, PunchRow.__table__, rt.outbox_table))


def ask(client, day, *times, reason="lupa absen, HP tertinggal", headers=ME, **extra):
    return client.post("/api/v1/corrections", headers=headers, json={
        "date": str(day), "reason": reason,
        "punches": [{"time": f"{day}T{t}:00+07:00", "status": s} for t, s in times], **extra})


def test_an_approved_correction_becomes_marked_punches_in_the_day_and_the_recap(app):
    import openpyxl

    client = app.test_client()
    day = recent_workdays(1)[0]
    admin = bearer("admin", ADMIN)
    assert client.post("/api/v1/days/close", headers=admin, json={"start_date": str(day), "end_date": str(day)}).status_code == 200
    with runtime_of(app).session() as s:
        assert [d["code"] for d in s.get(DaySummaryRow, (CLERK, day)).payload["deductions"]] == ["TK"]

    r = ask(client, day, ("07:25", "in"), ("16:05", "out"))
    assert r.status_code == 201, r.json
    req = r.json
    assert req["status"] == "pending" and req["nip"] == CLERK and req["date"] == str(day)
    # the supervisor sees it waiting; the ASN sees their own
    waiting = client.get("/api/v1/corrections", headers=BOSS_T, query_string={"status": "pending"}).json
    assert [w["id"] for w in waiting] == [req["id"]]
    assert client.get(f"/api/v1/corrections/{req['id']}", headers=ME).json["reason"] == "lupa absen, HP tertinggal"

    r = client.post(f"/api/v1/corrections/{req['id']}/approve", headers=BOSS_T, json={"note": "benar, rapat pagi"})
    assert r.status_code == 200, r.json
    assert r.json["status"] == "approved" and r.json["decided_by"] == BOSS and len(r.json["punch_ids"]) == 2

    events = outbox(app)
    punches = [e["data"] for e in events if e["type"] == "kehadiran.punch.recorded.v1"]
    assert [p["correction_id"] for p in punches] == [req["id"], req["id"]]
    summary = [e["data"] for e in events if e["type"] == "kehadiran.day.summarized.v1" and e["subject"] == CLERK][-1]
    assert summary["date"] == str(day) and summary["deductions"] == []
    assert summary["corrected"] is True and summary["correction_ids"] == [req["id"]]
    assert summary["arrival"].startswith(f"{day}T07:25")

    days = client.get("/api/v1/days", headers=ME, query_string={"nip": CLERK, "period": day.strftime("%Y-%m")}).json
    [mine] = [d for d in days if d["date"] == str(day)]
    assert mine["corrected"] is True and mine["correction_ids"] == [req["id"]] and mine["deductions"] == []

    period = day.strftime("%Y-%m")
    recap = client.get("/api/v1/reports/recap", headers=admin, query_string={"period": period}).json
    row = next(x for x in recap["rows"] if x["nip"] == CLERK)
    assert row["days"][str(day.day)] == "H/K" and row["corrected_days"] == [day.day]
    other = next(x for x in recap["rows"] if x["nip"] == PEER)
    assert other["days"][str(day.day)] == "TK" and other["corrected_days"] == []
    csv_text = client.get("/api/v1/reports/recap", headers=admin, query_string={"period": period, "format": "csv"}).data.decode()
    header, *lines = csv_text.strip().split("\n")
    col = header.split(",").index(str(day.day))
    assert next(line for line in lines if line.startswith(CLERK)).split(",")[col] == "H/K"
    xlsx = client.get("/api/v1/reports/recap", headers=admin, query_string={"period": period, "format": "xlsx"})
    sheet = openpyxl.load_workbook(io.BytesIO(xlsx.data)).active
    assert "/K koreksi lupa absen" in sheet.cell(2, 1).value
    clerk_row = next(r for r in range(4, sheet.max_row + 1) if sheet.cell(r, 1).value == CLERK)
    assert sheet.cell(clerk_row, col + 1).value == "H/K"

    # decided once
    again = client.post(f"/api/v1/corrections/{req['id']}/reject", headers=BOSS_T, json={"note": "tidak jadi"})
    assert again.status_code == 409 and "sudah disetujui" in again.json["message"]


def test_only_the_supervisor_or_an_admin_decides_and_never_their_own(app):
    client = app.test_client()
    day = recent_workdays(2)[1]
    req = ask(client, day, ("07:20", "in")).json
    tries = {
        "the ASN themselves": (ME, 403),
        "a peer": (PEER_T, 403),
        "another supervisor": (bearer("atasan", OTHER_BOSS), 403),
        "another agency's admin": (bearer("admin", "198101012006011010", agency="dinkes"), 404),
        "an operator": (bearer("operator", agency="*"), 403),
    }
    for who, (headers, status) in tries.items():
        r = client.post(f"/api/v1/corrections/{req['id']}/approve", headers=headers, json={})
        assert r.status_code == status, (who, r.status_code, r.json)
    assert client.get(f"/api/v1/corrections/{req['id']}", headers=PEER_T).status_code == 403
    assert client.get("/api/v1/corrections", headers=PEER_T, query_string={"nip": CLERK}).status_code == 403
    assert client.get("/api/v1/corrections", headers=PEER_T).json == []  # a peer's own list is empty
    # a supervisor's own request waits for someone else
    own = ask(client, day, ("07:20", "in"), headers=BOSS_T).json
    assert client.post(f"/api/v1/corrections/{own['id']}/approve", headers=BOSS_T, json={}).status_code == 403
    # a rejection says why, and makes no punch
    assert client.post(f"/api/v1/corrections/{req['id']}/reject", headers=BOSS_T, json={}).status_code == 422
    r = client.post(f"/api/v1/corrections/{req['id']}/reject", headers=BOSS_T, json={"note": "tidak ada di kantor"})
    assert r.status_code == 200 and r.json["status"] == "rejected" and r.json["punch_ids"] == []
    # an admin of the agency approves the supervisor's
    r = client.post(f"/api/v1/corrections/{own['id']}/approve", headers=bearer("admin", ADMIN), json={})
    assert r.status_code == 200 and r.json["status"] == "approved"
    with runtime_of(app).session() as s:
        assert s.execute(select(PunchRow.nip, PunchRow.correction_id)).all() == [(BOSS, own["id"])]


def test_a_bad_request_is_refused_with_the_reason_and_changes_nothing(app):
    client = app.test_client()
    day = recent_workdays(1)[0]
    today = datetime.now(WIB).date()
    before = counts(app)
    cases = [
        (ask(client, day, ("07:25", "in"), headers=PEER_T, nip=CLERK), 403, "ASN sendiri"),
        (ask(client, today + timedelta(days=1), ("07:25", "in")), 422, "belum tiba"),
        (ask(client, today - timedelta(days=45), ("07:25", "in")), 422, "31 hari"),
        (client.post("/api/v1/corrections", headers=ME, json={"date": str(day), "reason": "lupa absen", "punches": [
            # the day before: the day after may be today, its 07:25 still ahead (00:00-07:25 WIB), and
            # a punch in the future is refused for that first
            {"time": f"{day - timedelta(days=1)}T07:25:00+07:00"}]}), 422, "bukan bagian dari hari kerja"),
        (ask(client, day, ("07:25", "in"), reason="x"), 422, "reason"),
        (ask(client, day), 422, "punches"),
        (client.post("/api/v1/corrections", headers=ME, json={"date": "9999-01-01", "reason": "lupa absen",
                                                               "punches": [{"time": "9999-01-01T07:25:00+14:00"}]}),
         422, "date"),
        (client.post("/api/v1/corrections", json={}, headers={"Authorization": "Bearer " + issue_token(
            DEV_JWT_SECRET, role="device", agency=AGENCY, device_sn="LMS0001")}), 403, "Peran"),
        (client.get("/api/v1/corrections/" + "x" * 5000, headers=ME), 404, "tidak ditemukan"),
        (client.get(f"/api/v1/corrections/{uuid.uuid4()}", headers=ME), 404, "Tidak ada koreksi"),
    ]
    for response, status, words in cases:
        text = response.get_data(as_text=True)
        assert response.status_code == status and words in text, (status, words, response.status_code, text[:400])
    assert counts(app) == before
    assert ask(client, day, ("07:25", "in")).status_code == 201
    waiting = ask(client, day, ("07:26", "in"))
    assert waiting.status_code == 409 and "menunggu keputusan" in waiting.json["message"]


def test_the_api_documents_the_corrections(app):
    spec = app.test_client().get("/openapi.json").json
    for path in ("/api/v1/corrections", "/api/v1/corrections/{request_id}",
                 "/api/v1/corrections/{request_id}/approve", "/api/v1/corrections/{request_id}/reject"):
        assert path in spec["paths"], path
        for method in ("get", "post"):
            if method in spec["paths"][path]:
                assert spec["paths"][path][method]["security"] == [{"bearer": []}]
    body = spec["components"]["schemas"]["CorrectionIn"]["properties"]
    assert body["reason"]["maxLength"] == 500 and body["punches"]["maxItems"] == 4
