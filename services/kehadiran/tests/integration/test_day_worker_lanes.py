"""A day worker process's further lanes (``KEHADIRAN_DAY_WORKER_LANES``) run only while the first
lane finds a backlog that nothing adds to: its rounds cue them (``on_backlog``) after a full claim
during which no markers were committed (after an upload, not during it: the requests keep the
cores), and never at a trickle, where a second lane woken by every commit would be an empty round
a punch."""
from __future__ import annotations

import threading

import pytest

from kehadiran.entrypoints.migrate import main as migrate
from kehadiran.entrypoints.app import create_app
from kehadiran.entrypoints.runtime import day_worker, day_worker_lanes, settle_days
from kinerja.auth import issue_token
from kinerja.config import DEV_JWT_SECRET
from kinerja.webapp import runtime_of
from kinerja_testkit.kehadiran import device_and_roster, past_workdays

pytestmark = pytest.mark.integration
AGENCY = "disdik"
SN = "LANE0001"
OPERATOR = {"Authorization": "Bearer " + issue_token(DEV_JWT_SECRET, role="operator", agency="*")}
STAFF = [(f"19850312201002{k:04d}", str(200 + k)) for k in range(12)]


@pytest.fixture
def app(database_url):
    migrate(database_url)
    app = create_app({"database_url": database_url, "kafka_bootstrap": "127.0.0.1:1"})
    device_and_roster(app, STAFF, sn=SN, agency=AGENCY, operator=OPERATOR)
    settle_days(runtime_of(app))
    yield app
    runtime_of(app).dispose()


def cues_while_settling(app, pins: list[str], *, marked_meanwhile: bool = False) -> tuple[int, int]:
    """(backlog cues, days worked) of the first lane's run until it is idle, after one upload;
    ``marked_meanwhile``: each round's wake-up set while it runs, as markers committed by an
    upload still going on set it."""
    day = past_workdays(1)[0]
    lines = [f"{pin}\t{day} 07:{10 + k:02d}:00\t0\t1\t0\t0\t0" for k, pin in enumerate(pins)]
    r = app.test_client().post(f"/iclock/cdata?SN={SN}&table=ATTLOG", data="\n".join(lines).encode(),
                               content_type="text/plain")
    assert r.status_code == 200 and r.text == f"OK:{len(lines)}", r.text
    worker = day_worker(runtime_of(app), chunk=5)
    stop, wake, cues, worked = threading.Event(), threading.Event(), [], []
    original = worker.run_round

    def counted_round(**kw):
        done = original(**kw)
        worked.append(done.days)
        if marked_meanwhile and done.days:
            wake.set()
        return done

    worker.run_round = counted_round
    wake.set()
    worker.run(stop, wake, idle_poll_s=0.01, on_idle=stop.set, on_backlog=lambda: cues.append(1))
    return len(cues), sum(worked)


def test_a_backlog_cues_the_other_lanes_after_each_full_round(app):
    # 12 days in rounds of 5: two full rounds cue, the last (2 days) does not
    assert cues_while_settling(app, [pin for _, pin in STAFF]) == (2, 12)


def test_a_backlog_still_growing_does_not_cue_them(app):
    assert cues_while_settling(app, [pin for _, pin in STAFF], marked_meanwhile=True) == (0, 12)


def test_a_trickle_never_cues_them(app):
    assert cues_while_settling(app, [STAFF[0][1]]) == (0, 1)


def test_lanes_are_two_on_postgresql_one_on_sqlite_and_checked(app, database_url, monkeypatch):
    runtime = runtime_of(app)
    assert day_worker_lanes(runtime) == (2 if database_url.startswith("postgresql") else 1)
    monkeypatch.setenv("KEHADIRAN_DAY_WORKER_LANES", "3")
    assert day_worker_lanes(runtime) == 3
    monkeypatch.setenv("KEHADIRAN_DAY_WORKER_LANES", "0")
    with pytest.raises(ValueError, match="KEHADIRAN_DAY_WORKER_LANES"):
        day_worker_lanes(runtime)
