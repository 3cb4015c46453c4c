"""A JSON batch as the API answers it, on SQLite and PostgreSQL: every reason an item is refused
(worded as the schema words it), a batch of good and bad items keeping the good ones, duplicates
within the batch and against stored punches counted once, a re-sent batch changing nothing, a
batch with no good item refused whole (422) with each item's reason, and a malformed batch
refused before anything is looked at."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import func, select

from kehadiran.adapters.orm import PunchRow
from kinerja.auth import issue_token
from kinerja.config import DEV_JWT_SECRET
from kinerja.webapp import runtime_of

pytestmark = pytest.mark.integration
AGENCY = "disdik"
SN = "LMS0001"
OPERATOR = {"Authorization": "Bearer " + issue_token(DEV_JWT_SECRET, role="operator", agency="*")}
DEVICE = {"Authorization": "Bearer " + issue_token(DEV_JWT_SECRET, role="device", agency=AGENCY, device_sn=SN),
          "Accept-Language": "en"}
STAFF = [(f"19850312201001{k:04d}", str(100 + k)) for k in range(6)]
NIP, PIN = STAFF[0]


def at(minutes: int) -> str:
    day = datetime.now(timezone(timedelta(hours=7))).date() - timedelta(days=1)
    return (datetime.combine(day, datetime.min.time()) + timedelta(hours=7, minutes=minutes)).isoformat() + "+07:00"


def stored(app) -> tuple[int, int]:
    """(punches, outbox rows)."""
    runtime = runtime_of(app)
    with runtime.engine.connect() as c:
        return (c.execute(select(func.count()).select_from(PunchRow)).scalar(),
                c.execute(select(func.count()).select_from(runtime.outbox_table)).scalar())


FUTURE = (datetime.now(timezone.utc) + timedelta(days=2)).isoformat()
# each refused item and what the answer says of it (English: Accept-Language)
REFUSED = [
    ({"pin": "7a", "time": at(1)}, {"pin": ["PIN must be 1-20 digits"]}),
    ({"pin": "1" * 21, "time": at(1)}, {"pin": ["PIN must be 1-20 digits"]}),
    ({"nip": "1234", "time": at(1)}, {"nip": ["NIP must be 18 digits"]}),
    ({"pin": PIN, "nip": NIP, "time": at(1)}, {"pin": ["give one of pin or nip, not both"]}),
    ({"pin": PIN, "time": "2026-11-03 07:45"}, {"time": ["Not a valid aware datetime."]}),
    ({"pin": PIN, "time": "yesterday"}, {"time": ["Not a valid datetime."]}),
    ({"pin": PIN, "time": "1999-12-31T07:45:00+07:00"}, {"time": ["time must be from 2000-01-01 to 2100-12-31"]}),
    ({"pin": PIN, "time": at(1), "status": "masuk"}, {"status": ["Must be one of: in, out."]}),
    ({"pin": PIN, "time": at(1), "lat": 91}, {"lat": ["Must be greater than or equal to -90 and less than or "
                                                      "equal to 90."]}),
    ({"pin": PIN, "time": at(1), "lon": "east"}, {"lon": ["Not a valid number."]}),
    ({"pin": PIN, "time": at(1), "colour": "red"}, {"colour": ["Unknown field."]}),
    ({"pin": PIN, "time": None}, {"time": ["a device sends the time of each punch"]}),
    ({"pin": PIN}, {"time": ["a device sends the time of each punch"]}),
    ({"time": at(1)}, {"pin": ["a device names the person: pin or nip"]}),
    ({"pin": PIN, "time": FUTURE}, {"time": ["time is in the future"]}),
    ({"pin": None, "time": at(1)}, {"pin": ["Field may not be null."]}),
]


def test_every_reason_is_reported_by_index_and_the_good_items_are_kept(app):
    client = app.test_client()
    good = [{"pin": STAFF[1][1], "time": at(2)}, {"nip": STAFF[2][0], "time": at(3), "status": "in"}]
    batch = [good[0], *(raw for raw, _ in REFUSED), good[1]]
    r = client.post("/api/v1/punches", json={"punches": batch}, headers=DEVICE)
    assert r.status_code == 200, r.json
    assert (r.json["accepted"], r.json["duplicates"], r.json["quarantined"]) == (2, 0, 0)
    assert r.json["rejected"] == [{"index": i + 1, "errors": errors} for i, (_, errors) in enumerate(REFUSED)]
    assert stored(app) == (2, 2)


def test_a_batch_of_bad_items_only_is_refused_whole_with_each_reason(app):
    client = app.test_client()
    r = client.post("/api/v1/punches", json={"punches": [raw for raw, _ in REFUSED]}, headers=DEVICE)
    assert r.status_code == 422, r.json
    assert r.json["detail"]["rejected"] == [{"index": i, "errors": errors} for i, (_, errors) in enumerate(REFUSED)]
    assert stored(app) == (0, 0)


@pytest.mark.parametrize("body, where", [
    ({"punches": []}, "punches"),
    ({"punches": "7"}, "punches"),
    ({"punches": [None, {"pin": PIN, "time": at(1)}]}, "punches"),
    ({"punches": [{"pin": PIN, "time": at(1), "status": "in", "lat": 0, "lon": 0, "a": 1, "b": 2}]}, "punches"),
    ({}, "punches"),
])
def test_a_malformed_batch_is_refused_before_any_item(app, body, where):
    r = app.test_client().post("/api/v1/punches", json=body, headers=DEVICE)
    assert r.status_code == 422 and where in str(r.json), r.json
    assert stored(app) == (0, 0)


def test_duplicates_in_the_batch_and_against_stored_punches_count_once_and_a_resent_batch_changes_nothing(app):
    client = app.test_client()
    first = [{"pin": STAFF[k][1], "time": at(10 + k)} for k in range(3)]
    r = client.post("/api/v1/punches", json={"punches": first}, headers=DEVICE)
    assert (r.json["accepted"], r.json["duplicates"]) == (3, 0)
    # the same person at the same device time, by PIN twice in one batch; and the first batch's punches again
    batch = [*first, {"pin": STAFF[3][1], "time": at(20)}, {"pin": STAFF[3][1], "time": at(20)},
             {"pin": STAFF[4][1], "time": at(21)}, {"pin": "999", "time": at(22)}]
    r = client.post("/api/v1/punches", json={"punches": batch}, headers=DEVICE)
    assert r.status_code == 200, r.json
    assert (r.json["accepted"], r.json["duplicates"], r.json["quarantined"], r.json["rejected"]) == (2, 4, 1, [])
    assert stored(app) == (6, 5)  # the unknown PIN's punch waits without an event
    # sent again, whole: every punch stored already, nothing written
    r = client.post("/api/v1/punches", json={"punches": batch}, headers=DEVICE)
    assert (r.json["accepted"], r.json["duplicates"], r.json["quarantined"]) == (0, 7, 0)
    assert stored(app) == (6, 5)
