"""What an ASN-day costs the day worker in Python, counted rather than timed (``sys.setprofile``'s
call events: the same on any machine, however loaded): the calls a round makes for each key beyond
a round's own, from a round of 100 keys and one of 300 (an upload's keys: one arrival each, a
closed workday, a new record). The budget sits just above this code's count and below the one
before it (57 a key on PostgreSQL), so work creeping back into the per-key loop shows here."""
from __future__ import annotations

from datetime import datetime, time, timedelta, timezone

import pytest
from sqlalchemy import text

from kehadiran.adapters.orm import Employee
from kehadiran.entrypoints.app import create_app
from kehadiran.entrypoints.migrate import main as migrate
from kehadiran.entrypoints.runtime import day_worker
from kehadiran.service_layer.schedules import track_from
from kinerja.auth import issue_token
from kinerja.config import DEV_JWT_SECRET
from kinerja.testing.counting import python_calls
from kinerja.webapp import runtime_of
from kinerja_testkit.kehadiran import past_workdays

pytestmark = pytest.mark.integration
AGENCY = "calls"
SN = "CALLS0001"
OPERATOR = {"Authorization": "Bearer " + issue_token(DEV_JWT_SECRET, role="operator", agency="*")}
PEOPLE = 450  # a warm-up round of 50, then 100, then 300
# Python calls a key beyond a round's own, measured on this code: SQLite 22.2, PostgreSQL 14.25
# (SQLite 38.1, PostgreSQL 26.2 before a day's punches were sorted once, the rules' NamedTuples made
# without their Python __new__, the midpoint kept on its window, and the recompute loop's
# comprehensions made loops; SQLite 64.1 before its lists became one JSON parameter: an expanding IN
# rendered a bind name per value; PostgreSQL 29.2 before its records went with their events'
# envelopes put together by the server, and punch times read without UtcDateTime's processing);
# before owning_day's sure span, day_over once per context and date, the contexts once a round, the
# generators made comprehensions and SQLite's new records written by hand: 92.1, 48.2
BUDGET = {"sqlite": 25, "postgresql": 15}


def nip(i: int) -> str:
    return f"19900101{i:010d}"


@pytest.fixture
def runtime(database_url):
    migrate(database_url)
    app = create_app({"database_url": database_url, "kafka_bootstrap": "127.0.0.1:1"})
    r = app.test_client().post("/api/v1/devices", json={"sn": SN, "agency": AGENCY, "tz": 7}, headers=OPERATOR)
    assert r.status_code == 201, r.json
    rt = runtime_of(app)
    day = past_workdays(1)[0]
    with rt.session() as s, s.begin():
        s.add_all(Employee(nip=nip(i), nama=f"ASN {i}", agency=AGENCY, unit=f"Unit {i // 100}", active=True,
                           pin=str(i), pin_key=str(i)) for i in range(1, PEOPLE + 1))
        s.flush()
        for i in range(1, PEOPLE + 1):
            track_from(s, nip(i), day - timedelta(days=30))
    lines = [f"{i}\t{day} 07:{10 + i % 40:02d}:{i % 60:02d}\t0\t1\t0\t0\t0" for i in range(1, PEOPLE + 1)]
    r = app.test_client().post(f"/iclock/cdata?SN={SN}&table=ATTLOG", data="\n".join(lines).encode(),
                               content_type="text/plain")
    assert r.text == f"OK:{PEOPLE}", r.text
    yield rt
    rt.dispose()


def test_python_calls_an_asn_day(runtime):
    worker = day_worker(runtime)
    calls = {}
    for chunk in (50, 100, 300):
        worker.chunk = chunk
        calls[chunk], done = python_calls(worker.run_round)
        assert (done.days, done.published) == (chunk, chunk)
    per_key = (calls[300] - calls[100]) / 200
    dialect = runtime.engine.dialect.name
    print(dialect, per_key); assert per_key <= BUDGET[dialect], (dialect, per_key, calls)
    with runtime.engine.connect() as c:  # every day recorded, its event in the outbox
        assert c.execute(text("SELECT count(*) FROM day_summaries")).scalar() == PEOPLE
        assert c.execute(text("SELECT count(*) FROM outbox WHERE value LIKE '%kehadiran.day.summarized.v1%'")).scalar() == PEOPLE
