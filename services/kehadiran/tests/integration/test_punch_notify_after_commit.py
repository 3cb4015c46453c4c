"""A punch request's notification (the day workers' markers channel) is sent after its commit by the process's own connection (``kinerja.after_commit_notify``), not
from inside the request's transaction: a notifying commit holds a lock of the whole PostgreSQL
cluster across its flush to disk, so on a durable server every request waited for the one before
it. Held here on a real PostgreSQL, with the migrated trigger functions:

- a transaction that deferred its notifications sends none from its triggers; one that did not
  still does (every other writer: the day worker's rounds, the ORM's inserts, other services);
- each kind of punch request (ADMS upload, JSON batch, one punch, a PIN the roster does not know,
  a phone's check-in, written in a session rather than on the request's own connection) wakes the
  day workers once committed, by the notifier's connection, with the rows already
  visible (``KINERJA_NOTIFY_AFTER_COMMIT=on``, as ``auto`` on a durable server);
- with ``auto`` on a server whose commits do not flush, it comes from the request's transaction;
- either way the relays are not woken: the punch events go out with the day's summary, whose
  round's commit wakes them (``kehadiran.adapters.punch_write``).

Notifications reach a listener in commit order, so "nothing from the trigger" is checked without
waiting: a sentinel sent after the transaction must be the first thing the listener gets."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import psycopg
import pytest
from sqlalchemy import text

from kehadiran.adapters.markers import NOTIFY_CHANNEL as DIRTY
from kehadiran.entrypoints.app import create_app
from kehadiran.entrypoints.migrate import main as migrate
from kinerja.after_commit_notify import DEFER_SQL, MODE_ENV, flushes_at_commit
from kinerja.auth import issue_token
from kinerja.config import DEV_JWT_SECRET
from kinerja.wakeup import OUTBOX_CHANNEL as OUTBOX
from kinerja.webapp import runtime_of
from kinerja_testkit.kehadiran import device_and_roster

pytestmark = pytest.mark.integration
AGENCY = "disdik"
SN = "LMS0001"
WIB = timezone(timedelta(hours=7))
OPERATOR = {"Authorization": "Bearer " + issue_token(DEV_JWT_SECRET, role="operator", agency="*")}
DEVICE = {"Authorization": "Bearer " + issue_token(DEV_JWT_SECRET, role="device", agency=AGENCY, device_sn=SN)}
STAFF = [(f"19850312201001{k:04d}", str(100 + k)) for k in range(8)]
NOTIFIER = "kinerja-after-commit-notify"  # the notifier connection's application_name


@pytest.fixture
def app(postgres_url, monkeypatch, request):
    monkeypatch.setenv(MODE_ENV, getattr(request, "param", "on"))
    migrate(postgres_url)
    app = create_app({"database_url": postgres_url, "kafka_bootstrap": "127.0.0.1:1"})
    device_and_roster(app, STAFF, sn=SN, agency=AGENCY, operator=OPERATOR)
    yield app
    runtime_of(app).dispose()


class Listener:
    """``LISTEN`` on both channels on a connection of the test's own."""

    def __init__(self, url: str):
        self.conn = psycopg.connect(url.replace("postgresql+psycopg", "postgresql"), autocommit=True)
        self.conn.execute(f"LISTEN {OUTBOX}")
        self.conn.execute(f"LISTEN {DIRTY}")
        self.early: list[psycopg.Notify] = []  # come in one packet with those taken before

    def take(self, n: int, timeout_s: float = 10.0) -> list[psycopg.Notify]:
        """The next ``n`` notifications (fails if they do not come within the deadline)."""
        if len(self.early) < n:
            self.early += self.conn.notifies(timeout=timeout_s, stop_after=n - len(self.early))
        got, self.early = self.early[:n], self.early[n:]
        assert len(got) == n, f"{len(got)} of {n} notifications within {timeout_s} s: {got}"
        return got

    def sender(self, pid: int) -> str | None:
        return self.conn.execute("SELECT application_name FROM pg_stat_activity WHERE pid = %s", [pid]).fetchone()[0]

    def close(self) -> None:
        self.conn.close()


@pytest.fixture
def listener(app, postgres_url):
    found = Listener(postgres_url)
    yield found
    found.close()


def sentinel(url: str) -> None:
    with psycopg.connect(url.replace("postgresql+psycopg", "postgresql"), autocommit=True) as conn:
        conn.execute(f"NOTIFY {DIRTY}, 'sentinel'")


@pytest.mark.parametrize("deferred", [True, False])
def test_the_triggers_notify_unless_the_transaction_deferred(app, listener, postgres_url, deferred):
    with runtime_of(app).engine.begin() as conn:
        if deferred:
            conn.execute(text(f"SELECT {DEFER_SQL}"))
        conn.execute(text("INSERT INTO dirty_days (nip, day) VALUES (:nip, :day)"),
                     {"nip": STAFF[0][0], "day": datetime(2026, 11, 3).date()})
    sentinel(postgres_url)
    first = listener.take(1)[0]
    # in commit order: the trigger's own notification, if it sent one, comes before the sentinel
    assert (first.channel, first.payload) == ((DIRTY, "sentinel") if deferred else (DIRTY, ""))


def _adms(client, punches):
    body = "\n".join(f"{pin}\t{t:%Y-%m-%d %H:%M:%S}\t0\t1\t0\t0\t0" for pin, t in punches).encode()
    r = client.post(f"/iclock/cdata?SN={SN}&table=ATTLOG", data=body, content_type="text/plain")
    assert r.status_code == 200 and r.text == f"OK:{len(punches)}", r.text


def _phone(client, punches):
    nip = next(n for n, pin in STAFF if pin == punches[0][0])
    token = issue_token(DEV_JWT_SECRET, role="pegawai", agency=AGENCY, nip=nip)
    r = client.post("/api/v1/punches", headers={"Authorization": "Bearer " + token}, json={"punches": [{"nip": nip}]})
    assert r.status_code == 200 and r.json["accepted"] == 1, r.json


def _json(client, punches):
    r = client.post("/api/v1/punches", headers=DEVICE, json={"punches": [
        {"pin": pin, "time": t.replace(tzinfo=WIB).isoformat()} for pin, t in punches]})
    assert r.status_code == 200, r.text


def _at(minutes: int) -> datetime:
    return (datetime.now(WIB) - timedelta(days=2)).replace(hour=7, minute=0, second=0, microsecond=0,
                                                           tzinfo=None) + timedelta(minutes=minutes)


def nothing_else_before_the_sentinel(listener, url: str) -> None:
    """No notification (the outbox's, say) follows the ones taken: a sentinel sent now comes next."""
    sentinel(url)
    nxt = listener.take(1)[0]
    assert (nxt.channel, nxt.payload) == (DIRTY, "sentinel"), nxt


def outbox_rows(app) -> int:
    with runtime_of(app).engine.connect() as conn:
        return conn.execute(text("SELECT count(*) FROM outbox")).scalar()


@pytest.mark.parametrize("how, punches, events", [
    ("adms", [(STAFF[0][1], _at(1)), (STAFF[1][1], _at(2))], 2),
    ("json", [(STAFF[2][1], _at(3)), (STAFF[3][1], _at(4))], 2),
    ("adms", [(STAFF[4][1], _at(5))], 1),  # one punch: committed alone, no transaction
    ("adms", [("999", _at(6))], 0),  # a PIN the roster does not know: its quarantine marker only
    ("phone", [(STAFF[7][1], None)], 1),  # the server's time; a session's transaction
])
def test_a_punch_request_wakes_the_day_workers_after_its_commit(app, listener, postgres_url, how, punches, events):
    with runtime_of(app).engine.connect() as conn:
        before = conn.execute(text("SELECT count(*) FROM dirty_days")).scalar() + conn.execute(
            text("SELECT count(*) FROM dirty_pins")).scalar()
    outbox_before = outbox_rows(app)
    {"adms": _adms, "json": _json, "phone": _phone}[how](app.test_client(), punches)
    got = listener.take(1)
    assert [n.channel for n in got] == [DIRTY]
    # sent by the process's notifier after the commit, not by the request's transaction
    assert {listener.sender(n.pid) for n in got} == {NOTIFIER}
    # the punch events were written, and the relays were not woken for them (the summary will)
    nothing_else_before_the_sentinel(listener, postgres_url)
    assert outbox_rows(app) == outbox_before + events
    with runtime_of(app).engine.connect() as conn:
        after = conn.execute(text("SELECT count(*) FROM dirty_days")).scalar() + conn.execute(
            text("SELECT count(*) FROM dirty_pins")).scalar()
    assert after > before  # what it woke them for was committed


@pytest.mark.parametrize("app", ["auto"], indirect=True)
def test_where_commits_do_not_flush_the_request_notifies_from_inside(app, listener, postgres_url):
    assert not flushes_at_commit(runtime_of(app).engine)  # the test server: fsync off
    outbox_before = outbox_rows(app)
    _adms(app.test_client(), [(STAFF[6][1], _at(8))])
    got = listener.take(1)
    assert [n.channel for n in got] == [DIRTY]
    assert {listener.sender(n.pid) for n in got} != {NOTIFIER}
    nothing_else_before_the_sentinel(listener, postgres_url)
    assert outbox_rows(app) == outbox_before + 1
