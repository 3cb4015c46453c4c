"""Working time through the API on SQLite and PostgreSQL: night shifts across midnight, Ramadan
hours, leave by the supervisor (and refused to others), geofenced phone check-in, PP 94/2021
alerts, and bad input refused with the reason."""
import json
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select

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
AGENCY = "rsud"
BOSS, NURSE, CLERK = "197001012000011001", "198503122010012002", "199001012015011003"
OTHER_BOSS = "197501012001011004"
PINS = {BOSS: "1", NURSE: "2", CLERK: "3", OTHER_BOSS: "4"}


@pytest.fixture
def app(database_url):
    migrate(database_url)
    app = create_app({"database_url": database_url, "kafka_bootstrap": "127.0.0.1:1", "max_body_bytes": 64 * 1024})
    rt = runtime_of(app)
    for nip, unit, atasan in ((BOSS, "IGD", None), (NURSE, "IGD", BOSS), (CLERK, "Tata Usaha", BOSS),
                              (OTHER_BOSS, "Farmasi", None)):
        ev = make_event(EMPLOYEE_UPSERTED, subject=nip, agency=AGENCY, source="test",
                        time=datetime(2026, 9, 1, 12).astimezone(),
                        data={"nip": nip, "nama": nip[-4:], "agency": AGENCY, "unit": unit, "pin": PINS[nip],
                              "atasan_nip": atasan})
        with rt.session() as s, s.begin():
            apply_roster_event(s, ev, agency_tz="Asia/Jakarta")
    client = app.test_client()
    op = bearer(role="operator", agency="*")
    assert client.post("/api/v1/devices", json={"sn": "RS01", "agency": AGENCY, "tz": 7}, headers=op).status_code == 201
    yield app
    rt.dispose()


def bearer(**kw):
    return {"Authorization": "Bearer " + issue_token(DEV_JWT_SECRET, **kw)}


ADMIN = bearer(role="admin", agency=AGENCY, nip=BOSS)
BOSS_T = bearer(role="atasan", agency=AGENCY, nip=BOSS)
DEVICE = bearer(role="device", agency=AGENCY, device_sn="RS01")


def punch(client, nip, when, status=None):
    item = {"pin": PINS[nip], "time": when}
    if status:
        item["status"] = status
    r = client.post("/api/v1/punches", json={"punches": [item]}, headers=DEVICE)
    assert r.status_code == 200, r.json
    return r.json


def day(app, nip, d):
    rt = runtime_of(app)
    settle_days(rt)  # what the day worker does as markers commit
    with rt.session() as s:
        row = s.get(DaySummaryRow, (nip, d))
        return row.payload if row else None


def outbox_types(app):
    rt = runtime_of(app)
    settle_days(rt)  # what the day worker does as markers commit
    with rt.engine.connect() as c:
        return [json.loads(v)["type"] for v in c.execute(select(rt.outbox_table.c.value)).scalars()]


def test_a_night_shift_is_one_day_across_midnight(app):
    client = app.test_client()
    # the emergency unit works by shift roster only: its week has no fixed days
    assert client.put("/api/v1/schedules/units/IGD", json={"days": {}}, headers=ADMIN).status_code == 200
    r = client.post("/api/v1/shifts", headers=BOSS_T, json={"shifts": [
        {"nip": NURSE, "date": "2026-10-05", "start": "22:00", "end": "07:00", "name": "malam"}]})
    assert r.status_code == 200 and r.json["count"] == 1
    punch(client, NURSE, "2026-10-05T22:10:00+07:00")   # 10 minutes late
    punch(client, NURSE, "2026-10-06T06:40:00+07:00")   # 20 minutes early, next morning
    got = day(app, NURSE, date(2026, 10, 5))
    assert [(d["code"], d["minutes"]) for d in got["deductions"]] == [("TL1", 10), ("PSW1", 20)]
    assert got["arrival"].startswith("2026-10-05T22:10") and got["departure"].startswith("2026-10-06T06:40")
    assert day(app, NURSE, date(2026, 10, 6)) is None  # the morning punch did not open Tuesday


def test_a_night_shifts_departure_recomputed_on_its_own_reaches_back_to_its_shift(app):
    # the departure's marker names Tuesday; the recompute finds it belongs to Monday's shift and
    # reads Monday's facts then (``day_facts``: a day's punches are read for its own span only)
    client = app.test_client()
    assert client.put("/api/v1/schedules/units/IGD", json={"days": {}}, headers=ADMIN).status_code == 200
    r = client.post("/api/v1/shifts", headers=BOSS_T, json={"shifts": [
        {"nip": NURSE, "date": "2026-10-05", "start": "22:00", "end": "07:00", "name": "malam"}]})
    assert r.status_code == 200
    punch(client, NURSE, "2026-10-05T21:55:00+07:00")
    assert day(app, NURSE, date(2026, 10, 5))["departure"] is None  # settled: Monday has its arrival only
    punch(client, NURSE, "2026-10-06T07:05:00+07:00")
    got = day(app, NURSE, date(2026, 10, 5))
    assert got["arrival"].startswith("2026-10-05T21:55") and got["departure"].startswith("2026-10-06T07:05")
    assert got["deductions"] == []
    assert day(app, NURSE, date(2026, 10, 6)) is None  # no shift on Tuesday: its marker made no record


def test_ramadan_hours_apply_in_their_range_only(app):
    client = app.test_client()
    r = client.post("/api/v1/calendar/ramadan", headers=ADMIN, json={
        "start_date": "2026-10-05", "end_date": "2026-10-06",
        "days": {d: {"start": "08:00", "end": "15:00"} for d in ("mon", "tue", "wed", "thu")}
        | {"fri": {"start": "08:00", "end": "15:30"}}})
    assert r.status_code == 201, r.json
    punch(client, CLERK, "2026-10-05T07:55:00+07:00")
    punch(client, CLERK, "2026-10-05T15:01:00+07:00")
    punch(client, CLERK, "2026-10-07T07:55:00+07:00")   # after Ramadan: 07:30 start → 25 min late
    punch(client, CLERK, "2026-10-07T16:01:00+07:00")
    assert day(app, CLERK, date(2026, 10, 5))["deductions"] == []
    assert [d["code"] for d in day(app, CLERK, date(2026, 10, 7))["deductions"]] == ["TL1"]


def test_leave_excuses_a_day_and_only_the_supervisor_or_admin_may_enter_it(app):
    client = app.test_client()
    punch(client, CLERK, "2026-10-08T09:30:00+07:00")   # TL4 ...
    assert "TL4" in [d["code"] for d in day(app, CLERK, date(2026, 10, 8))["deductions"]]
    other = bearer(role="atasan", agency=AGENCY, nip=OTHER_BOSS)
    me = bearer(role="pegawai", agency=AGENCY, nip=CLERK)
    foreign = bearer(role="admin", agency="disdik", nip=OTHER_BOSS)
    body = {"nip": CLERK, "start_date": "2026-10-08", "end_date": "2026-10-08", "kind": "dinas_luar"}
    assert client.post("/api/v1/leave", json=body, headers=other).status_code == 403
    assert client.post("/api/v1/leave", json=body, headers=me).status_code == 403
    assert client.post("/api/v1/leave", json=body, headers=foreign).status_code == 404
    assert day(app, CLERK, date(2026, 10, 8))["version"] == 1  # nothing changed
    assert client.post("/api/v1/leave", json=body, headers=BOSS_T).status_code == 201
    got = day(app, CLERK, date(2026, 10, 8))
    assert got["excused"] == "dinas_luar" and got["deductions"] == [] and got["version"] == 2
    bad = dict(body, end_date="2026-10-01")
    r = client.post("/api/v1/leave", json=bad, headers=BOSS_T)
    assert r.status_code == 422 and "sebelum" in r.json["message"]


def test_phone_check_in_is_geofenced_unless_on_official_duty(app):
    client = app.test_client()
    assert client.put("/api/v1/units/Tata Usaha/location", headers=ADMIN,
                      json={"lat": -5.7256, "lon": 105.5939, "radius_m": 150}).status_code == 200
    phone = bearer(role="pegawai", agency=AGENCY, nip=CLERK)
    near = {"nip": CLERK, "lat": -5.7257, "lon": 105.5940}
    far = {"nip": CLERK, "lat": -5.7156, "lon": 105.5939}
    nowhere = {"nip": CLERK}
    r = client.post("/api/v1/punches", json={"punches": [near, far, nowhere]}, headers=phone)
    assert r.json["accepted"] == 1
    reasons = {x["index"]: x["errors"]["location"][0] for x in r.json["rejected"]}
    assert "berjarak 1112 m, radiusnya 150 m" in reasons[1] and "wajib diisi" in reasons[2]
    today = datetime.now(ZoneInfo("Asia/Jakarta")).date().isoformat()
    client.post("/api/v1/leave", headers=BOSS_T,
                json={"nip": CLERK, "start_date": today, "end_date": today, "kind": "dinas_luar"})
    r = client.post("/api/v1/punches", json={"punches": [far]}, headers=phone)
    assert r.json["accepted"] == 1 and r.json["rejected"] == []


def test_three_tk_days_raise_the_first_discipline_alert_once(app):
    client = app.test_client()
    r = client.post("/api/v1/days/close", headers=ADMIN, json={"start_date": "2026-10-05", "end_date": "2026-10-07"})
    assert r.status_code == 200
    alerts = [t for t in outbox_types(app) if t == "kehadiran.discipline.alert.v1"]
    assert len(alerts) == 4  # each of the four ASN: 3 days → threshold 3
    client.post("/api/v1/days/close", headers=ADMIN, json={"start_date": "2026-10-05", "end_date": "2026-10-07"})
    assert len([t for t in outbox_types(app) if t == "kehadiran.discipline.alert.v1"]) == 4
    client.post("/api/v1/days/close", headers=ADMIN, json={"start_date": "2026-10-08", "end_date": "2026-10-08"})
    assert len([t for t in outbox_types(app) if t == "kehadiran.discipline.alert.v1"]) == 8  # threshold 4


def test_bad_input_is_refused_with_the_reason_and_changes_nothing(app):
    client = app.test_client()
    rt = runtime_of(app)

    def counts():
        with rt.engine.connect() as c:
            return (c.execute(select(func.count()).select_from(PunchRow.__table__)).scalar_one(),
                    c.execute(select(func.count()).select_from(rt.outbox_table)).scalar_one())

    before = counts()
    cases = [
        (client.post("/api/v1/punches", data="{not json", headers={**DEVICE, "Content-Type": "application/json"}), 400),
        (client.post("/api/v1/punches", json={"punches": "x"}, headers=DEVICE), 422),
        (client.post("/api/v1/punches", json={"punches": [{"pin": 7, "time": 3}]}, headers=DEVICE), 422),
        (client.post("/api/v1/punches", json={"punches": [{"pin": "1", "time": "2099-01-01T07:00:00+07:00"}]},
                     headers=DEVICE), 422),
        (client.post("/api/v1/punches", json={"punches": [{"pin": "1", "time": "x" * 70_000}]}, headers=DEVICE), 413),
        (client.post("/api/v1/calendar/holidays", json={"csv": "bukan,tanggal\n"}, headers=ADMIN), 422),
        (client.post("/api/v1/shifts", json={"shifts": [{"nip": CLERK, "date": "2026-10-05", "start": "25:00",
                                                          "end": "07:00"}]}, headers=ADMIN), 422),
        (client.post("/iclock/cdata?SN=NOPE&table=ATTLOG", data="1\t2026-10-05 07:00:00\t0\t1\t0\t0\t0"), 403),
    ]
    for response, status in cases:
        assert response.status_code == status, (response.status_code, response.get_data(as_text=True)[:300])
        assert response.get_data(as_text=True).strip(), "a refusal says why"
    assert counts() == before
