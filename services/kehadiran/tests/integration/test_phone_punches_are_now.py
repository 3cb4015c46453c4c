"""Issue 19 item 1, through the API on SQLite and PostgreSQL: a phone's punch is the moment it
arrives. A backdated (or future) time beyond the skew is refused with the reason and stores
nothing; one within the skew is kept beside the server's time; a batch keeps its good items. A
device keeps its own times (a backlog re-sent after days offline is no phone)."""
import json
from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import select

from kehadiran.adapters.orm import PunchRow
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
NIP = "198503122010011001"
WIB = timezone(timedelta(hours=7))


def make_app(database_url, **config):
    app = create_app({"database_url": database_url, "kafka_bootstrap": "127.0.0.1:1", **config})
    rt = runtime_of(app)
    event = make_event(EMPLOYEE_UPSERTED, subject=NIP, agency=AGENCY, source="test",
                       time=datetime.now(timezone.utc) - timedelta(days=60),
                       data={"nip": NIP, "nama": "Budi", "agency": AGENCY, "unit": "Sekretariat", "pin": "7"})
    with rt.session() as s, s.begin():
        apply_roster_event(s, event, agency_tz="Asia/Jakarta")
    return app


@pytest.fixture
def app(database_url):
    migrate(database_url)
    app = make_app(database_url)
    yield app
    runtime_of(app).dispose()


def bearer(**kw):
    return {"Authorization": "Bearer " + issue_token(DEV_JWT_SECRET, **kw)}


PHONE = bearer(role="pegawai", agency=AGENCY, nip=NIP)


def punches(app):
    rt = runtime_of(app)
    settle_days(rt)  # what the day worker does as markers commit
    with rt.session() as s:
        return s.execute(select(PunchRow).order_by(PunchRow.received_at, PunchRow.device_time)).scalars().all()


def outbox(app):
    rt = runtime_of(app)
    settle_days(rt)  # what the day worker does as markers commit
    with rt.engine.connect() as c:
        return [json.loads(v) for v in c.execute(select(rt.outbox_table.c.value).order_by(rt.outbox_table.c.id)).scalars()]


def aware(t: datetime) -> datetime:
    return t if t.tzinfo else t.replace(tzinfo=timezone.utc)  # SQLite keeps UTC without its offset


def test_a_backdated_phone_punch_is_refused_with_the_reason_and_stores_nothing(app):
    client = app.test_client()
    weeks_ago = (datetime.now(WIB) - timedelta(days=21, minutes=5)).replace(second=0, microsecond=0)  # "21 hari" at any hour
    r = client.post("/api/v1/punches", headers=PHONE, json={"punches": [{"nip": NIP, "time": weeks_ago.isoformat()}]})
    assert r.status_code == 422, r.json
    [item] = r.json["detail"]["rejected"]  # in Bahasa Indonesia unless asked otherwise (issue 19 item 10)
    reason = item["errors"]["time"][0]
    assert r.json["field"] == "punches.0.time" and r.json["reason"] == reason
    assert item["index"] == 0 and "dicatat saat diterima" in reason and "21 hari" in reason
    assert "/api/v1/corrections" in reason
    assert punches(app) == [] and outbox(app) == []


def test_a_phone_batch_keeps_its_good_items_at_the_servers_time(app):
    client = app.test_client()
    now = datetime.now(timezone.utc)
    skewed = (now - timedelta(minutes=2)).astimezone(WIB).replace(microsecond=0)
    body = {"punches": [
        {"nip": NIP, "time": (now - timedelta(hours=3)).isoformat()},   # backdated: refused
        {"nip": NIP, "time": skewed.isoformat()},                        # within the skew: kept beside
        {"nip": NIP},                                                    # no time: now
        {"nip": NIP, "time": (now + timedelta(minutes=10, seconds=30)).isoformat()},  # ahead: refused
    ]}
    before = datetime.now(timezone.utc)
    r = client.post("/api/v1/punches", headers=PHONE, json=body)
    after = datetime.now(timezone.utc)
    assert r.status_code == 200, r.json
    assert r.json["accepted"] == 2 and [x["index"] for x in r.json["rejected"]] == [0, 3]
    assert "3 jam sebelum" in r.json["rejected"][0]["errors"]["time"][0]
    assert "10 menit sesudah" in r.json["rejected"][1]["errors"]["time"][0]
    rows = punches(app)
    assert len(rows) == 2
    for row in rows:
        assert before <= aware(row.time) <= after, "the punch's time is when it arrived"
    # the phone's own clock is kept beside it, in the phone's zone (WIB)
    assert skewed.replace(tzinfo=None) in {row.device_time for row in rows}
    events = [e["data"] for e in outbox(app) if e["type"] == "kehadiran.punch.recorded.v1"]
    assert len(events) == 2 and all(before <= datetime.fromisoformat(e["time"]) <= after for e in events)
    # the same punch re-sent (a retry) is counted once
    again = client.post("/api/v1/punches", headers=PHONE, json={"punches": [{"nip": NIP, "time": skewed.isoformat()}]})
    assert again.json["accepted"] == 0 and again.json["duplicates"] == 1


def test_the_skew_is_configurable(database_url):
    migrate(database_url)
    app = make_app(database_url, phone_skew_s=30)
    try:
        now = datetime.now(timezone.utc)
        r = app.test_client().post("/api/v1/punches", headers=PHONE, json={"punches": [
            {"nip": NIP, "time": (now - timedelta(minutes=2)).isoformat()}]})
        assert r.status_code == 422 and "30 detik yang diizinkan" in r.json["detail"]["rejected"][0]["errors"]["time"][0]
    finally:
        runtime_of(app).dispose()
    with pytest.raises(ValueError, match="outside"):
        create_app({"database_url": database_url, "phone_skew_s": 86400})


def test_a_device_keeps_its_own_times_for_a_backlog(app):
    client = app.test_client()
    op = bearer(role="operator", agency="*")
    assert client.post("/api/v1/devices", json={"sn": "LMS0001", "agency": AGENCY, "tz": 7}, headers=op).status_code == 201
    day = (datetime.now(WIB) - timedelta(days=21)).date()
    while day.weekday() > 3:
        day -= timedelta(days=1)
    device = bearer(role="device", agency=AGENCY, device_sn="LMS0001")
    r = client.post("/api/v1/punches", headers=device, json={"punches": [{"pin": "7", "time": f"{day}T07:45:00+07:00"}]})
    assert r.json["accepted"] == 1
    [row] = punches(app)
    assert aware(row.time) == datetime.fromisoformat(f"{day}T07:45:00+07:00")
    # a device must say when; the item alone is refused
    r = client.post("/api/v1/punches", headers=device, json={"punches": [{"pin": "7"}]})
    assert r.status_code == 422 and r.json["field"] == "punches.0.time"
