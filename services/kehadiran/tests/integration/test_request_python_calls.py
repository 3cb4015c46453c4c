"""What a one-punch request costs kehadiran's web process in Python, counted rather than timed
(a count does not depend on the machine being quiet): the Python functions the WSGI app runs for
one JSON punch and for a one-line ADMS upload, from the request's environ to its last byte. The
budget sits below what these requests cost before they were served without Flask's per-request
machinery (``entrypoints.lean_routes``), so it catches them reaching Flask again, or work creeping
back onto the hot path; the answers and rows are checked as well."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from werkzeug.test import EnvironBuilder

from kinerja.auth import issue_token
from kinerja.config import DEV_JWT_SECRET
from kinerja.testing.counting import python_calls
from kinerja.webapp import runtime_of

pytestmark = pytest.mark.integration
AGENCY = "disdik"
SN = "LMS0001"
OPERATOR = {"Authorization": "Bearer " + issue_token(DEV_JWT_SECRET, role="operator", agency="*")}
DEVICE = {"Authorization": "Bearer " + issue_token(DEV_JWT_SECRET, role="device", agency=AGENCY, device_sn=SN)}
STAFF = [(f"19850312201001{k:04d}", str(100 + k)) for k in range(20)]
# Python calls of one request (``sys.setprofile``'s call events), measured on this code, and the
# code before the lean WSGI path (``entrypoints.lean_routes``) and PostgreSQL's one-statement
# write committed alone (``punch_transaction.punch_connection``) in brackets: SQLite JSON 387
# (900), ADMS 300 (615); PostgreSQL JSON 450 (1,136), ADMS 363 (851). SQLite since its read snapshot is
# begun and ended on the driver's connection (the write lock taken after the reads): JSON 291,
# ADMS 279 (306 and 294 just before); measured again later 302 / 290, then its reads without a
# read transaction 297 / 285, then one-punch requests in the group commit too (``punch_write_group``:
# commits a request under 16 concurrent one-line uploads 1.0 -> ~0.4) 313 / 301. PostgreSQL since
# the punch path keeps its connection in autocommit between requests and reuses its cursor
# (``kinerja.db.autocommit_connection``, ``raw_sql.Raw(shared=True)``): JSON 297, ADMS 285 (323 and
# 311 before). SQLite since its prepared rows are built without a generator a punch
# (``punch_write_sqlite``): JSON 305, ADMS 293 (budgets 320 / 305 -> 312 / 300). Back over the
# budget means the plain requests reach Flask again, or work crept onto the path
BUDGET = {("sqlite", "json"): 312, ("sqlite", "adms"): 300, ("postgresql", "json"): 310,
          ("postgresql", "adms"): 300}


def environ(kind: str, pin: str, when: datetime) -> dict:
    if kind == "json":
        builder = EnvironBuilder(path="/api/v1/punches", method="POST", headers=DEVICE,
                                 json={"punches": [{"pin": pin, "time": when.isoformat() + "+07:00"}]})
    else:
        builder = EnvironBuilder(path="/iclock/cdata", query_string=f"SN={SN}&table=ATTLOG&Stamp=9", method="POST",
                                 data=f"{pin}\t{when:%Y-%m-%d %H:%M:%S}\t0\t1\t0\t0\t0\n".encode(),
                                 content_type="text/plain")
    env = builder.get_environ()
    env["REMOTE_ADDR"] = "127.0.0.1"
    return env


def calls_of(app, env) -> tuple[int, str, bytes]:
    """(Python functions called, status, body) of one request through the WSGI app."""
    status: list[str] = []
    calls, body = python_calls(lambda: b"".join(app(env, lambda s, _h, _e=None: status.append(s))))
    return calls, status[0], body


@pytest.mark.parametrize("kind", ["json", "adms"])
def test_a_one_punch_request_stays_within_its_python_budget(app, kind):
    start = datetime.now(timezone(timedelta(hours=7))).replace(hour=7, minute=0, second=0, microsecond=0,
                                                                 tzinfo=None) - timedelta(days=1)
    # warm: the first requests build caches (statements, schemas, the device's contact noted)
    for k in range(5):
        calls_of(app, environ(kind, STAFF[k][1], start + timedelta(minutes=k)))
    counted = []
    for k in range(5, 10):
        calls, status, body = calls_of(app, environ(kind, STAFF[k][1], start + timedelta(minutes=k)))
        assert status.startswith("200"), body
        assert body == b"OK:1" if kind == "adms" else b'"accepted":1' in body, body
        counted.append(calls)
    # the same punch again: a duplicate, answered as one
    calls, status, body = calls_of(app, environ(kind, STAFF[9][1], start + timedelta(minutes=9)))
    assert body == b"OK:1" if kind == "adms" else b'"duplicates":1' in body, body
    assert min(counted) <= BUDGET[runtime_of(app).engine.dialect.name, kind], counted


# SQLite batches (``bench_ingest``'s shapes: a JSON request of 200 punches, an ADMS upload of 100
# lines), Python calls a punch as this test counts them: 27.5 / 34.0, then 17.5 / 24.0 once the
# look-up of stored punches took its keys as a list and the prepared rows were built without a
# generator a punch (``punch_write_sqlite``: each step of a generator is a Python call)
BATCH_BUDGET = {"json": 20, "adms": 28}
BATCH = {"json": 200, "adms": 100}


def batch_environ(kind: str, pins: list[str], when: datetime) -> dict:
    if kind == "json":
        builder = EnvironBuilder(path="/api/v1/punches", method="POST", headers=DEVICE, json={"punches": [
            {"pin": pin, "time": (when + timedelta(seconds=k)).isoformat() + "+07:00"} for k, pin in enumerate(pins)]})
    else:
        body = "".join(f"{pin}\t{when + timedelta(seconds=k):%Y-%m-%d %H:%M:%S}\t0\t1\t0\t0\t0\n"
                       for k, pin in enumerate(pins))
        builder = EnvironBuilder(path="/iclock/cdata", query_string=f"SN={SN}&table=ATTLOG&Stamp=9", method="POST",
                                 data=body.encode(), content_type="text/plain")
    env = builder.get_environ()
    env["REMOTE_ADDR"] = "127.0.0.1"
    return env


@pytest.mark.parametrize("kind", ["json", "adms"])
def test_a_sqlite_batch_stays_within_its_python_budget_a_punch(sqlite_app, kind):
    start = datetime.now(timezone(timedelta(hours=7))).replace(hour=7, minute=0, second=0, microsecond=0,
                                                                 tzinfo=None) - timedelta(days=1)
    # the same PIN at other times: the roster's 20 people, the batch's punches all new
    pins = [STAFF[k % len(STAFF)][1] for k in range(BATCH[kind])]
    calls_of(sqlite_app, batch_environ(kind, pins, start))  # warm: statements, the device's contact
    calls, status, body = calls_of(sqlite_app, batch_environ(kind, pins, start + timedelta(hours=1)))
    assert status.startswith("200"), body
    assert body == f"OK:{len(pins)}".encode() if kind == "adms" else f'"accepted":{len(pins)}'.encode() in body, body
    assert calls / len(pins) <= BATCH_BUDGET[kind], calls / len(pins)
