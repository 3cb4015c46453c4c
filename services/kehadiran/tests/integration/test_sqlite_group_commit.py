"""On SQLite, punch requests of one process that wait for the file's write lock together are written
in ONE transaction (``adapters.punch_write_group``): one BEGIN IMMEDIATE, one INSERT a table and one
COMMIT for all of them, each request still answered with its own counts, each stored with its
outbox events and day markers; a punch two of them carry is stored and announced once; a request
that fails on a constraint fails alone. Counted from the statements SQLite traces, not timed: the
requests are made to gather by holding the write lock from outside until they all wait."""
from __future__ import annotations

import sqlite3
import threading
from datetime import datetime, timedelta
from functools import partial

import orjson
import pytest
from sqlalchemy import text

from kehadiran.adapters import device_store, outbox_events, punch_write_group
from kinerja import sqlite_locking
from kinerja.auth import issue_token
from kinerja.config import DEV_JWT_SECRET
from kinerja.testing import wait_until
from kinerja.webapp import runtime_of
from kinerja_testkit import punch_requests
from kinerja_testkit.kehadiran import WIB
from kinerja_testkit.punch_requests import PUNCH_INSERTS as INSERTS
from kinerja_testkit.punch_requests import scalar as count
from kinerja_testkit.punch_requests import serve, traced_statements, under_lock

pytestmark = pytest.mark.integration
AGENCY, SN = "disdik", "LMS0001"
OPERATOR = {"Authorization": "Bearer " + issue_token(DEV_JWT_SECRET, role="operator", agency="*")}
DEVICE = {"Authorization": "Bearer " + issue_token(DEV_JWT_SECRET, role="device", agency=AGENCY, device_sn=SN)}
STAFF = [(f"19850312201001{k:04d}", str(100 + k)) for k in range(50)]


@pytest.fixture
def app(sqlite_app, monkeypatch):
    app = sqlite_app
    day = datetime.now(WIB).replace(hour=6, minute=0, second=0, microsecond=0, tzinfo=None) - timedelta(days=2)
    # the device's contact and address noted (a new address is the registry's to check, a write)
    assert serve(app, adms_env([STAFF[0][1]], day))[0].startswith("200")
    monkeypatch.setattr(device_store, "CONTACT_EVERY", timedelta(days=1))  # and none due from here on
    return app


json_env = partial(punch_requests.json_env, headers=DEVICE)
adms_env = partial(punch_requests.adms_env, sn=SN)


def gathered(app, envs: list[dict]) -> tuple[list[tuple[str, bytes]], list[str]]:
    """``envs`` served at once while another connection holds the write lock, released once one
    of them waits for it and the others wait for that one; (answers in order, the statements
    SQLite ran on the app's connections meanwhile)."""
    runtime = runtime_of(app)
    group = punch_write_group.group_of(runtime.engine.url.database)
    answers: list = [None] * len(envs)
    with traced_statements(runtime.engine) as statements:
        holder = sqlite3.connect(runtime.engine.url.database, timeout=0, isolation_level=None)
        holder.execute("BEGIN IMMEDIATE")  # the file's write lock, taken outside the process's turns
        try:
            def one(i):
                answers[i] = serve(app, envs[i])

            threads = [threading.Thread(target=one, args=(i,)) for i in range(len(envs))]
            for t in threads:
                t.start()
            # the leader's own request stays in ``pending`` until it has the lock
            wait_until(lambda: group.leading and len(group.pending) == len(envs), timeout_s=30,
                       message="one request waiting for the lock, the others for it")
        finally:
            holder.execute("ROLLBACK")
            holder.close()
        for t in threads:
            t.join(30)
    return answers, statements


def test_requests_waiting_together_are_one_transaction_each_with_its_own_answer(app):
    day = datetime.now(WIB).replace(hour=7, minute=0, second=0, microsecond=0, tzinfo=None) - timedelta(days=1)
    pins = [pin for _nip, pin in STAFF]
    group = punch_write_group.group_of(runtime_of(app).engine.url.database)
    before = (group.transactions, group.requests)
    # four batches (two JSON, two ADMS) of ten punches, and the first batch again: its punches are
    # stored and announced once, by whichever of the two is written first
    envs = [json_env(pins[0:10], day), adms_env(pins[10:20], day), json_env(pins[20:30], day),
            adms_env(pins[30:40], day), json_env(pins[0:10], day)]
    answers, statements = gathered(app, envs)
    assert all(status.startswith("200") for status, _ in answers), answers
    json_counts = [orjson.loads(body) for status, body in (answers[0], answers[2], answers[4])]
    assert [answers[1][1], answers[3][1]] == [b"OK:10", b"OK:10"]
    assert json_counts[1]["accepted"] == 10
    assert sorted((c["accepted"], c["duplicates"]) for c in (json_counts[0], json_counts[2])) == [(0, 10), (10, 0)]
    # before: five transactions, five BEGIN IMMEDIATE and COMMITs, fifteen INSERTs
    assert under_lock(statements) == [INSERTS], statements
    assert (group.transactions - before[0], group.requests - before[1]) == (1, 5)
    assert count(app, "SELECT count(*) FROM punches WHERE device_time >= '%s'" % day) == 40
    assert count(app, "SELECT count(*) FROM outbox WHERE value LIKE '%kehadiran.punch.recorded.v1%'") == 41
    assert count(app, "SELECT count(DISTINCT nip) FROM dirty_days") >= 40


def test_a_request_that_fails_in_a_group_fails_alone(app):
    day = datetime.now(WIB).replace(hour=8, minute=0, second=0, microsecond=0, tzinfo=None) - timedelta(days=1)
    pins = [pin for _nip, pin in STAFF]
    # an outbox row already holds the event id the third request's first punch will get: its
    # outbox INSERT breaks the UNIQUE constraint (nothing in the product does this; it stands for
    # any constraint one request's rows may break)
    _punch_id, event_id = outbox_events.punch_ids(SN, pins[20], day)
    with runtime_of(app).engine.begin() as c:
        c.execute(text("INSERT INTO outbox (event_id, topic, key, value, created_at) "
                       "VALUES (:e, 't', 'k', '{}', '2026-01-01 00:00:00.000000')"), {"e": event_id})
    group = punch_write_group.group_of(runtime_of(app).engine.url.database)
    before = group.transactions
    envs = [json_env(pins[0:10], day), json_env(pins[10:20], day), json_env(pins[20:30], day)]
    answers, _statements = gathered(app, envs)
    assert [status[:3] for status, _ in answers[:2]] == ["200", "200"], answers
    assert not answers[2][0].startswith("2"), answers[2]
    assert [orjson.loads(body)["accepted"] for _, body in answers[:2]] == [10, 10]
    # the group's transaction rolled back, then each request in one of its own: three
    assert group.transactions - before == 3
    stored = count(app, "SELECT count(*) FROM punches WHERE device_time >= '%s'" % day)
    assert stored == 20  # the failed request's punches are not kept without their events
    assert count(app, "SELECT count(*) FROM outbox WHERE value LIKE '%kehadiran.punch.recorded.v1%'") == 21


def test_a_request_that_never_had_the_lock_is_not_written_by_a_later_one(app, monkeypatch):
    day = datetime.now(WIB).replace(hour=9, minute=0, second=0, microsecond=0, tzinfo=None) - timedelta(days=1)
    pins = [pin for _nip, pin in STAFF]
    runtime = runtime_of(app)
    group = punch_write_group.group_of(runtime.engine.url.database)
    monkeypatch.setattr(sqlite_locking, "WRITE_LOCK_TIMEOUT_S", 0.5)
    holder = sqlite3.connect(runtime.engine.url.database, timeout=0, isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")  # held past the request's wait for it
    try:
        status, _body = serve(app, json_env(pins[0:10], day))
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    assert not status.startswith("2"), status
    assert group.pending == [] and not group.leading
    status, body = serve(app, json_env(pins[10:20], day))
    assert status.startswith("200") and orjson.loads(body)["accepted"] == 10, body
    # before: the failed request's rows stayed queued and the next request's transaction wrote them
    assert count(app, "SELECT count(*) FROM punches WHERE device_time >= '%s'" % day) == 10


def test_requests_due_a_contact_are_gathered_too_their_contact_in_the_transaction(app, monkeypatch):
    day = datetime.now(WIB).replace(hour=10, minute=0, second=0, microsecond=0, tzinfo=None) - timedelta(days=1)
    pins = [pin for _nip, pin in STAFF]
    monkeypatch.setattr(device_store, "CONTACT_EVERY", timedelta(0))  # every request due a contact
    with runtime_of(app).engine.begin() as c:
        c.execute(text("UPDATE devices SET last_contact_at = NULL, attlog_stamp = NULL WHERE sn = :sn"), {"sn": SN})
    group = punch_write_group.group_of(runtime_of(app).engine.url.database)
    before = (group.transactions, group.requests)
    envs = [json_env(pins[0:10], day), adms_env(pins[10:20], day), json_env(pins[20:30], day)]
    answers, statements = gathered(app, envs)
    assert all(status.startswith("200") for status, _ in answers), answers
    assert [orjson.loads(answers[0][1])["accepted"], answers[1][1], orjson.loads(answers[2][1])["accepted"]] == [
        10, b"OK:10", 10]
    # before: the three were each a transaction of their own (3 BEGIN IMMEDIATE, 9 INSERTs, 3 UPDATEs,
    # 3 COMMITs); now one, the devices' row last
    assert under_lock(statements) == [INSERTS + ["UPDATE devices SET"] * 3], statements
    assert (group.transactions - before[0], group.requests - before[1]) == (1, 3)
    assert count(app, "SELECT count(*) FROM devices WHERE sn = '%s' AND last_contact_at IS NOT NULL "
                      "AND attlog_stamp = '9'" % SN) == 1
    assert count(app, "SELECT count(*) FROM punches WHERE device_time >= '%s'" % day) == 30
