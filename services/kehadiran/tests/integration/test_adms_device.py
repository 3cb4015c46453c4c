"""An unmodified ZKTeco device talking ADMS to kehadiran, on SQLite and PostgreSQL, through the Flask
test client: handshake, uploads, re-sent batches, command queue, refusals. Kafka is unreachable on
purpose (``127.0.0.1:1``): devices still get their ``OK``, the outbox holds the events."""
import json
from datetime import datetime, timedelta, timezone
from email.utils import parsedate_to_datetime
from pathlib import Path

import pytest
from sqlalchemy import func, select

from kehadiran.adapters.orm import Device, DeviceCommand, DeviceOperLog, DeviceUser, PunchRow
from kehadiran.entrypoints.app import create_app
from kehadiran.service_layer import devices as device_service
from kehadiran.entrypoints.runtime import settle_days
from kehadiran.service_layer.roster import apply_roster_event
from kinerja.auth import issue_token
from kinerja.config import DEV_JWT_SECRET
from kinerja.events import make_event
from kinerja.events.pegawai import EMPLOYEE_UPSERTED
from kinerja.migrations import upgrade
from kinerja.webapp import runtime_of

pytestmark = pytest.mark.integration
MIGRATIONS = Path(__file__).resolve().parents[2] / "migrations"
AGENCY = "disdik"
SN = "0316144680030"
NIP = "198503122010011001"
OTHER = "198601012011012002"
WIB = timezone(timedelta(hours=7))
OPERATOR = {"Authorization": "Bearer " + issue_token(DEV_JWT_SECRET, role="operator", agency="*")}


@pytest.fixture
def app(database_url):
    upgrade(MIGRATIONS, database_url, "heads")
    app = create_app({"database_url": database_url, "kafka_bootstrap": "127.0.0.1:1", "max_body_bytes": 64 * 1024})
    yield app
    runtime_of(app).dispose()


@pytest.fixture
def client(app):
    return app.test_client()


def roster(app, nip, pin):
    runtime = runtime_of(app)
    event = make_event(EMPLOYEE_UPSERTED, subject=nip, agency=AGENCY, source="test",
                       data={"nip": nip, "nama": "X", "agency": AGENCY, "unit": "Sekretariat", "pin": pin})
    with runtime.session() as s, s.begin():
        apply_roster_event(s, event, agency_tz="Asia/Jakarta")


def register(client, sn=SN, tz=7):
    r = client.post("/api/v1/devices", json={"sn": sn, "agency": AGENCY, "tz": tz, "name": "Lobi"}, headers=OPERATOR)
    assert r.status_code == 201, r.json


def outbox(app):
    runtime = runtime_of(app)
    settle_days(runtime)  # what the day worker does as markers commit
    with runtime.engine.connect() as c:
        rows = c.execute(select(runtime.outbox_table.c.value).order_by(runtime.outbox_table.c.id)).scalars().all()
    return [json.loads(v) for v in rows]


def age_contact(app, by, sn=SN):
    """The device's last contact ``by`` earlier, as if that much time had passed."""
    runtime = runtime_of(app)
    with runtime.session() as s, s.begin():
        device = s.get(Device, sn)
        device.last_contact_at -= by


def count(app, model, *where):
    runtime = runtime_of(app)
    with runtime.session() as s:
        return s.execute(select(func.count()).select_from(model).where(*where)).scalar_one()


def recent_workday():
    """The most recent past Monday–Thursday (WIB), so its day is over."""
    day = datetime.now(WIB).date() - timedelta(days=1)
    while day.weekday() > 3:
        day -= timedelta(days=1)
    return day


def assert_protocol_reply(r, status=200):
    assert r.status_code == status, r.get_data(as_text=True)
    assert r.mimetype == "text/plain"
    sent = parsedate_to_datetime(r.headers["Date"])
    assert r.headers["Date"].endswith(" GMT") and sent.utcoffset() == timedelta(0)
    assert abs((datetime.now(timezone.utc) - sent).total_seconds()) < 5
    return r.get_data(as_text=True)


def iclock(client, method, path, body=None, **args):
    query = "&".join(f"{k}={v}" for k, v in {"SN": SN, **args}.items())
    headers = {"User-Agent": "iClock Proxy/1.09"}
    if method == "GET":
        return client.get(f"/iclock/{path}?{query}", headers=headers)
    return client.post(f"/iclock/{path}?{query}", data=body, headers=headers, content_type="text/plain")


def test_a_devices_whole_conversation(app, client):
    register(client)
    roster(app, NIP, "100")
    roster(app, OTHER, "101")
    day = recent_workday().isoformat()

    # 1. handshake: the options the device runs with
    r = client.get(f"/iclock/cdata?SN={SN}&options=all&pushver=2.4.1&language=69&pushcommkey=abc123",
                   headers={"User-Agent": "iClock Proxy/1.09"})
    reply = assert_protocol_reply(r)
    lines = reply.splitlines()
    assert lines[0] == f"GET OPTION FROM: {SN}"
    assert {"ATTLOGStamp=None", "TimeZone=7", "Realtime=1", "Encrypt=None"} <= set(lines)

    # 2. a batch: two good lines, a malformed one, an unknown PIN
    batch = (f"100\t{day} 07:25:00\t0\t1\t0\t0\t0\n"
             f"101\t{day} 07:40:10\t0\t1\t0\t0\t0\n"
             f"100\t{day}T16:05:00\t1\t1\t0\t0\t0\n"
             f"555\t{day} 07:31:00\t0\t1\t0\t0\t0\n")
    r = iclock(client, "POST", "cdata", batch, table="ATTLOG", Stamp="9999")
    assert assert_protocol_reply(r) == "OK:3"  # 2 new + 1 quarantined; the malformed line is not counted
    assert count(app, PunchRow) == 3
    assert count(app, PunchRow, PunchRow.nip.is_(None)) == 1
    events = outbox(app)
    punches = [e for e in events if e["type"] == "kehadiran.punch.recorded.v1"]
    assert sorted(e["data"]["pin"] for e in punches) == ["100", "101"]
    assert {e["data"]["channel"] for e in punches} == {"adms"}
    assert {e["data"]["status"] for e in punches} == {None}  # STATUS 0 says nothing (see adapters/adms)
    late = [e["data"] for e in events if e["type"] == "kehadiran.day.summarized.v1" and e["subject"] == OTHER]
    assert late[-1]["minutes_late"] == 10

    # the device's row is written at most every few seconds (contact and stamps): the handshake
    # just did, so this upload's stamp waits for the next upload that many seconds later
    assert "ATTLOGStamp=None" in assert_protocol_reply(iclock(client, "GET", "cdata", options="all")).splitlines()
    age_contact(app, device_service.CONTACT_EVERY)

    # 3. the same batch again (lost reply): accepted, nothing doubles
    r = iclock(client, "POST", "cdata", batch, table="ATTLOG", Stamp="9999")
    assert assert_protocol_reply(r) == "OK:3"
    assert count(app, PunchRow) == 3
    assert outbox(app) == events

    # the stamp is kept and given back at the next handshake
    assert "ATTLOGStamp=9999" in assert_protocol_reply(iclock(client, "GET", "cdata", options="all")).splitlines()

    # 4. an operator queues a re-upload; getrequest hands it out once; devicecmd confirms it
    q = client.post(f"/api/v1/devices/{SN}/commands", headers=OPERATOR,
                    json={"kind": "reupload", "start": f"{day}T00:00:00", "end": f"{day}T23:59:59"})
    assert q.status_code == 201, q.json
    cmd_id = q.json["id"]
    assert q.json["status"] == "pending"
    r = iclock(client, "GET", "getrequest", INFO="Ver 8.0.4.2-20220301,12,10,1234,192.168.1.201")
    assert assert_protocol_reply(r) == (
        f"C:{cmd_id}:DATA QUERY ATTLOG StartTime={day} 00:00:00\tEndTime={day} 23:59:59\n")
    assert assert_protocol_reply(iclock(client, "GET", "getrequest")) == "OK"
    r = iclock(client, "POST", "devicecmd", f"ID={cmd_id}&Return=0&CMD=DATA\n")
    assert assert_protocol_reply(r) == "OK"
    [listed] = client.get(f"/api/v1/devices/{SN}/commands", headers=OPERATOR).json
    assert (listed["id"], listed["status"], listed["return_code"]) == (cmd_id, "done", 0)
    assert listed["sent_at"] and listed["result_at"]

    # the device re-uploads the day it was asked for: still nothing doubles
    age_contact(app, device_service.CONTACT_EVERY)
    r = iclock(client, "POST", "cdata", batch.replace("\n", "\r\n"), table="ATTLOG", Stamp="10000")
    assert assert_protocol_reply(r) == "OK:3"
    assert count(app, PunchRow) == 3 and outbox(app) == events

    # 5. heartbeat, and what the operator sees
    assert assert_protocol_reply(iclock(client, "GET", "ping")) == "OK"
    status = client.get(f"/api/v1/devices/{SN}/status", headers=OPERATOR).json
    assert status["firmware"] == "Ver 8.0.4.2-20220301"
    assert (status["user_count"], status["fp_count"], status["log_count"]) == (12, 10, 1234)
    assert status["online"] is True and status["last_contact_at"]
    assert status["quarantined"] == 1 and status["attlog_stamp"] == "10000"
    assert status["commands"] == {"pending": 0, "sent": 0, "done": 1, "failed": 0, "cancelled": 0}
    assert status["last_rejected"][0]["reason"].startswith("TIME must be")


def test_unknown_serial_number_is_refused_and_nothing_is_stored(app, client):
    roster(app, NIP, "100")
    day = recent_workday().isoformat()
    other = "NOTOURS0001"
    line = f"100\t{day} 07:25:00\t0\t1\t0\t0\t0\n"
    replies = [
        client.get(f"/iclock/cdata?SN={other}&options=all"),
        client.post(f"/iclock/cdata?SN={other}&table=ATTLOG&Stamp=1", data=line),
        client.post(f"/iclock/cdata?SN={other}&table=OPERLOG", data="USER PIN=1\tName=A\n"),
        client.post(f"/iclock/cdata?SN={other}&table=options", data="FWVersion=1"),
        client.get(f"/iclock/getrequest?SN={other}&INFO=Ver 1,1,1,1,10.0.0.1"),
        client.post(f"/iclock/devicecmd?SN={other}", data="ID=1&Return=0&CMD=CHECK"),
        client.get(f"/iclock/ping?SN={other}"),
    ]
    for r in replies:
        text = assert_protocol_reply(r, 403)
        assert "not registered" in text
    assert count(app, PunchRow) == 0 and count(app, Device) == 0
    assert count(app, DeviceUser) == 0 and count(app, DeviceCommand) == 0
    assert outbox(app) == []
    # no serial number at all
    assert "SN=" in assert_protocol_reply(client.get("/iclock/cdata?options=all"), 400)


def test_crlf_and_5_to_12_field_lines(app, client):
    register(client)
    roster(app, NIP, "100")
    day = recent_workday().isoformat()
    batch = (f"100\t{day} 07:20:00\t0\t1\t0\r\n"                                  # 5 fields
             f"100\t{day} 12:00:00\t2\t1\t0\t0\t0\r\n"                            # 7, break-out
             f"100\t{day} 16:10:00\t1\t15\t0\t0\t0\t0\t36.4\t0\t7\t\r\n")        # 12, check-out
    assert assert_protocol_reply(iclock(client, "POST", "cdata", batch, table="ATTLOG")) == "OK:3"
    # some firmware labels the body as a form: it is still read as lines, and still deduplicated
    r = client.post(f"/iclock/cdata?SN={SN}&table=ATTLOG", data=batch.encode(),
                    content_type="application/x-www-form-urlencoded")
    assert assert_protocol_reply(r) == "OK:3" and count(app, PunchRow) == 3
    runtime = runtime_of(app)
    with runtime.session() as s:
        statuses = s.execute(select(PunchRow.status).order_by(PunchRow.device_time)).scalars().all()
    assert statuses == [None, None, "out"]
    summary = [e for e in outbox(app) if e["type"] == "kehadiran.day.summarized.v1"][-1]["data"]
    assert summary["deductions"] == [] and summary["minutes_late"] == 0


def test_a_lone_afternoon_punch_with_status_0_is_a_departure(app, client):
    register(client)
    roster(app, NIP, "100")
    day = recent_workday().isoformat()
    r = iclock(client, "POST", "cdata", f"100\t{day} 16:05:00\t0\t1\t0\t0\t0\n", table="ATTLOG")
    assert assert_protocol_reply(r) == "OK:1"
    summary = [e["data"] for e in outbox(app) if e["type"] == "kehadiran.day.summarized.v1"][-1]
    assert summary["arrival"] is None and summary["departure"] is not None
    assert [d["code"] for d in summary["deductions"]] == ["TL4"]


def test_a_device_in_wita_punching_0815_local_is_on_time_in_wib(app, client):
    register(client, tz=8)
    roster(app, NIP, "100")
    day = recent_workday()
    assert "TimeZone=8" in assert_protocol_reply(iclock(client, "GET", "cdata", options="all")).splitlines()
    r = iclock(client, "POST", "cdata", f"100\t{day.isoformat()} 08:15:00\t0\t1\t0\t0\t0\n", table="ATTLOG")
    assert assert_protocol_reply(r) == "OK:1"
    [punch] = [e["data"] for e in outbox(app) if e["type"] == "kehadiran.punch.recorded.v1"]
    assert datetime.fromisoformat(punch["time"]) == datetime.combine(day, datetime.min.time(), WIB).replace(hour=7, minute=15)
    summary = [e["data"] for e in outbox(app) if e["type"] == "kehadiran.day.summarized.v1"][-1]
    assert summary["minutes_late"] == 0
    assert datetime.fromisoformat(summary["arrival"]).astimezone(WIB).time().isoformat() == "07:15:00"
    assert not [d for d in summary["deductions"] if d["code"].startswith("TL")]


def test_operlog_users_in_gb2312_and_oplog_kept_once(app, client):
    register(client)
    body = ("USER PIN=1\tName=王小明\tPri=0\tPasswd=123\tCard=\tGrp=1\n".encode("gb2312")
            + "USER PIN=2\tName=Budi Śantoso\tPri=14\tPasswd=\tCard=[99]\tGrp=1\r\n".encode("utf-8")
            + b"OPLOG 4\t0\t2026-11-27 08:00:00\t0\t0\t0\t0\n"
            + b"FP PIN=1\tFID=6\tSize=4\tValid=1\tTMP=AAAA\n"
            + b"NONSENSE\n")
    for _ in range(2):
        r = iclock(client, "POST", "cdata", body, table="OPERLOG", OpStamp="777")
        assert assert_protocol_reply(r) == "OK:4"
    runtime = runtime_of(app)
    with runtime.session() as s:
        users = s.execute(select(DeviceUser).order_by(DeviceUser.pin)).scalars().all()
        assert [(u.device_sn, u.pin, u.name, u.privilege, u.card) for u in users] == [
            (SN, "1", "王小明", 0, None), (SN, "2", "Budi Śantoso", 14, "[99]")]
    assert count(app, DeviceOperLog) == 1
    assert count(app, PunchRow) == 0
    # a device that declares its charset is read in it, even where the bytes would pass as UTF-8
    r = client.post(f"/iclock/cdata?SN={SN}&table=OPERLOG", data="USER PIN=3\tName=郑叶\n".encode("gb2312"),
                    content_type="text/plain; charset=GB2312")
    assert assert_protocol_reply(r) == "OK:1"
    with runtime.session() as s:
        assert s.get(DeviceUser, (SN, "3")).name == "郑叶"
    # a name changed on the device replaces the old one
    r = iclock(client, "POST", "cdata", "USER PIN=1\tName=Wang\tPri=0\n".encode(), table="OPERLOG")
    assert assert_protocol_reply(r) == "OK:1"
    with runtime.session() as s:
        assert s.get(DeviceUser, (SN, "1")).name == "Wang"
    status = client.get(f"/api/v1/devices/{SN}/status", headers=OPERATOR).json
    assert status["users_reported"] == 3 and status["operlog_stamp"] == "777"
    assert "OPERLOGStamp=777" in assert_protocol_reply(iclock(client, "GET", "cdata", options="all"))


def test_options_table_is_stored_for_the_operator(app, client):
    register(client)
    body = "~DeviceName=SpeedFace-V5L,FWVersion=Ver 6.60 Oct 9 2021,~OEMVendor=ZK, Inc.,UserCount=250,FPCount=480"
    assert assert_protocol_reply(iclock(client, "POST", "cdata", body, table="options")) == "OK"
    status = client.get(f"/api/v1/devices/{SN}/status", headers=OPERATOR).json
    assert status["options"]["~OEMVendor"] == "ZK, Inc."
    assert status["firmware"] == "Ver 6.60 Oct 9 2021" and status["user_count"] == 250 and status["fp_count"] == 480
    assert status["options_at"]


def test_far_future_times_are_malformed_and_today_counts(app, client):
    register(client)
    roster(app, NIP, "100")
    now_local = datetime.now(WIB).replace(microsecond=0, tzinfo=None)
    soon = now_local - timedelta(minutes=1)
    future = now_local + timedelta(days=2)
    batch = (f"100\t{soon:%Y-%m-%d %H:%M:%S}\t0\t1\t0\t0\t0\n"
             f"100\t{future:%Y-%m-%d %H:%M:%S}\t0\t1\t0\t0\t0\n")
    assert assert_protocol_reply(iclock(client, "POST", "cdata", batch, table="ATTLOG")) == "OK:1"
    assert count(app, PunchRow) == 1
    status = client.get(f"/api/v1/devices/{SN}/status", headers=OPERATOR).json
    assert status["last_rejected"][0]["reason"] == "TIME is more than a day in the future"
    # "today" is the agency's day; a punch a minute ago is today's unless we just crossed midnight
    if soon.date() == now_local.date():
        assert status["records_today"] == 1
    assert status["received_today"] == 1


def test_oversized_body_gets_413_and_nothing_is_stored(app, client):
    register(client)
    roster(app, NIP, "100")
    day = recent_workday().isoformat()
    line = f"100\t{day} 07:25:00\t0\t1\t0\t0\t0\n"
    r = iclock(client, "POST", "cdata", line * 4000, table="ATTLOG")
    assert "ERROR" in assert_protocol_reply(r, 413)
    assert count(app, PunchRow) == 0 and outbox(app) == []


def test_unasked_tables_are_acknowledged_and_unknown_ones_refused(app, client):
    register(client)
    assert assert_protocol_reply(iclock(client, "POST", "cdata", "PIN=1\tSN=x", table="ATTPHOTO")) == "OK"
    assert "unknown table" in assert_protocol_reply(iclock(client, "POST", "cdata", "x", table="SECRET"), 400)


def test_results_of_other_devices_commands_are_ignored(app, client):
    register(client)
    register(client, sn="OTHER0002")
    q = client.post("/api/v1/devices/OTHER0002/commands", headers=OPERATOR, json={"kind": "check"})
    assert q.status_code == 201
    assert assert_protocol_reply(iclock(client, "GET", "getrequest")) == "OK"  # not this device's
    r = iclock(client, "POST", "devicecmd", f"ID={q.json['id']}&Return=0&CMD=CHECK\nID=abc\n")
    assert assert_protocol_reply(r) == "OK"
    [cmd] = client.get("/api/v1/devices/OTHER0002/commands", headers=OPERATOR).json
    assert cmd["status"] == "pending" and cmd["return_code"] is None


def test_failed_commands_and_several_at_once(app, client):
    register(client)
    ids = [client.post(f"/api/v1/devices/{SN}/commands", headers=OPERATOR, json=body).json["id"]
           for body in ({"kind": "user", "pin": "100", "name": "Budi"}, {"kind": "check"}, {"kind": "info"})]
    reply = assert_protocol_reply(iclock(client, "GET", "getrequest"))
    assert reply.splitlines() == [f"C:{ids[0]}:DATA UPDATE USERINFO PIN=100\tName=Budi",
                                  f"C:{ids[1]}:CHECK", f"C:{ids[2]}:INFO"]
    body = f"ID={ids[0]}&Return=0&CMD=DATA\r\nID={ids[1]}&Return=-1002&CMD=CHECK\r\n"
    assert assert_protocol_reply(iclock(client, "POST", "devicecmd", body)) == "OK"
    listed = {c["id"]: c for c in client.get(f"/api/v1/devices/{SN}/commands", headers=OPERATOR).json}
    assert [listed[i]["status"] for i in ids] == ["done", "failed", "sent"]
    assert listed[ids[1]]["return_code"] == -1002
    body = f"ID={ids[2]}&Return=0&CMD=INFO\n~DeviceName=SpeedFace-V5L\nUserCount=12\n"
    assert assert_protocol_reply(iclock(client, "POST", "devicecmd", body)) == "OK"
    [info] = [c for c in client.get(f"/api/v1/devices/{SN}/commands", headers=OPERATOR).json if c["id"] == ids[2]]
    assert info["status"] == "done" and info["result"]["~DeviceName"] == "SpeedFace-V5L"


def test_the_same_batch_sent_concurrently_is_stored_once(app, client):
    """A device that times out re-sends while the first upload is still being stored."""
    from concurrent.futures import ThreadPoolExecutor

    register(client)
    pins = [str(p) for p in range(200, 230)]
    for k, pin in enumerate(pins):
        roster(app, f"1990010120100110{k:02d}", pin)
    day = recent_workday().isoformat()
    batch = "".join(f"{pin}\t{day} 07:{10 + k:02d}:00\t0\t1\t0\t0\t0\n" for k, pin in enumerate(pins))
    batch += f"999\t{day} 07:00:00\t0\t1\t0\t0\t0\n"  # unknown PIN, quarantined once

    def send(_):
        return app.test_client().post(f"/iclock/cdata?SN={SN}&table=ATTLOG&Stamp=5", data=batch)

    with ThreadPoolExecutor(4) as pool:
        replies = list(pool.map(send, range(4)))
    assert [assert_protocol_reply(r) for r in replies] == ["OK:31"] * 4
    assert count(app, PunchRow) == 31
    punch_events = [e for e in outbox(app) if e["type"] == "kehadiran.punch.recorded.v1"]
    assert len(punch_events) == 30 and len({e["data"]["punch_id"] for e in punch_events}) == 30


def test_through_a_real_gunicorn_every_reply_has_one_gmt_date(sqlite_url, tmp_path):
    """The test client has no server; under gunicorn the Date header is the server's, sent once."""
    import http.client
    import os
    import signal
    import subprocess
    import sys

    from kinerja.localbroker import free_port
    from kinerja.testing import wait_until

    upgrade(MIGRATIONS, sqlite_url, "heads")
    port = free_port()
    env = {**os.environ, "KEHADIRAN_DATABASE_URL": sqlite_url, "KINERJA_KAFKA_BOOTSTRAP": "127.0.0.1:1"}
    log = open(tmp_path / "gunicorn.log", "wb")
    proc = subprocess.Popen([sys.executable, "-m", "gunicorn", "--bind", f"127.0.0.1:{port}", "--workers", "1",
                             "kehadiran.entrypoints.app:create_app()"],
                            env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)

    def request(method, path, body=None, headers=None):
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        try:
            conn.request(method, path, body=body, headers=headers or {})
            resp = conn.getresponse()
            return resp.status, resp.msg.get_all("Date"), resp.getheader("Content-Type"), resp.read().decode()
        finally:
            conn.close()

    try:
        wait_until(lambda: request("GET", "/healthz")[0] == 200, timeout_s=30, message="gunicorn up")
        status, _, _, _ = request("POST", "/api/v1/devices", body=json.dumps({"sn": SN, "agency": AGENCY, "tz": 7}),
                                  headers={**OPERATOR, "Content-Type": "application/json"})
        assert status == 201
        day = recent_workday().isoformat()
        exchanges = [
            ("GET", f"/iclock/cdata?SN={SN}&options=all&pushver=2.4.1", None, 200, f"GET OPTION FROM: {SN}"),
            ("POST", f"/iclock/cdata?SN={SN}&table=ATTLOG&Stamp=1", f"77\t{day} 07:25:00\t0\t1\t0\t0\t0\r\n", 200, "OK:1"),
            ("GET", f"/iclock/getrequest?SN={SN}", None, 200, "OK"),
            ("GET", f"/iclock/ping?SN={SN}", None, 200, "OK"),
            ("GET", "/iclock/ping?SN=UNKNOWN1", None, 403, "ERROR: device UNKNOWN1 is not registered"),
        ]
        for method, path, body, want_status, want_start in exchanges:
            status, dates, ctype, text = request(method, path, body=body, headers={"User-Agent": "iClock Proxy/1.09"})
            assert status == want_status and text.startswith(want_start), (path, status, text)
            assert ctype.startswith("text/plain")
            assert len(dates) == 1 and dates[0].endswith(" GMT"), dates
            sent = parsedate_to_datetime(dates[0])
            assert abs((datetime.now(timezone.utc) - sent).total_seconds()) < 5
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(30)
        log.close()


def test_with_the_broker_down_the_device_gets_ok_and_the_relay_publishes_each_punch_once_later(
        sqlite_url, kafka_bootstrap, topic_prefix):
    from kafka import KafkaConsumer

    from kehadiran.entrypoints.runtime import make_runtime
    from kinerja.config import load_settings
    from kinerja.events import decode_event
    from kinerja.messaging import topics
    from kinerja.testing import wait_until

    upgrade(MIGRATIONS, sqlite_url, "heads")
    # the web process sees no broker at all
    app = create_app({"database_url": sqlite_url, "kafka_bootstrap": "127.0.0.1:1", "topic_prefix": topic_prefix})
    client = app.test_client()
    register(client)
    roster(app, NIP, "100")
    day = recent_workday().isoformat()
    batch = f"100\t{day} 07:25:00\t0\t1\t0\t0\t0\n100\t{day} 16:10:00\t1\t1\t0\t0\t0\n"
    for _ in range(3):  # re-sent twice
        assert assert_protocol_reply(iclock(client, "POST", "cdata", batch, table="ATTLOG")) == "OK:2"
    settle_days(runtime_of(app))  # the day worker, whose events wait in the outbox too
    runtime_of(app).dispose()

    # the broker is back: the relay drains the outbox
    runtime = make_runtime(load_settings("kehadiran", {"database_url": sqlite_url, "kafka_bootstrap": kafka_bootstrap,
                                                       "topic_prefix": topic_prefix}))
    relay = runtime.relay()
    consumer = KafkaConsumer(topics.topic(topics.KEHADIRAN, topic_prefix), bootstrap_servers=kafka_bootstrap,
                             auto_offset_reset="earliest", enable_auto_commit=False, consumer_timeout_ms=200)
    got = []
    try:
        wait_until(lambda: relay.publish_batch() == 0 and relay.pending() == 0, timeout_s=60, message="outbox drained")

        def punches_arrived():
            got.extend(decode_event(m.value) for m in consumer)
            return len([e for e in got if e.type == "kehadiran.punch.recorded.v1"]) >= 2

        wait_until(punches_arrived, timeout_s=60, message="two punches on kehadiran.v1")
    finally:
        consumer.close()
        relay._drop_producer()
        runtime.dispose()
    punches = [e for e in got if e.type == "kehadiran.punch.recorded.v1"]
    assert sorted((e.data["status"] or "-", e.data["channel"], e.subject) for e in punches) == [
        ("-", "adms", NIP), ("out", "adms", NIP)]
    summaries = [e for e in got if e.type == "kehadiran.day.summarized.v1"]
    assert summaries and summaries[-1].data["deductions"] == []


def test_a_one_line_upload_finds_its_person_with_the_device_as_a_batch_does(app, client):
    """A terminal pushing as it goes sends one line a request: its PIN's NIP comes with the
    device's row (one statement), by the same rules as a batch's look-up: the agency's PIN rule,
    the lower NIP for a PIN two active ASN share, nobody for an inactive ASN or an unknown PIN."""
    from sqlalchemy import update

    from kehadiran.adapters.orm import Employee

    register(client)
    roster(app, NIP, "7")
    roster(app, OTHER, "5")
    roster(app, "198001012005011003", "5")  # shares PIN 5 with OTHER, the lower NIP
    roster(app, "199001012015011004", "9")
    with runtime_of(app).session() as s, s.begin():
        s.execute(update(Employee).where(Employee.nip == "199001012015011004").values(active=False))
    day = recent_workday()

    def upload(pin: str, minute: int) -> None:
        body = f"{pin}\t{day} 07:{minute:02d}:00\t0\t1\t0\t0\t0\n".encode()
        assert assert_protocol_reply(iclock(client, "POST", "cdata", body, table="ATTLOG", Stamp=1)) == "OK:1"

    upload("007", 1)  # the agency keeps zeros meaningful (the default): nobody
    upload("5", 2)
    upload("9", 3)
    upload("77", 4)
    upload("7", 5)
    r = client.put("/api/v1/agency-settings", json={"agency": AGENCY, "ignore_pin_zeros": True}, headers=OPERATOR)
    assert r.status_code == 200 and r.json["ignore_pin_zeros"] is True, r.json
    upload("007", 6)  # now PIN 7's

    with runtime_of(app).session() as s:
        stored = {(p.person_key, p.device_time.minute): p.nip for p in s.scalars(select(PunchRow))}
    assert stored == {("007", 1): None, ("5", 2): "198001012005011003", ("9", 3): None, ("77", 4): None,
                      ("7", 5): NIP, ("007", 6): NIP}


def test_a_one_line_upload_reads_the_database_once(app, client, database_url):
    """The request's one read is the device's row with its person's NIP (the writes are one
    INSERT each for punches, outbox and markers): a read a request less than a look-up each."""
    if not database_url.startswith("sqlite"):
        pytest.skip("statements counted on SQLite (the same code path on PostgreSQL)")
    from sqlalchemy import event

    register(client)
    roster(app, NIP, "7")
    engine = runtime_of(app).engine
    statements: list[str] = []
    engine.dispose()  # connections from here on are traced
    event.listen(engine, "connect", lambda dbapi_conn, _r: dbapi_conn.set_trace_callback(statements.append))
    day = recent_workday()
    # the device's first contact from its address goes through the registry's checks (its own reads)
    first = f"7\t{day} 06:59:00\t0\t1\t0\t0\t0\n".encode()
    assert assert_protocol_reply(iclock(client, "POST", "cdata", first, table="ATTLOG", Stamp=1)) == "OK:1"
    for minute, pin in enumerate(["7", "8"]):  # a known PIN, an unknown one
        statements.clear()
        body = f"{pin}\t{day} 07:{minute:02d}:00\t0\t1\t0\t0\t0\n".encode()
        assert assert_protocol_reply(iclock(client, "POST", "cdata", body, table="ATTLOG", Stamp=1)) == "OK:1"
        reads = [s for s in statements if s.lstrip().upper().startswith("SELECT")]
        assert len(reads) == 1 and "FROM devices" in reads[0] and "employees" in reads[0], statements
