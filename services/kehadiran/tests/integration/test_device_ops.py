"""The operator side of ADMS devices: who may see and command which device, typed commands, refusals;
and the 0002 migration matching the device models, on SQLite and PostgreSQL."""
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Table

from kehadiran.adapters.orm import metadata
from kehadiran.entrypoints.app import create_app
from kehadiran.service_layer.roster import apply_roster_event
from kinerja.auth import issue_token
from kinerja.config import DEV_JWT_SECRET
from kinerja.events import make_event
from kinerja.events.pegawai import EMPLOYEE_UPSERTED
from kinerja.migrations import upgrade
from kinerja.webapp import runtime_of

pytestmark = pytest.mark.integration
MIGRATIONS = Path(__file__).resolve().parents[2] / "migrations"
SN = "LMS0001"
NIP = "198503122010011001"


def bearer(**kw):
    return {"Authorization": "Bearer " + issue_token(DEV_JWT_SECRET, **kw)}


OPERATOR = bearer(role="operator", agency="*")
ADMIN = bearer(role="admin", agency="disdik", nip=NIP)
OTHER_ADMIN = bearer(role="admin", agency="dinkes", nip=NIP)
PEGAWAI = bearer(role="pegawai", agency="disdik", nip=NIP)
DEVICE = bearer(role="device", agency="disdik", device_sn=SN)


@pytest.fixture
def app(database_url):
    upgrade(MIGRATIONS, database_url, "heads")
    app = create_app({"database_url": database_url, "kafka_bootstrap": "127.0.0.1:1"})
    yield app
    runtime_of(app).dispose()


@pytest.fixture
def client(app):
    c = app.test_client()
    r = c.post("/api/v1/devices", json={"sn": SN, "agency": "disdik", "tz": 8}, headers=OPERATOR)
    assert r.status_code == 201
    return c


def test_who_may_see_a_device(client):
    url = f"/api/v1/devices/{SN}/status"
    assert client.get(url).status_code == 401
    assert client.get(url, headers=PEGAWAI).status_code == 403
    assert client.get(url, headers=DEVICE).status_code == 403
    assert client.get(url, headers=OTHER_ADMIN).status_code == 403
    assert client.get(f"/api/v1/devices/{SN}/commands", headers=OTHER_ADMIN).status_code == 403
    assert client.post(f"/api/v1/devices/{SN}/commands", json={"kind": "check"}, headers=OTHER_ADMIN).status_code == 403
    assert client.get("/api/v1/devices/NOSUCH/status", headers=OPERATOR).status_code == 404
    mine = client.get(url, headers=ADMIN)
    assert mine.status_code == 200
    body = mine.json
    assert body["sn"] == SN and body["last_contact_at"] is None and body["online"] is False
    assert body["records_today"] == 0 and body["commands"] == {"pending": 0, "sent": 0, "done": 0, "failed": 0, "cancelled": 0}


def test_fleet_status_per_agency(client):
    assert client.post("/api/v1/devices", json={"sn": "DINKES01", "agency": "dinkes"}, headers=OPERATOR).status_code == 201
    client.get(f"/iclock/ping?SN={SN}")
    mine = client.get("/api/v1/devices/status", headers=ADMIN).json
    assert [d["sn"] for d in mine] == [SN]
    assert mine[0]["online"] is True and mine[0]["commands"]["pending"] == 0 and "options" not in mine[0]
    assert [d["sn"] for d in client.get("/api/v1/devices/status", headers=OPERATOR).json] == ["DINKES01", SN]
    assert [d["sn"] for d in client.get("/api/v1/devices/status?agency=dinkes", headers=OPERATOR).json] == ["DINKES01"]
    # an admin's agency is their token's, whatever they ask
    assert [d["sn"] for d in client.get("/api/v1/devices/status?agency=dinkes", headers=ADMIN).json] == [SN]
    assert client.get("/api/v1/devices/status", headers=PEGAWAI).status_code == 403


def test_typed_commands(client):
    url = f"/api/v1/devices/{SN}/commands"
    r = client.post(url, headers=ADMIN, json={"kind": "user", "pin": "100", "name": "Budi"})
    assert r.status_code == 201 and r.json["command"] == "DATA UPDATE USERINFO PIN=100\tName=Budi"
    assert r.json["created_by"] == NIP
    # an aware time is turned into the device's clock (WITA, +08:00)
    r = client.post(url, headers=ADMIN, json={"kind": "reupload", "start": "2026-11-01T00:00:00+07:00",
                                              "end": "2026-11-02T00:00:00+07:00"})
    assert r.status_code == 201
    assert r.json["command"] == "DATA QUERY ATTLOG StartTime=2026-11-01 01:00:00\tEndTime=2026-11-02 01:00:00"
    r = client.post(url, headers=ADMIN, json={"kind": "reupload", "start": "2026-11-01 00:00:00",
                                              "end": "2026-11-01 23:59:59"})
    assert r.status_code == 201
    assert r.json["command"] == "DATA QUERY ATTLOG StartTime=2026-11-01 00:00:00\tEndTime=2026-11-01 23:59:59"
    assert client.post(url, headers=ADMIN, json={"kind": "check"}).json["command"] == "CHECK"
    listed = client.get(url, headers=ADMIN).json
    assert [c["status"] for c in listed] == ["pending"] * 4
    assert listed[0]["command"] == "CHECK"  # newest first
    assert len(client.get(url + "?limit=2", headers=ADMIN).json) == 2


def test_push_an_asn_from_the_roster_by_nip(app, client):
    runtime = runtime_of(app)
    for nip, agency, pin in ((NIP, "disdik", "100"), ("198601012011012002", "dinkes", "7"),
                             ("198701012012012003", "disdik", None)):
        event = make_event(EMPLOYEE_UPSERTED, subject=nip, agency=agency, source="test",
                           data={"nip": nip, "nama": "Dr. Budi Santoso Wicaksono, M.Pd.", "agency": agency,
                                 "unit": "Sekretariat", "pin": pin})
        with runtime.session() as s, s.begin():
            apply_roster_event(s, event, agency_tz="Asia/Jakarta")
    url = f"/api/v1/devices/{SN}/commands"
    r = client.post(url, headers=ADMIN, json={"kind": "user", "nip": NIP})
    assert r.status_code == 201, r.json
    assert r.json["command"] == "DATA UPDATE USERINFO PIN=100\tName=Dr. Budi Santoso Wicakso"
    for nip, why in (("198601012011012002", "daftar pegawai instansi disdik"),
                     ("198701012012012003", "tidak punya PIN mesin absen"), ("199901012020012001", "daftar pegawai")):
        r = client.post(url, headers=ADMIN, json={"kind": "user", "nip": nip})
        assert r.status_code == 422 and why in r.json["message"], r.json
    assert len(client.get(url, headers=ADMIN).json) == 1


@pytest.mark.parametrize("body", [
    {},
    {"kind": "check", "command": "CHECK"},
    {"kind": "reboot"},
    {"kind": "reupload", "start": "2026-11-01T00:00:00"},
    {"kind": "reupload", "start": "2026-11-02T00:00:00", "end": "2026-11-01T00:00:00"},
    {"kind": "reupload", "start": "yesterday", "end": "2026-11-01T00:00:00"},
    {"kind": "user", "pin": "100"},
    {"kind": "user", "nip": "12345"},
    {"kind": "user", "pin": "1 00", "name": "Budi"},
    {"kind": "user", "pin": "100", "name": "Budi\tPri=14"},
    {"kind": "user", "pin": "100", "name": "x" * 25},
    {"command": "CHECK\nCLEAR DATA"},
    {"command": ""},
])
def test_bad_commands_are_refused_and_nothing_is_queued(client, body):
    url = f"/api/v1/devices/{SN}/commands"
    r = client.post(url, headers=OPERATOR, json=body)
    assert r.status_code == 422, r.json
    assert client.get(url, headers=OPERATOR).json == []


def test_raw_commands_are_for_operators_only(client):
    url = f"/api/v1/devices/{SN}/commands"
    assert client.post(url, headers=ADMIN, json={"command": "CLEAR DATA"}).status_code == 403
    assert client.get(url, headers=ADMIN).json == []
    r = client.post(url, headers=OPERATOR, json={"command": "DATA QUERY USERINFO"})
    assert r.status_code == 201 and r.json["command"] == "DATA QUERY USERINFO"


def test_openapi_documents_the_operator_api_not_the_device_protocol(client):
    spec = client.get("/openapi.json").json
    assert "/api/v1/devices/{sn}/status" in spec["paths"]
    assert "/api/v1/devices/{sn}/commands" in spec["paths"]
    assert not [p for p in spec["paths"] if p.startswith("/iclock")]


def test_migration_0002_matches_the_device_models(app):
    """Only the device tables: the other tables of kehadiran have their own migrations."""
    ours = {"devices", "device_commands", "device_users", "device_oplog"}
    engine = runtime_of(app).engine
    with engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), metadata)

    def tables_of(op) -> set:
        op = op[0] if isinstance(op, list) else op
        names = set()
        for item in op[1:]:
            if isinstance(item, str):
                names.add(item)
            elif isinstance(item, Table):
                names.add(item.name)
            elif getattr(item, "table", None) is not None:
                names.add(item.table.name)
        return names

    assert [d for d in diff if tables_of(d) & ours] == []
