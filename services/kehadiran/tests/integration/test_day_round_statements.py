"""What a day worker's round costs PostgreSQL when punches come one at a time (each its own round),
counted at the driver from libpq's trace (``kinerja_testkit.wire``; each a round trip, but for the
one psycopg adds when it first prepares a statement): the statements of a round that
recomputes one day, of an empty one, and that a round which took every marker there was is not
followed by an empty one until something new commits (its notification wakes the worker)."""
from __future__ import annotations

import threading

import pytest
from sqlalchemy import text

from kehadiran.entrypoints.app import create_app
from kehadiran.entrypoints.migrate import main as migrate
from kehadiran.entrypoints.runtime import day_worker
from kinerja.auth import issue_token
from kinerja.config import DEV_JWT_SECRET
from kinerja.webapp import runtime_of
from kinerja_testkit.kehadiran import device_and_roster, past_workdays
from kinerja_testkit.wire import Wire

pytestmark = pytest.mark.integration
AGENCY = "disdik"
SN = "LMS0001"
OPERATOR = {"Authorization": "Bearer " + issue_token(DEV_JWT_SECRET, role="operator", agency="*")}
STAFF = [(f"19850312201001{k:04d}", str(100 + k)) for k in range(6)]
# the pins; the claim with its sweep; the ASN and their tracking; the working time; the day's facts;
# the record and its event's outbox row (one statement); whether a PP 94/2021 alert stands (a closed
# workday): one statement each
ONE_KEY = ["BEGIN", "DELETE", "WITH", "SELECT", "SELECT", "SELECT", "WITH", "SELECT", "COMMIT"]
# the pins, the claim, whether markers another round holds are left
EMPTY = ["BEGIN", "DELETE", "WITH", "SELECT", "COMMIT"]


@pytest.fixture
def app(postgres_url, monkeypatch):
    monkeypatch.setenv("KINERJA_DB_PING_AFTER_IDLE_S", "3600")  # no ping among the statements counted
    migrate(postgres_url)
    app = create_app({"database_url": postgres_url, "kafka_bootstrap": "127.0.0.1:1"})
    runtime = runtime_of(app)
    device_and_roster(app, STAFF, sn=SN, agency=AGENCY, operator=OPERATOR)
    day_worker(runtime).run_until_idle()
    yield app
    runtime.dispose()


def post(client, lines: list[str]) -> None:
    r = client.post(f"/iclock/cdata?SN={SN}&table=ATTLOG", data="\n".join(lines).encode(), content_type="text/plain")
    assert r.status_code == 200 and r.text == f"OK:{len(lines)}", r.text


def arrival(pin: str, day, minute: int) -> str:
    return f"{pin}\t{day} 07:{minute:02d}:00\t0\t1\t0\t0\t0"


def test_a_one_key_round_and_an_empty_round_in_few_statements(app, tmp_path):
    runtime = runtime_of(app)
    client = app.test_client()
    worker = day_worker(runtime)
    wire = Wire(runtime.engine, tmp_path)
    try:
        for k, day in enumerate(past_workdays(3)):
            post(client, [arrival(STAFF[k][1], day, 10 + k)])
            wire.mark()
            done = worker.run_round()
            assert (done.days, done.published, done.more) == (1, 1, False)
            assert wire.since_mark()[0] == ONE_KEY
            wire.mark()
            assert not worker.run_round().worked
            assert wire.since_mark()[0] == EMPTY
    finally:
        wire.close()


def rounds_until_idle(worker) -> list:
    """The rounds ``worker.run`` makes until it would wait for a wake-up (none comes here)."""
    stop, wake = threading.Event(), threading.Event()
    rounds, plain = [], worker.run_round
    worker.run_round = lambda **kw: rounds.append(plain(**kw)) or rounds[-1]
    worker.run(stop, wake, idle_poll_s=60.0, on_idle=lambda: (stop.set(), wake.set()))
    return rounds


def test_no_empty_round_after_a_round_that_took_every_marker(app):
    """One marker: one round, then the worker waits (an empty round after each worked one was half
    the rounds when punches come one by one). Five keys in rounds of two: three rounds, the third
    taking the last marker; while the claims take as many markers as they may, the next round
    comes at once."""
    runtime = runtime_of(app)
    client = app.test_client()
    first, second = past_workdays(2)
    post(client, [arrival(STAFF[0][1], first, 15)])
    assert [(r.days, r.published) for r in rounds_until_idle(day_worker(runtime))] == [(1, 1)]
    post(client, [arrival(pin, second, 20 + k) for k, (_, pin) in enumerate(STAFF[:5])])
    assert [r.days for r in rounds_until_idle(day_worker(runtime, chunk=2))] == [2, 2, 1]
    with runtime.engine.connect() as c:
        assert c.execute(text("SELECT count(*) FROM dirty_days")).scalar_one() == 0
        assert c.execute(text("SELECT count(*) FROM day_summaries")).scalar_one() == 6
