"""JSON punch ingest on SQLite and PostgreSQL: rows and outbox events in one transaction,
re-sent punches counted once, unknown PINs quarantined and released when the roster names them."""
import json
from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import select

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
NIP = "198503122010011001"
OTHER = "198601012011012002"


@pytest.fixture
def app(database_url):
    migrate(database_url)
    app = create_app({"database_url": database_url, "kafka_bootstrap": "127.0.0.1:1"})
    yield app
    runtime_of(app).dispose()


@pytest.fixture
def client(app):
    return app.test_client()


def bearer(**kw):
    return {"Authorization": "Bearer " + issue_token(DEV_JWT_SECRET, **kw)}


OPERATOR = dict(role="operator", agency="*")
DEVICE = dict(role="device", agency=AGENCY, device_sn="LMS0001")


def roster(app, nip, pin, unit="Sekretariat"):
    runtime = runtime_of(app)
    event = make_event(EMPLOYEE_UPSERTED, subject=nip, agency=AGENCY, source="test",
                       data={"nip": nip, "nama": "X", "agency": AGENCY, "unit": unit, "pin": pin})
    with runtime.session() as s, s.begin():
        apply_roster_event(s, event, agency_tz="Asia/Jakarta")


def outbox(app):
    runtime = runtime_of(app)
    settle_days(runtime)  # what the day worker does as markers commit
    with runtime.engine.connect() as c:
        rows = c.execute(select(runtime.outbox_table.c.value).order_by(runtime.outbox_table.c.id)).scalars().all()
    return [json.loads(v) for v in rows]


def register(client):
    r = client.post("/api/v1/devices", json={"sn": "LMS0001", "agency": AGENCY, "tz": 7}, headers=bearer(**OPERATOR))
    assert r.status_code == 201, r.json


def recent_workday_0745():
    """07:45 WIB on the most recent past Monday–Thursday, so the day is over."""
    day = datetime.now(timezone(timedelta(hours=7))).date() - timedelta(days=1)
    while day.weekday() > 3:
        day -= timedelta(days=1)
    return day, f"{day.isoformat()}T07:45:00+07:00"


def test_punch_is_stored_once_with_its_events_and_the_day_summary(app, client):
    register(client)
    roster(app, NIP, "7")
    day, t = recent_workday_0745()
    body = {"punches": [{"pin": "7", "time": t}]}
    first = client.post("/api/v1/punches", json=body, headers=bearer(**DEVICE))
    assert first.status_code == 200 and first.json["accepted"] == 1 and first.json["rejected"] == []
    again = client.post("/api/v1/punches", json=body, headers=bearer(**DEVICE))
    assert again.json == {"accepted": 0, "duplicates": 1, "quarantined": 0, "rejected": []}

    events = outbox(app)
    assert [e["type"] for e in events] == ["kehadiran.punch.recorded.v1", "kehadiran.day.summarized.v1"]
    summary = events[1]["data"]
    assert summary["nip"] == NIP and summary["date"] == day.isoformat() and summary["version"] == 1
    assert summary["minutes_late"] == 15 and summary["final"] is True
    # the day is over, so the missing departure counts too
    assert [(d["code"], d["percent"]) for d in summary["deductions"]] == [("TL1", "0.50"), ("PSW4", "2.00")]
    assert summary["punch_event_ids"] == [events[0]["id"]]


def test_a_later_departure_publishes_a_new_version(app, client):
    register(client)
    roster(app, NIP, "7")
    day, t = recent_workday_0745()
    client.post("/api/v1/punches", json={"punches": [{"pin": "7", "time": t}]}, headers=bearer(**DEVICE))
    settle_days(runtime_of(app))  # the worker summarised the arrival before the departure came
    out = f"{day.isoformat()}T16:05:00+07:00"
    r = client.post("/api/v1/punches", json={"punches": [{"pin": "7", "time": out, "status": "out"}]},
                    headers=bearer(**DEVICE))
    assert r.json["accepted"] == 1
    summaries = [e["data"] for e in outbox(app) if e["type"] == "kehadiran.day.summarized.v1"]
    assert [s["version"] for s in summaries] == [1, 2]
    assert [d["code"] for d in summaries[1]["deductions"]] == ["TL1"]
    runtime = runtime_of(app)
    with runtime.session() as s:
        assert s.get(DaySummaryRow, (NIP, day)).version == 2


def test_unknown_pin_is_quarantined_then_released_by_the_roster(app, client):
    register(client)
    _, t = recent_workday_0745()
    r = client.post("/api/v1/punches", json={"punches": [{"pin": "99", "time": t}]}, headers=bearer(**DEVICE))
    assert r.json["quarantined"] == 1 and r.json["accepted"] == 0
    assert outbox(app) == []
    roster(app, OTHER, "99")
    types = [e["type"] for e in outbox(app)]
    assert types == ["kehadiran.punch.recorded.v1", "kehadiran.day.summarized.v1"]
    runtime = runtime_of(app)
    with runtime.session() as s:
        assert s.execute(select(PunchRow.nip)).scalar_one() == OTHER


def test_bad_items_are_reported_and_good_ones_kept(app, client):
    register(client)
    roster(app, NIP, "7")
    _, t = recent_workday_0745()
    future = (datetime.now(timezone.utc) + timedelta(days=2)).isoformat()
    r = client.post("/api/v1/punches", headers=bearer(**DEVICE), json={"punches": [
        {"pin": "7", "time": t},
        {"pin": "7", "time": "2026-11-03 07:45"},        # no offset
        {"pin": "7", "time": future},                    # far future
        {"pin": "7", "nip": NIP, "time": t},             # both
        {"time": t},                                     # nobody
    ]})
    assert r.status_code == 200
    assert r.json["accepted"] == 1
    assert [x["index"] for x in r.json["rejected"]] == [1, 2, 3, 4]
    assert "masa depan" in r.json["rejected"][1]["errors"]["time"][0]  # Bahasa Indonesia by default


def test_unregistered_device_and_missing_token_store_nothing(app, client):
    roster(app, NIP, "7")
    _, t = recent_workday_0745()
    body = {"punches": [{"pin": "7", "time": t}]}
    assert client.post("/api/v1/punches", json=body).status_code == 401
    r = client.post("/api/v1/punches", json=body, headers=bearer(role="device", agency=AGENCY, device_sn="NOPE"))
    assert r.status_code == 403
    assert outbox(app) == []


def test_a_phone_punches_for_its_own_user_only(app, client):
    roster(app, NIP, "7")
    me = bearer(role="pegawai", agency=AGENCY, nip=NIP)
    r = client.post("/api/v1/punches", json={"punches": [{"nip": NIP}, {"nip": OTHER}]}, headers=me)
    assert r.json["accepted"] == 1 and r.json["rejected"][0]["index"] == 1


def test_a_punch_quarantined_while_the_roster_event_commits_is_released_not_stranded(app, client, database_url):
    """The race a full run caught on PostgreSQL: the request looks the PIN up before the roster
    event commits, and whatever releases quarantined punches must still find this one after
    both committed. Here the roster's transaction is held open while the punch is posted (it
    does not wait for the roster: no lock) and while the day worker takes the punch's PIN marker
    (the PIN is still unknown then); the roster's own marker, claimable only once it commits,
    has the worker release the punch."""
    if not database_url.startswith("postgresql"):
        pytest.skip("SQLite serialises the two transactions (BEGIN IMMEDIATE); the race is PostgreSQL's")
    register(client)
    runtime = runtime_of(app)
    event = make_event(EMPLOYEE_UPSERTED, subject=OTHER, agency=AGENCY, source="test",
                       data={"nip": OTHER, "nama": "X", "agency": AGENCY, "unit": "Sekretariat", "pin": "98"})
    roster_session = runtime.session()
    roster_session.begin()
    apply_roster_event(roster_session, event, agency_tz="Asia/Jakarta")  # not committed yet
    _, t = recent_workday_0745()
    r = client.post("/api/v1/punches", json={"punches": [{"pin": "98", "time": t}]}, headers=bearer(**DEVICE))
    assert r.status_code == 200 and r.json["quarantined"] == 1
    assert settle_days(runtime).pins == 1  # the punch's marker: the PIN names nobody yet
    with runtime.session() as s:
        assert s.execute(select(PunchRow.nip).where(PunchRow.person_key == "98")).scalar_one() is None
    roster_session.commit()
    roster_session.close()
    assert [e["type"] for e in outbox(app)] == ["kehadiran.punch.recorded.v1", "kehadiran.day.summarized.v1"]
    with runtime.session() as s:
        assert s.execute(select(PunchRow.nip).where(PunchRow.person_key == "98")).scalar_one() == OTHER
