"""Issue 19 item 2, through the API on SQLite and PostgreSQL: PP 94/2021 alerts follow the facts
both ways. A cuti, a late device punch or an approved correction that brings the year's TK days
below an alerted threshold publishes a withdrawal; crossing it again raises it again; re-closing
changes nothing; the same facts in another order end with the same alerts."""
import json
from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import select

from kehadiran.adapters.calendar_orm import DisciplineAlertRow
from kehadiran.entrypoints.app import create_app
from kehadiran.entrypoints.runtime import settle_days
from kehadiran.entrypoints.migrate import main as migrate
from kehadiran.service_layer.roster import apply_roster_event
from kinerja.auth import issue_token
from kinerja.config import DEV_JWT_SECRET
from kinerja.events import decode_event, make_event
from kinerja.events.pegawai import EMPLOYEE_UPSERTED
from kinerja.webapp import runtime_of

pytestmark = pytest.mark.integration
AGENCY = "disdik"
BOSS, A, B = "197001012000011001", "199001012015011003", "199101012016011004"
PINS = {A: "3", B: "4"}
WIB = timezone(timedelta(hours=7))
ALERT, WITHDRAWN = "kehadiran.discipline.alert.v1", "kehadiran.discipline.alert.withdrawn.v1"


def bearer(role, nip=None, agency=AGENCY, **kw):
    return {"Authorization": "Bearer " + issue_token(DEV_JWT_SECRET, role=role, agency=agency, nip=nip, **kw)}


ADMIN, BOSS_T = bearer("admin", BOSS), bearer("atasan", BOSS)


def last_weeks_monday_to_thursday():
    """Monday to Thursday of a past week within the last three weeks, all in one year."""
    today = datetime.now(WIB).date()
    monday = today - timedelta(days=today.weekday() + 7)
    while monday.year != (monday + timedelta(days=3)).year:
        monday -= timedelta(days=7)
    return [monday + timedelta(days=i) for i in range(4)]


@pytest.fixture
def app(database_url):
    migrate(database_url)
    app = create_app({"database_url": database_url, "kafka_bootstrap": "127.0.0.1:1"})
    rt = runtime_of(app)
    for nip, atasan in ((BOSS, None), (A, BOSS), (B, BOSS)):
        ev = make_event(EMPLOYEE_UPSERTED, subject=nip, agency=AGENCY, source="test",
                        time=datetime.now(timezone.utc) - timedelta(days=60),
                        data={"nip": nip, "nama": nip[-4:], "agency": AGENCY, "unit": "Sekretariat",
                              "atasan_nip": atasan, "pin": PINS.get(nip)})
        with rt.session() as s, s.begin():
            apply_roster_event(s, ev, agency_tz="Asia/Jakarta")
    op = bearer("operator", agency="*")
    assert app.test_client().post("/api/v1/devices", json={"sn": "LMS0001", "agency": AGENCY, "tz": 7},
                                  headers=op).status_code == 201
    yield app
    rt.dispose()


def alert_events(app, nip):
    """The alert and withdrawal events of ``nip``, as consumers decode them, in order."""
    rt = runtime_of(app)
    settle_days(rt)  # what the day worker does as markers commit
    with rt.engine.connect() as c:
        raw = c.execute(select(rt.outbox_table.c.value).order_by(rt.outbox_table.c.id)).scalars().all()
    out = []
    for value in raw:
        if json.loads(value)["type"] in (ALERT, WITHDRAWN):
            ev = decode_event(value)  # each against its schema in shared/
            if ev.subject == nip:
                out.append((ev.type, ev.data["threshold"], ev.data["days"]))
    return out


def standing(app, nip):
    rt = runtime_of(app)
    settle_days(rt)  # what the day worker does as markers commit
    with rt.session() as s:
        return sorted((r.kind, r.threshold) for r in s.execute(
            select(DisciplineAlertRow).where(DisciplineAlertRow.nip == nip)).scalars())


def close(client, first, last):
    r = client.post("/api/v1/days/close", headers=ADMIN, json={"start_date": str(first), "end_date": str(last)})
    assert r.status_code == 200, r.json
    return r.json


def leave(client, nip, day, path="/api/v1/leave"):
    body = {"nip": nip, "start_date": str(day), "end_date": str(day)}
    if path == "/api/v1/leave":
        body["kind"] = "cuti"
    r = client.post(path, headers=BOSS_T, json=body)
    assert r.status_code in (200, 201), r.json


def test_a_cuti_withdraws_the_alert_and_crossing_again_raises_it_again(app):
    client = app.test_client()
    mon, tue, wed, thu = last_weeks_monday_to_thursday()
    close(client, mon, wed)
    assert alert_events(app, A) == [(ALERT, 3, 3)] and standing(app, A) == [("cumulative", 3)]

    leave(client, A, tue)  # a cuti entered late for Tuesday: 2 TK days
    assert alert_events(app, A)[1:] == [(WITHDRAWN, 3, 2)] and standing(app, A) == []
    rt = runtime_of(app)
    with rt.engine.connect() as c:
        last = json.loads(c.execute(select(rt.outbox_table.c.value).order_by(rt.outbox_table.c.id.desc())
                                    .limit(1)).scalar_one())
    assert last["type"] == WITHDRAWN and last["data"]["raised_on"] == str(wed) and last["data"]["kind"] == "cumulative"

    close(client, mon, wed)  # the same facts again: nothing new
    assert len(alert_events(app, A)) == 2

    leave(client, A, tue, path="/api/v1/leave/cancel")  # the cuti withdrawn: 3 TK days again
    assert alert_events(app, A)[2:] == [(ALERT, 3, 3)] and standing(app, A) == [("cumulative", 3)]

    # a device's backlog arriving late: Monday was worked after all
    r = client.post("/api/v1/punches", headers=bearer("device", device_sn="LMS0001"), json={"punches": [
        {"pin": PINS[A], "time": f"{mon}T07:20:00+07:00"}, {"pin": PINS[A], "time": f"{mon}T16:10:00+07:00"}]})
    assert r.json["accepted"] == 2
    assert alert_events(app, A)[3:] == [(WITHDRAWN, 3, 2)] and standing(app, A) == []

    # Thursday closed: 3 again; an approved correction of Thursday brings it back to 2
    close(client, thu, thu)
    assert alert_events(app, A)[4:] == [(ALERT, 3, 3)]
    asked = client.post("/api/v1/corrections", headers=bearer("pegawai", A), json={
        "date": str(thu), "reason": "mesin absen rusak pagi itu",
        "punches": [{"time": f"{thu}T07:15:00+07:00", "status": "in"}, {"time": f"{thu}T16:02:00+07:00", "status": "out"}]})
    assert asked.status_code == 201, asked.json
    assert client.post(f"/api/v1/corrections/{asked.json['id']}/approve", headers=BOSS_T, json={}).status_code == 200
    assert alert_events(app, A)[5:] == [(WITHDRAWN, 3, 2)] and standing(app, A) == []


def test_the_same_facts_in_another_order_end_with_the_same_alerts(app):
    client = app.test_client()
    mon, tue, wed, _ = last_weeks_monday_to_thursday()
    # A: closed first, excused after; B: excused first, closed after
    close(client, mon, wed)
    leave(client, A, tue)
    leave(client, B, tue)
    close(client, mon, wed)
    assert standing(app, A) == standing(app, B) == []
    assert [t for t, _, _ in alert_events(app, A)] == [ALERT, WITHDRAWN]
    assert [t for t, _, _ in alert_events(app, B)] == [ALERT, WITHDRAWN]  # B was closed with A at first
    assert standing(app, BOSS) == [("cumulative", 3)] and alert_events(app, BOSS) == [(ALERT, 3, 3)]
