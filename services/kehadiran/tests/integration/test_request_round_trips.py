"""What a punch request costs PostgreSQL, counted at the driver from libpq's trace of what goes
over the wire: the statements sent, and the times the request waits for the server (a
``ReadyForQuery`` after a Sync or simple query, or a pipeline's Flush to read a statement's rows).

A request reads the device (with a one-punch request's NIP) and sends its whole write — the
punches, the outbox rows of the new ones, their day markers — as one statement, which commits
alone (with the device's contact due: in a transaction, the COMMIT in the same round trip): one
round trip, whatever the batch's size. The same requests check what the write keeps: events
and markers only for punches newly stored, none for a re-sent one."""
from __future__ import annotations

from collections import Counter
from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import text

from kehadiran.adapters import device_store
from kehadiran.entrypoints.app import create_app
from kehadiran.entrypoints.migrate import main as migrate
from kinerja.auth import issue_token
from kinerja.config import DEV_JWT_SECRET
from kinerja.webapp import runtime_of
from kinerja_testkit.kehadiran import device_and_roster
from kinerja_testkit.wire import Wire

pytestmark = pytest.mark.integration
AGENCY = "disdik"
SN = "LMS0001"
WIB = timezone(timedelta(hours=7))
OPERATOR = {"Authorization": "Bearer " + issue_token(DEV_JWT_SECRET, role="operator", agency="*")}
DEVICE = {"Authorization": "Bearer " + issue_token(DEV_JWT_SECRET, role="device", agency=AGENCY, device_sn=SN)}
STAFF = [(f"19850312201001{k:04d}", str(100 + k)) for k in range(20)]
# the device with the PIN's NIP, then the write: one statement, committed alone (no BEGIN, no
# COMMIT); with the device's contact due, BEGIN, the write, the contact and COMMIT in one round trip
ONE_PUNCH = ["SELECT", "WITH"]
# ... and, for a batch, the punches it stored already and the NIPs of its PINs
BATCH = ["SELECT", "SELECT", "SELECT", "WITH"]


@pytest.fixture
def app(postgres_url, monkeypatch):
    monkeypatch.setenv("KINERJA_DB_PING_AFTER_IDLE_S", "3600")  # no ping among the statements counted
    migrate(postgres_url)
    app = create_app({"database_url": postgres_url, "kafka_bootstrap": "127.0.0.1:1"})
    runtime = runtime_of(app)
    device_and_roster(app, STAFF, sn=SN, agency=AGENCY, operator=OPERATOR)
    with runtime.engine.begin() as conn:  # the roster's own markers: only the requests' are counted below
        conn.execute(text("DELETE FROM dirty_days"))
        conn.execute(text("DELETE FROM dirty_pins"))
    yield app
    runtime.dispose()


@pytest.fixture
def wire(app, tmp_path):
    wire = Wire(runtime_of(app).engine, tmp_path)
    yield wire
    wire.close()


def punches(n: int, *, unknown: int = 0, day_offset: int = 2) -> list[tuple[str, datetime]]:
    """``n`` punches of the staff (PINs taking turns, a minute apart, over a few days), the last
    ``unknown`` of them from PINs the roster does not know."""
    start = datetime.now(WIB).replace(hour=6, minute=0, second=0, microsecond=0, tzinfo=None)
    start -= timedelta(days=day_offset)
    out = []
    for k in range(n):
        pin = str(900 + k) if k >= n - unknown else STAFF[k % len(STAFF)][1]
        out.append((pin, start - timedelta(days=k % 3) + timedelta(minutes=k)))
    return out


def send(client, kind: str, batch: list[tuple[str, datetime]]) -> dict:
    if kind == "adms":
        body = "\n".join(f"{pin}\t{t:%Y-%m-%d %H:%M:%S}\t0\t1\t0\t0\t0" for pin, t in batch).encode()
        r = client.post(f"/iclock/cdata?SN={SN}&table=ATTLOG", data=body, content_type="text/plain")
        assert r.status_code == 200 and r.text == f"OK:{len(batch)}", r.text
        return {}
    r = client.post("/api/v1/punches", headers=DEVICE,
                    json={"punches": [{"pin": pin, "time": t.isoformat() + "+07:00"} for pin, t in batch]})
    assert r.status_code == 200, r.json
    return r.json


def stored(app) -> dict[str, int]:
    with runtime_of(app).engine.connect() as c:
        return {table: c.execute(text(f"SELECT count(*) FROM {table}")).scalar_one()
                for table in ("punches", "outbox", "dirty_days", "dirty_pins")}


def cost(wire: Wire, client, kind: str, batch) -> tuple[list[str], int, dict]:
    wire.mark()
    answer = send(client, kind, batch)
    statements, waits = wire.since_mark()
    return statements, waits, answer


@pytest.mark.parametrize("kind", ["adms", "json"])
def test_a_one_punch_request_writes_and_commits_in_one_round_trip(app, wire, monkeypatch, kind):
    client = app.test_client()
    first, second, unknown = punches(3, unknown=1)
    send(client, kind, [first])  # the device's first call: the registry's checks, its contact noted
    monkeypatch.setattr(device_store, "CONTACT_EVERY", timedelta(days=1))
    before = stored(app)
    statements, waits, answer = cost(wire, client, kind, [second])
    assert (statements, waits) == (ONE_PUNCH, 2)
    assert stored(app) == {**before, "punches": before["punches"] + 1, "outbox": before["outbox"] + 1,
                           "dirty_days": before["dirty_days"] + 1}
    if kind == "json":
        assert answer["accepted"] == 1 and answer["duplicates"] == answer["quarantined"] == 0
    # sent again: the same statements, nothing written
    before = stored(app)
    assert cost(wire, client, kind, [second])[:2] == (ONE_PUNCH, 2)
    assert stored(app) == before
    # a PIN the roster does not know: kept in quarantine, its PIN marked, no event
    statements, waits, answer = cost(wire, client, kind, [unknown])
    assert (statements, waits) == (ONE_PUNCH, 2)
    assert stored(app) == {**before, "punches": before["punches"] + 1, "dirty_pins": before["dirty_pins"] + 1}
    # the device's contact, when due, goes out in the same round trip
    monkeypatch.setattr(device_store, "CONTACT_EVERY", timedelta(0))
    statements, waits, _ = cost(wire, client, kind, punches(1, day_offset=9))
    assert (statements, waits) == (["SELECT", "BEGIN", "WITH", "UPDATE", "COMMIT"], 2)


@pytest.mark.parametrize("kind", ["adms", "json"])
def test_a_batch_costs_the_same_statements_whatever_its_size(app, wire, monkeypatch, kind):
    client = app.test_client()
    send(client, kind, punches(1, day_offset=20))  # the device's first call
    monkeypatch.setattr(device_store, "CONTACT_EVERY", timedelta(days=1))
    # 600: beyond the 500 a look-up's IN list held before (SQLite still chunks it)
    small, big = punches(100, unknown=2, day_offset=2), punches(600, unknown=3, day_offset=12)
    before = stored(app)
    assert cost(wire, client, kind, small)[:2] == (BATCH, 4)
    statements, waits, answer = cost(wire, client, kind, big)
    assert (statements, waits) == (BATCH, 4)
    after = stored(app)
    known = [(pin, t) for pin, t in small + big if int(pin) < 900]
    staff = dict((pin, nip) for nip, pin in STAFF)
    assert after == {"punches": before["punches"] + 700, "outbox": before["outbox"] + len(known),
                     # a marker per (ASN, day) a batch touched, a PIN marker per unknown PIN
                     "dirty_days": before["dirty_days"] + len({(staff[p], t.date()) for p, t in small if p in staff})
                     + len({(staff[p], t.date()) for p, t in big if p in staff}),
                     "dirty_pins": before["dirty_pins"] + 5}
    if kind == "json":
        assert (answer["accepted"], answer["duplicates"], answer["quarantined"]) == (597, 0, 3)
    # sent again, with a few new punches: only theirs are written
    again = big[:150] + punches(4, day_offset=30)
    statements, waits, answer = cost(wire, client, kind, again)
    assert (statements, waits) == (BATCH, 4)
    assert stored(app) == {**after, "punches": after["punches"] + 4, "outbox": after["outbox"] + 4,
                           "dirty_days": after["dirty_days"] + len({(staff[p], t.date()) for p, t in again[150:]})}
    if kind == "json":
        assert (answer["accepted"], answer["duplicates"], answer["quarantined"]) == (4, 150, 0)
    # all of it stored already: read, nothing written (no transaction either)
    before = stored(app)
    assert cost(wire, client, kind, big)[:2] == (["SELECT", "SELECT"], 2)
    assert stored(app) == before


def test_a_write_that_fails_stores_nothing_and_leaves_the_connection_clean(app):
    """The outbox already holds the event id a new punch would get (a state no request makes):
    the one statement fails, nothing of the request is stored, the next request is served."""
    from kehadiran.adapters.outbox_events import punch_ids

    client = app.test_client()
    send(client, "adms", punches(1, day_offset=20))
    (pin, t), other = punches(2, day_offset=3)
    _, event_id = punch_ids(SN, pin, t)
    with runtime_of(app).engine.begin() as conn:
        conn.execute(text("INSERT INTO outbox (event_id, topic, key, value, created_at) "
                          "VALUES (:e, 'x', 'x', '{}', now())"), {"e": event_id})
    before = stored(app)
    body = f"{pin}\t{t:%Y-%m-%d %H:%M:%S}\t0\t1\t0\t0\t0".encode()
    r = client.post(f"/iclock/cdata?SN={SN}&table=ATTLOG", data=body, content_type="text/plain")
    assert r.status_code == 500
    assert stored(app) == before
    with runtime_of(app).engine.connect() as c:
        # the request's connection (the pool hands out the one returned last) is back in the
        # driver's transactions: commit_with runs its BEGIN itself, and gives that back whatever
        assert c.connection.dbapi_connection.autocommit is False
        assert c.execute(text("SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                              "AND state LIKE 'idle in transaction%'")).scalar_one() == 0
    send(client, "adms", [other])
    assert stored(app)["punches"] == before["punches"] + 1
