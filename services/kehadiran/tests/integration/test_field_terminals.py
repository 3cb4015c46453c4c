"""What the end-to-end field test (tests/e2e/test_field_realities.py) cannot pin down through
running processes, in process on SQLite and PostgreSQL with the simulated terminal
(``kinerja.terminal_sim``) on the Flask test client:

- the other upload configuration: templates kept (FP over OPERLOG too), photos refused, each
  bounded in size, all acknowledged;
- each agency's "today" at an hour when the zones disagree on the date: the closer queues up
  to each agency's own yesterday, and the agency settings name the zone the dashboard uses.
"""
from __future__ import annotations

import base64
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

import pytest
from sqlalchemy import func, select, text

from kehadiran.adapters.orm import DeviceUpload
from kehadiran.entrypoints.app import create_app
from kehadiran.entrypoints.runtime import agencies
from kehadiran.service_layer.day_closing import close_due_days
from kehadiran.service_layer.roster import apply_roster_event
from kinerja.auth import issue_token
from kinerja.config import DEV_JWT_SECRET
from kinerja.events import make_event
from kinerja.events.pegawai import EMPLOYEE_UPSERTED
from kinerja.migrations import upgrade
from kinerja.terminal_sim import FlaskTransport, Terminal
from kinerja.webapp import runtime_of

pytestmark = pytest.mark.integration
MIGRATIONS = Path(__file__).resolve().parents[2] / "migrations"
OPERATOR = {"Authorization": "Bearer " + issue_token(DEV_JWT_SECRET, role="operator", agency="*")}
ZONED = {"kab-barat": "Asia/Jakarta", "kab-tengah": "Asia/Makassar", "kab-timur": "Asia/Jayapura"}


@pytest.fixture
def app(database_url):
    upgrade(MIGRATIONS, database_url, "heads")
    app = create_app({"database_url": database_url, "kafka_bootstrap": "127.0.0.1:1", "timezone": "Asia/Jakarta",
                      "device_photos": "off", "device_templates": "store", "device_upload_max_bytes": 1024})
    yield app
    runtime_of(app).dispose()


def roster(app, nip, agency, pin, tz=None, tmt=None):
    data = {"nip": nip, "nama": "X", "agency": agency, "unit": "Umum", "pin": pin}
    data.update({k: v for k, v in (("timezone", tz), ("tmt", tmt)) if v})
    event = make_event(EMPLOYEE_UPSERTED, subject=nip, agency=agency, source="test", data=data)
    runtime = runtime_of(app)
    with runtime.session() as s, s.begin():
        apply_roster_event(s, event, agency_tz="Asia/Jakarta")


def test_templates_kept_photos_refused_all_acknowledged(app):
    client = app.test_client()
    assert client.post("/api/v1/devices", json={"sn": "TERM0003", "agency": "kab-timur", "tz": 9},
                       headers=OPERATOR).status_code == 201
    t = Terminal("TERM0003", FlaskTransport(client), tz_offset_minutes=540, pushver="3.1.1")
    assert t.handshake().status == 200
    assert t.push_photo("7", datetime(2026, 12, 1, 7, 30), b"\xff\xd8" + b"x" * 300).text == "OK"
    # two templates within the bound, one beyond it (1024 bytes here): all acknowledged
    reply = t.push_templates([("7", 1, b"f" * 500), ("7", 9, b"g" * 600), ("8", 9, b"h" * 2000)])
    assert reply.status == 200 and reply.text == "OK:3"
    assert t.push_templates([("7", 1, b"f" * 500)]).text == "OK:1"  # the same one again: kept once
    fp = base64.b64encode(b"p" * 200).decode()
    r = t.call("POST", "cdata", f"FP PIN=7\tFID=6\tSize={len(fp)}\tValid=1\tTMP={fp}\n".encode(), table="OPERLOG")
    assert r.status == 200
    runtime = runtime_of(app)
    with runtime.session() as s:
        kept = s.execute(select(DeviceUpload.kind, DeviceUpload.pin, DeviceUpload.size)
                         .order_by(DeviceUpload.id)).all()
    assert [tuple(k) for k in kept] == [("template", "7", 500), ("template", "7", 600), ("template", "7", 200)]


def test_each_agency_closes_up_to_its_own_yesterday_and_names_its_zone(app):
    # 16:30 UTC on 3 December: 23:30 WIB (still the 3rd), 00:30 WITA and 01:30 WIT (the 4th)
    now = datetime(2026, 12, 3, 16, 30, tzinfo=timezone.utc)
    for k, (agency, tz) in enumerate(ZONED.items()):
        roster(app, f"19800101200501100{k}", agency, "1", tz=tz, tmt=date(2026, 11, 30))
    runtime = runtime_of(app)
    directory = agencies(runtime)
    with runtime.session() as s, s.begin():
        s.execute(text("DELETE FROM dirty_days"))
        directory.refresh(s.connection(), force=True)
        close_due_days(s, zone_of=directory, now=now)
    with runtime.session() as s:
        last = dict(s.execute(text("SELECT e.agency, max(d.day) FROM dirty_days d JOIN employees e ON e.nip = d.nip "
                                   "GROUP BY e.agency")).all())
    assert {a: str(v)[:10] for a, v in last.items()} == {
        "kab-barat": "2026-12-02", "kab-tengah": "2026-12-03", "kab-timur": "2026-12-03"}
    client = app.test_client()
    for agency, tz in ZONED.items():
        admin = {"Authorization": "Bearer " + issue_token(DEV_JWT_SECRET, role="admin", agency=agency,
                                                          nip="197001012000011099")}
        r = client.get("/api/v1/agency-settings", headers=admin)
        assert r.status_code == 200 and r.json["timezone"] == tz and r.json["timezone_from_roster"], r.json
