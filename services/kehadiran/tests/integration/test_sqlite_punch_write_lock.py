"""A punch request on SQLite holds the file's one write lock (which every other writer of kehadiran
waits for: the web's other workers and threads, the day worker, the relay) only for its INSERTs:
its reads go before it (each a statement of its own) and its rows and events are built before BEGIN IMMEDIATE.
Counted from the statements SQLite itself traces on the request's connection, not timed: the
statements from BEGIN IMMEDIATE to COMMIT, and the whole request's. A re-sent batch takes no write
lock at all. The answers and rows are checked too."""
from __future__ import annotations

from datetime import datetime, timedelta
from functools import partial

import orjson
import pytest

from kehadiran.adapters import device_store, outbox_events
from kinerja.auth import issue_token
from kinerja.config import DEV_JWT_SECRET
from kinerja.testing.counting import sqlite_write_lock_free
from kinerja.webapp import runtime_of
from kinerja_testkit import punch_requests
from kinerja_testkit.kehadiran import WIB
from kinerja_testkit.punch_requests import PUNCH_INSERTS as INSERTS
from kinerja_testkit.punch_requests import scalar as rows
from kinerja_testkit.punch_requests import serve, traced_statements, under_lock

pytestmark = pytest.mark.integration
AGENCY, SN = "disdik", "LMS0001"
OPERATOR = {"Authorization": "Bearer " + issue_token(DEV_JWT_SECRET, role="operator", agency="*")}
DEVICE = {"Authorization": "Bearer " + issue_token(DEV_JWT_SECRET, role="device", agency=AGENCY, device_sn=SN)}
STAFF = [(f"19850312201001{k:04d}", str(100 + k)) for k in range(60)]


@pytest.fixture
def app(sqlite_app):  # the write lock is SQLite's
    return sqlite_app


@pytest.fixture
def traced(app):
    """Every statement SQLite runs on the app's connections (opened from here on), in order."""
    with traced_statements(runtime_of(app).engine) as statements:
        yield statements


json_env = partial(punch_requests.json_env, headers=DEVICE)
adms_env = partial(punch_requests.adms_env, sn=SN)


def write_lock_free(app) -> bool:
    """Whether another connection could take the file's write lock this instant (no waiting)."""
    return sqlite_write_lock_free(runtime_of(app).engine.url.database)


@pytest.mark.parametrize("kind", ["json", "adms"])
def test_the_write_lock_is_held_for_the_inserts_only(app, traced, kind, monkeypatch):
    make = json_env if kind == "json" else adms_env
    day = datetime.now(WIB).replace(hour=7, minute=0, second=0, microsecond=0, tzinfo=None) - timedelta(days=1)
    pins = [pin for _nip, pin in STAFF]
    # the device's first contact (its address and contact noted), then no contact due while counted
    assert serve(app, make(pins[:1], day - timedelta(days=1)))[0].startswith("200")
    monkeypatch.setattr(device_store, "CONTACT_EVERY", timedelta(days=1))
    built_while_free: list[bool] = []
    encode = outbox_events.encode

    def probed(event):  # an event's JSON is built while the file's write lock is free
        built_while_free.append(write_lock_free(app))
        return encode(event)

    monkeypatch.setattr(outbox_events, "encode", probed)
    for batch in (pins[:1], pins[1:60]):  # one punch (no look-up of stored ones), then a batch
        del traced[:]
        status, body = serve(app, make(batch, day))
        assert status.startswith("200"), body
        if kind == "json":
            assert orjson.loads(body)["accepted"] == len(batch)
        else:
            assert body == f"OK:{len(batch)}".encode()
        # before: BEGIN IMMEDIATE came first, the device's and the roster's reads, the events and
        # the punches' times all built under it (a request held the lock for all of its work)
        assert under_lock(traced) == [INSERTS], traced
        # the reads each a statement of its own (no BEGIN, snapshot pragma and COMMIT around them:
        # a one-punch request ran 9 statements, now 6), then the write transaction
        reads = traced[:traced.index("BEGIN IMMEDIATE")]
        # (the look-up of stored punches is ``WITH k(p, t) AS (VALUES ...) SELECT``: its keys joined)
        assert reads and all(r.startswith(("SELECT", "WITH")) and "INSERT" not in r for r in reads), traced
        if len(batch) == 1:
            assert len(traced) == 6, traced  # the device (with the PIN's NIP), BEGIN, 3 INSERTs, COMMIT
        day += timedelta(hours=1)
    assert built_while_free == [True] * 60
    assert rows(app, "SELECT count(*) FROM punches WHERE channel = '%s'" % kind) == 61
    assert rows(app, "SELECT count(*) FROM outbox WHERE value LIKE '%kehadiran.punch.recorded.v1%'") == 61
    assert rows(app, "SELECT count(*) FROM dirty_days") >= 1


def test_a_resent_batch_takes_no_write_lock_and_a_due_contact_is_written_under_it(app, traced, monkeypatch):
    day = datetime.now(WIB).replace(hour=7, minute=0, second=0, microsecond=0, tzinfo=None) - timedelta(days=1)
    pins = [pin for _nip, pin in STAFF[:20]]
    assert orjson.loads(serve(app, json_env(pins, day))[1])["accepted"] == 20  # contact due: noted
    monkeypatch.setattr(device_store, "CONTACT_EVERY", timedelta(days=1))
    del traced[:]
    status, body = serve(app, json_env(pins, day))
    assert status.startswith("200") and orjson.loads(body)["duplicates"] == 20, body
    assert "BEGIN IMMEDIATE" not in traced and under_lock(traced) == [], traced
    # a contact due: written last, under the lock with the inserts; a few punches are not looked up
    # first (``ingest.SMALL_BATCH``), the INSERT skips them, and nothing else is written for them
    monkeypatch.setattr(device_store, "CONTACT_EVERY", timedelta(0))
    del traced[:]
    assert orjson.loads(serve(app, json_env(pins[:3], day))[1])["duplicates"] == 3
    assert under_lock(traced) == [["INSERT INTO punches", "UPDATE devices SET"]], traced
    del traced[:]
    fresh = [pin for _nip, pin in STAFF[20:23]]
    assert orjson.loads(serve(app, json_env(fresh, day))[1])["accepted"] == 3
    assert under_lock(traced) == [INSERTS + ["UPDATE devices SET"]], traced
    assert rows(app, "SELECT count(*) FROM punches") == 23
    assert rows(app, "SELECT count(*) FROM dirty_days") >= 1
