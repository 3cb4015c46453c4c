"""Field realities (issue 17, items 1 and 2) through the real pipeline: simulated terminals speaking
the ADMS push protocol over HTTP to kehadiran under gunicorn, its consumer reading the roster from
the broker, its day worker and closer, its relay publishing the day summaries back to the broker.

- one deployment (``KINERJA_TIMEZONE`` WIB) with a WIB, a WITA and a WIT agency, a terminal in
  each on its own wall clock: the same local punch times give the same codes in each, and the
  closer closes each agency's days in its own zone (TK where nobody punched);
- the same person on the lobby's and the floor's terminal 40 s apart is one punch;
- a terminal keeping PINs with leading zeros (``007``) names the roster's ``7`` where the agency
  says so, and nobody where it does not;
- a command whose reply never comes is handed out again, then failed, and the operator sees it;
- push 3.x firmware: time sync, query answers, photos kept and templates refused (as configured
  here), all acknowledged, never an error.
"""
from __future__ import annotations

import base64
import json
from datetime import date, datetime, timedelta, timezone

import pytest
import requests
from kafka import KafkaConsumer
from sqlalchemy import create_engine, text

from kinerja.auth import issue_token
from kinerja.cli.roster import parse_roster, publish
from kinerja.config import DEV_JWT_SECRET
from kinerja.localbroker import free_port
from kinerja.messaging import topics
from kinerja.stack import Stack
from kinerja.terminal_sim import HttpTransport, Terminal
from kinerja.testing import create_postgres_database, test_failed, wait_until

pytestmark = pytest.mark.e2e
WIB = timezone(timedelta(hours=7))
# agency → (roster zone label, device offset in hours, the ASN, their PIN)
AGENCIES = {
    "kab-barat": ("WIB", 7, "198001012005011001", "1"),
    "kab-tengah": ("WITA", 8, "198001012005011002", "1"),
    "kab-timur": ("WIT", 9, "198001012005011003", "1"),
}
ZONES = {"WIB": "Asia/Jakarta", "WITA": "Asia/Makassar", "WIT": "Asia/Jayapura"}
# kab-barat: a second ASN who punches on two terminals; kab-timur and kab-tengah: PIN 7, whose
# terminals keep it as 007 (kab-timur ignores the zeros, kab-tengah does not)
LOBBY_FLOOR = "198001012005011004"
SEVEN = {"kab-timur": "198001012005011005", "kab-tengah": "198001012005011006"}
OPERATOR = {"Authorization": "Bearer " + issue_token(DEV_JWT_SECRET, role="operator", agency="*")}


def admin(agency):
    return {"Authorization": "Bearer " + issue_token(DEV_JWT_SECRET, role="admin", agency=agency,
                                                  nip="197001012000011099")}


def over_workdays(n: int) -> list[date]:
    """The n most recent Monday–Thursday dates over in every zone (before WIB's today), oldest first."""
    day, out = datetime.now(WIB).date() - timedelta(days=1), []
    while len(out) < n:
        if day.weekday() <= 3:
            out.append(day)
        day -= timedelta(days=1)
    return sorted(out)


DAY_A, DAY_B = over_workdays(2)


@pytest.fixture(scope="module")
def stack(kafka_bootstrap, postgres_server, tmp_path_factory):
    from kinerja.messaging.topics import ensure_topics
    import uuid

    prefix = "t" + uuid.uuid4().hex[:10]
    ensure_topics(kafka_bootstrap, prefix=prefix, partitions=3)
    s = Stack(var_dir=tmp_path_factory.mktemp("field") / "var", kafka_bootstrap=kafka_bootstrap, topic_prefix=prefix,
              ports={"kehadiran": free_port()}, services=("kehadiran",),
              database_urls={"kehadiran": create_postgres_database(postgres_server)},
              extra_env={"KINERJA_TIMEZONE": "Asia/Jakarta", "KEHADIRAN_COMMAND_REPLY_S": "1",
                         "KEHADIRAN_COMMAND_ATTEMPTS": "2", "KEHADIRAN_DEVICE_PHOTOS": "store",
                         "KEHADIRAN_DEVICE_TEMPLATES": "off", "KEHADIRAN_CLOSE_INTERVAL_S": "1"})
    s.start()
    failed = []
    try:
        s.wait_ready(90)
        load_roster(s)
        yield s, failed
    finally:
        if failed:
            for p in s.procs:
                print(f"--- {p.name}\n{s.tail(p, 60)}")
        s.stop()


@pytest.fixture
def deployment(stack, request):
    s, failed = stack
    yield s
    if test_failed(request):
        failed.append(request.node.name)


def load_roster(s: Stack) -> None:
    rows = ["nip,nama,agency,unit,jabatan,atasan_nip,pin,tmt,timezone"]
    for agency, (label, _, nip, pin) in AGENCIES.items():
        rows.append(f"{nip},ASN {label},{agency},Umum,Analis,,{pin},{DAY_A.isoformat()},{label}")
    rows.append(f"{LOBBY_FLOOR},Dua Mesin,kab-barat,Umum,Analis,,2,{DAY_A.isoformat()},WIB")
    for agency, nip in SEVEN.items():
        rows.append(f"{nip},Tujuh,{agency},Umum,Analis,,7,{DAY_A.isoformat()},{AGENCIES[agency][0]}")
    parsed = parse_roster("\n".join(rows) + "\n")
    assert parsed.errors == []
    publish(parsed.events, s.kafka_bootstrap, s.topic_prefix)
    # kehadiran knows each agency's zone once its consumer has read the roster
    for agency, (label, *_) in AGENCIES.items():
        wait_until(lambda: settings(s, agency).get("timezone_from_roster"), 60,
                   message=f"{agency}'s zone from the roster")
        assert settings(s, agency)["timezone"] == ZONES[label]


def settings(s: Stack, agency: str) -> dict:
    r = requests.get(f"{s.url('kehadiran')}/api/v1/agency-settings", headers=admin(agency), timeout=10)
    assert r.status_code == 200, r.text
    return r.json()


def terminal(s: Stack, sn: str, agency: str, tz_hours: int, **kw) -> Terminal:
    r = requests.post(f"{s.url('kehadiran')}/api/v1/devices", json={"sn": sn, "agency": agency, "tz": tz_hours},
                      headers=OPERATOR, timeout=10)
    assert r.status_code == 201, r.text
    t = Terminal(sn, HttpTransport(s.url("kehadiran")), tz_offset_minutes=tz_hours * 60, **kw)
    assert t.handshake().status == 200
    return t


def at(day: date, hh: int, mm: int, ss: int = 0) -> datetime:
    return datetime(day.year, day.month, day.day, hh, mm, ss)


def days(s: Stack, agency: str, nip: str) -> dict[str, dict]:
    out = {}
    for period in sorted({DAY_A.strftime("%Y-%m"), DAY_B.strftime("%Y-%m")}):
        r = requests.get(f"{s.url('kehadiran')}/api/v1/days", params={"nip": nip, "period": period},
                         headers=admin(agency), timeout=10)
        assert r.status_code == 200, r.text
        out.update({d["date"]: d for d in r.json()})
    return out


def codes(day: dict) -> list[str]:
    return sorted(d["code"] for d in day["deductions"])


class Summaries:
    """``kehadiran.day.summarized.v1`` as the broker carries them: the latest per (NIP, date)."""

    def __init__(self, s: Stack):
        self.latest: dict[tuple[str, str], dict] = {}
        self.consumer = KafkaConsumer(topics.topic(topics.KEHADIRAN, s.topic_prefix),
                                      bootstrap_servers=s.kafka_bootstrap, group_id=None,
                                      auto_offset_reset="earliest", consumer_timeout_ms=500)

    def read(self) -> "Summaries":
        for record in self.consumer:
            event = json.loads(record.value)
            if event["type"] == "kehadiran.day.summarized.v1":
                key = (event["data"]["nip"], event["data"]["date"])
                if key not in self.latest or self.latest[key]["version"] <= event["data"]["version"]:
                    self.latest[key] = event["data"]
        return self

    def close(self) -> None:
        self.consumer.close()


def test_three_zones_same_local_times_same_codes_and_each_closed_in_its_own_zone(deployment):
    s = deployment
    expected = {DAY_A.isoformat(): ["TL1"], DAY_B.isoformat(): ["PSW4", "TL2"]}
    for k, (agency, (label, tz, nip, pin)) in enumerate(AGENCIES.items()):
        t = terminal(s, f"ZONE{k}", agency, tz)
        # the terminal's own wall clock: 07:45–16:05 on day A, 08:10 and no departure on day B
        t.punch(pin, at(DAY_A, 7, 45))
        t.punch(pin, at(DAY_A, 16, 5), status=1)
        t.punch(pin, at(DAY_B, 8, 10))
        assert t.push().text == "OK:3"
        # the terminal's clock is the agency's: the zone's offset
        assert t.sync_time()[1] == f"+0{tz}00"

    broker = Summaries(s)
    try:
        def settled():
            broker.read()
            return all(codes(broker.latest[(nip, d)]) == want and broker.latest[(nip, d)]["final"]
                       for _, _, nip, _ in AGENCIES.values() for d, want in expected.items()
                       if (nip, d) in broker.latest) and \
                all((nip, d) in broker.latest for _, _, nip, _ in AGENCIES.values() for d in expected)
        wait_until(settled, 90, interval_s=0.3, message="each agency's day summaries on the broker")
        for agency, (label, tz, nip, _) in AGENCIES.items():
            a = broker.latest[(nip, DAY_A.isoformat())]
            # arrival in the agency's own offset: 07:45 local everywhere
            assert a["arrival"] == f"{DAY_A.isoformat()}T07:45:00+0{tz}:00", (agency, a)
            assert a["departure"] == f"{DAY_A.isoformat()}T16:05:00+0{tz}:00", (agency, a)
    finally:
        broker.close()

    # the closer, in each agency's zone, closes every workday since the TMT up to its yesterday:
    # the days nobody punched are TK, the same days in each agency
    def closed(agency, nip):
        got = days(s, agency, nip)
        return got if all(d["final"] for d in got.values()) and DAY_B.isoformat() in got else None

    per_agency = {}
    for agency, (_, _, nip, _) in AGENCIES.items():
        got = wait_until(lambda: closed(agency, nip), 90, interval_s=0.3, message=f"{agency}'s days closed")
        per_agency[agency] = {d: codes(v) for d, v in got.items()}
        for d, want in expected.items():
            assert per_agency[agency][d] == want, (agency, d)
        untouched = [d for d in got if d not in expected and got[d]["workday"]]
        assert all(per_agency[agency][d] == ["TK"] for d in untouched), (agency, per_agency[agency])
    # the same days in each agency, up to the yesterday of the zone furthest behind: between 15:00
    # and 17:00 UTC a zone further east is already on the next date, so its closer has closed one
    # day more (its own yesterday), which the zones behind have not reached yet
    common = set.intersection(*(set(v) for v in per_agency.values()))
    first = {d: per_agency["kab-barat"][d] for d in common}
    for agency, got in per_agency.items():
        assert {d: got[d] for d in common} == first, agency
        assert all(d > max(common) for d in set(got) - common), (agency, sorted(set(got) - common))
        assert len(set(got) - common) <= 1, (agency, sorted(set(got) - common))


def test_two_terminals_within_the_burst_window_are_one_punch(deployment):
    s = deployment
    lobby = terminal(s, "LOBBY1", "kab-barat", 7)
    floor = terminal(s, "FLOOR1", "kab-barat", 7)
    assert settings(s, "kab-barat")["burst_window_s"] == 180  # the default, a few minutes
    # leaving without having punched in: the floor's terminal at 16:05, the lobby's 40 s later
    floor.burst(lobby, "2", at(DAY_A, 16, 5))
    broker = Summaries(s)
    try:
        def summary():
            found = broker.read().latest.get((LOBBY_FLOOR, DAY_A.isoformat()))
            return found if found and len(found["punch_event_ids"]) == 2 and found["final"] else None
        day = wait_until(summary, 60, interval_s=0.3, message="the day of the two punches")
    finally:
        broker.close()
    # one punch, a departure (not an arrival at 16:05 and a departure 40 s later); no arrival
    assert day["departure"] == f"{DAY_A.isoformat()}T16:05:00+07:00"
    assert day["arrival"] is None
    assert codes(day) == ["TL4"]


def test_pin_leading_zeros_name_the_same_person_where_the_agency_says_so(deployment):
    s = deployment
    r = requests.put(f"{s.url('kehadiran')}/api/v1/agency-settings", json={"ignore_pin_zeros": True},
                     headers=admin("kab-timur"), timeout=10)
    assert r.status_code == 200 and r.json()["ignore_pin_zeros"] is True, r.text
    assert settings(s, "kab-tengah")["ignore_pin_zeros"] is False
    east = terminal(s, "ZEROS-WIT", "kab-timur", 9, pin_width=3)
    central = terminal(s, "ZEROS-WITA", "kab-tengah", 8, pin_width=3)
    for t in (east, central):
        t.punch("7", at(DAY_A, 7, 30))
        t.punch("7", at(DAY_A, 16, 0), status=1)
        assert t.pending[0].startswith("007\t")
        assert t.push().text == "OK:2"

    def east_day():
        return days(s, "kab-timur", SEVEN["kab-timur"]).get(DAY_A.isoformat(), {}).get("arrival")
    assert wait_until(east_day, 60, message="007 counted as PIN 7's") == f"{DAY_A.isoformat()}T07:30:00+09:00"
    day = days(s, "kab-timur", SEVEN["kab-timur"])[DAY_A.isoformat()]
    assert codes(day) == [] and day["departure"] == f"{DAY_A.isoformat()}T16:00:00+09:00"
    # where the agency keeps zeros meaningful, 007 is nobody the roster knows: quarantined
    status = requests.get(f"{s.url('kehadiran')}/api/v1/devices/ZEROS-WITA/status", headers=OPERATOR, timeout=10)
    assert status.status_code == 200 and status.json()["quarantined"] == 2, status.text
    assert requests.get(f"{s.url('kehadiran')}/api/v1/devices/ZEROS-WIT/status", headers=OPERATOR,
                        timeout=10).json()["quarantined"] == 0


def enqueue(s, sn, body) -> int:
    r = requests.post(f"{s.url('kehadiran')}/api/v1/devices/{sn}/commands", json=body, headers=OPERATOR, timeout=10)
    assert r.status_code == 201, r.text
    return r.json()["id"]


def command(s, sn, cid, **params) -> dict:
    r = requests.get(f"{s.url('kehadiran')}/api/v1/devices/{sn}/commands", params=params, headers=OPERATOR,
                     timeout=10)
    assert r.status_code == 200, r.text
    return next((c for c in r.json() if c["id"] == cid), None)


def test_a_command_never_answered_is_retried_then_failed_for_the_operator(deployment):
    s = deployment
    deaf = terminal(s, "DEAF1", "kab-barat", 7, drop_replies=True)
    good = terminal(s, "GOOD1", "kab-barat", 7)
    lost, fine = enqueue(s, "DEAF1", {"kind": "info"}), enqueue(s, "GOOD1", {"kind": "info"})
    assert [cid for cid, _ in good.poll()] == [fine]
    assert command(s, "GOOD1", fine)["status"] == "done" and command(s, "GOOD1", fine)["attempts"] == 1

    # the deaf terminal polls as terminals do; KEHADIRAN_COMMAND_REPLY_S=1, _ATTEMPTS=2 here
    def failed():
        deaf.poll()
        found = command(s, "DEAF1", lost)
        return found if found["status"] == "failed" else None
    row = wait_until(failed, 30, interval_s=0.3, message="the unanswered command failed")
    assert [cid for cid, _ in deaf.commands_seen] == [lost, lost]  # handed out twice, then no more
    assert row["attempts"] == 2 and "no reply" in row["result"]["error"]
    assert command(s, "DEAF1", lost, status="failed")["id"] == lost
    assert command(s, "DEAF1", lost, status="sent") is None
    deaf.poll()
    assert len(deaf.commands_seen) == 2


def test_push_3x_endpoints_are_acknowledged_kept_or_refused_as_configured(deployment):
    s = deployment
    t = terminal(s, "PUSH3", "kab-timur", 9, pushver="3.1.1")
    assert t.options.get("TimeZone") == "9"
    # time sync: the terminal's wall clock in its zone
    told, tz = t.sync_time()
    assert tz == "+0900" and abs(told - t.local_now()) < timedelta(seconds=30)
    assert t.call("GET", "rtdata", type="other").status == 200
    # a punch in the 12-field shape of newer firmware
    t.punch("1", at(DAY_B, 7, 31))
    assert t.push().text == "OK:1"
    # DATA QUERY: the command out, its answer on /iclock/querydata, the count on the command
    cid = enqueue(s, "PUSH3", {"command": "DATA QUERY tablename=user,fielddesc=*,filter=*"})
    assert [c for c, _ in t.poll()] == [cid]
    reply = t.answer_query(cid, "user", [{"uid": "1", "pin": "1", "name": "ASN WIT", "pri": "0"},
                                         {"uid": "2", "pin": "7", "name": "Tujuh", "pri": "0"}])
    assert reply.status == 200 and reply.text.strip() == "user=2"
    assert command(s, "PUSH3", cid)["result"]["query_user"] == "2"
    # a photo (kept: KEHADIRAN_DEVICE_PHOTOS=store), templates (refused: _TEMPLATES=off)
    jpeg = b"\xff\xd8\xff\xe0" + bytes(range(256)) * 4 + b"\xff\xd9"
    assert t.push_photo("1", at(DAY_B, 7, 31), jpeg).text == "OK"
    assert t.push_templates([("1", 1, b"finger" * 50), ("1", 9, b"face" * 80)]).text == "OK:2"
    fp = base64.b64encode(b"fp" * 100).decode()
    r = t.call("POST", "cdata", f"FP PIN=1\tFID=6\tSize={len(fp)}\tValid=1\tTMP={fp}\n".encode(), table="OPERLOG",
               Stamp="2")
    assert r.status == 200 and r.text.startswith("OK")
    # malformed uploads are acknowledged too (a terminal answered with an error pushes forever)
    assert t.call("POST", "cdata", b"no header here", table="ATTPHOTO").status == 200
    assert t.call("POST", "cdata", b"BIODATA No=0\tTmp=\n", table="BIODATA").status == 200
    engine = create_engine(s.database_urls["kehadiran"])
    try:
        with engine.connect() as c:
            kept = c.execute(text("SELECT kind, pin, size FROM device_uploads WHERE device_sn = 'PUSH3'")).all()
    finally:
        engine.dispose()
    assert [tuple(k) for k in kept] == [("photo", "1", len(jpeg))]
