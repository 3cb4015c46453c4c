"""Issue 19 item 9 in kehadiran, through the API on SQLite and PostgreSQL: a phone's own NIP need
not be repeated (the token names it), a device must still name the person; what goes in comes
back in the same shape (a unit's week and Ramadan hours by weekday name); shifts, a unit's office
location and a day's punches can be read back."""
from datetime import datetime, timedelta, timezone

import pytest

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
BOSS, NIP, PEER = "197001012000011001", "198503122010011001", "199101012016011004"
WIB = timezone(timedelta(hours=7))


def bearer(role, nip=None, **kw):
    return {"Authorization": "Bearer " + issue_token(DEV_JWT_SECRET, role=role, agency=AGENCY, nip=nip, **kw)}


PHONE, BOSS_T, ADMIN = bearer("pegawai", NIP), bearer("atasan", BOSS), bearer("admin", "198001012005011009")


@pytest.fixture
def client(database_url):
    migrate(database_url)
    app = create_app({"database_url": database_url, "kafka_bootstrap": "127.0.0.1:1"})
    rt = runtime_of(app)
    for nip, boss, pin in ((BOSS, None, "1"), (NIP, BOSS, "7"), (PEER, BOSS, "8")):
        event = make_event(EMPLOYEE_UPSERTED, subject=nip, agency=AGENCY, source="test",
                           time=datetime.now(timezone.utc) - timedelta(days=60),
                           data={"nip": nip, "nama": "Budi", "agency": AGENCY, "unit": "Sekretariat", "pin": pin,
                                 "atasan_nip": boss})
        with rt.session() as s, s.begin():
            apply_roster_event(s, event, agency_tz="Asia/Jakarta")
    yield app.test_client()
    rt.dispose()


def test_a_phone_need_not_repeat_its_own_nip_and_reads_its_punches_back(client):
    r = client.post("/api/v1/punches", headers=PHONE, json={"punches": [{}]})
    assert r.status_code == 200 and r.json["accepted"] == 1, r.json
    r = client.post("/api/v1/punches", headers=PHONE, json={"punches": [{"nip": PEER}]})
    assert r.status_code == 422 and r.json["detail"]["rejected"][0]["errors"] == {
        "nip": ["ponsel hanya boleh absen untuk NIP pemiliknya"]}
    today = datetime.now(WIB).date()
    mine = client.get(f"/api/v1/punches?date={today}", headers=PHONE)
    assert mine.status_code == 200, mine.json
    [punch] = mine.json
    assert punch["device_sn"] == f"phone-{NIP}" and punch["channel"] == "json" and punch["correction_id"] is None
    assert abs(datetime.fromisoformat(punch["time"]) - datetime.now(timezone.utc)) < timedelta(minutes=5)
    assert client.get(f"/api/v1/punches?nip={NIP}&date={today}", headers=BOSS_T).json == mine.json
    assert client.get(f"/api/v1/punches?nip={NIP}&date={today}", headers=bearer("pegawai", PEER)).status_code == 403
    assert client.get(f"/api/v1/punches?date={today - timedelta(days=1)}", headers=PHONE).json == []


def test_a_device_still_names_the_person(client):
    op = bearer("operator")
    assert client.post("/api/v1/devices", headers=op, json={"sn": "SHAPE01", "agency": AGENCY, "tz": 7}).status_code == 201
    device = bearer("device", device_sn="SHAPE01")
    r = client.post("/api/v1/punches", headers=device, json={"punches": [
        {"time": "2026-11-02T07:25:00+07:00"}, {"pin": "7", "nip": NIP, "time": "2026-11-02T07:25:00+07:00"},
        {"pin": "7", "time": "2026-11-02T07:26:00+07:00"}]})
    assert r.status_code == 200 and r.json["accepted"] == 1, r.json
    assert r.json["rejected"] == [{"index": 0, "errors": {"pin": ["mesin absen harus menyebut orangnya: pin atau nip"]}},
                                  {"index": 1, "errors": {"pin": ["isi salah satu, pin atau nip, bukan keduanya"]}}]


def test_a_units_week_and_ramadan_hours_come_back_as_they_went_in(client):
    week = {"mon": {"start": "07:00", "end": "15:30"}, "tue": {"start": "07:00", "end": "15:30"},
            "sat": {"start": "08:00", "end": "12:00"}}
    put = client.put("/api/v1/schedules/units/Sekretariat", headers=ADMIN, json={"days": week})
    assert put.status_code == 200, put.json
    expected = {d: week.get(d) for d in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")}
    assert put.json["days"] == expected
    got = client.get("/api/v1/schedules/units/Sekretariat", headers=PHONE)
    assert got.status_code == 200 and got.json["days"] == expected
    assert got.json["hours"]["0"] == ["07:00", "15:30"]  # the stored form, for older clients
    default = client.get("/api/v1/schedules/units/Bidang%20SD", headers=PHONE).json["days"]
    assert default["fri"] == {"start": "07:30", "end": "16:30"} and default["sun"] is None
    ramadan = {"mon": {"start": "08:00", "end": "15:00"}, "fri": {"start": "08:00", "end": "15:30"}}
    r = client.post("/api/v1/calendar/ramadan", headers=ADMIN, json={
        "start_date": "2027-02-08", "end_date": "2027-03-09", "days": ramadan})
    assert r.status_code in (200, 201), r.json
    listed = client.get("/api/v1/calendar/ramadan", headers=PHONE).json
    assert [x["days"] for x in listed] == [{d: ramadan.get(d) for d in expected}]


def test_shifts_and_the_office_location_can_be_read_back(client):
    shifts = [{"nip": NIP, "date": "2026-11-03", "start": "22:00", "end": "07:00", "name": "malam"},
              {"nip": NIP, "date": "2026-11-04", "start": None, "end": None, "name": "libur"}]
    assert client.post("/api/v1/shifts", headers=BOSS_T, json={"shifts": shifts}).json == {"count": 2}
    got = client.get(f"/api/v1/shifts?nip={NIP}&period=2026-11", headers=PHONE)
    assert got.status_code == 200 and got.json == shifts
    assert client.get(f"/api/v1/shifts?nip={NIP}&period=2026-11", headers=BOSS_T).json == shifts
    assert client.get(f"/api/v1/shifts?nip={NIP}&period=2026-11", headers=bearer("pegawai", PEER)).status_code == 403
    assert client.get("/api/v1/units/Sekretariat/location", headers=PHONE).status_code == 404
    place = {"lat": -5.7312, "lon": 105.5912, "radius_m": 150}
    assert client.put("/api/v1/units/Sekretariat/location", headers=ADMIN, json=place).status_code == 200
    got = client.get("/api/v1/units/Sekretariat/location", headers=PHONE)
    assert got.status_code == 200 and {k: got.json[k] for k in place} == place and got.json["unit"] == "Sekretariat"
