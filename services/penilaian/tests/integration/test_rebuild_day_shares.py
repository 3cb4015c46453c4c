"""Day facts folded in two processes reach the table as one process's fold would write them, on
SQLite and PostgreSQL: each share hands its rows over packed (``pack_days``, chunks of bytes) and
they are written a chunk at a time (``write_days``); where two shares hold days of one ASN (only
after partitions were added), the greater (version, event id) per day stays, as
``store_day_fact`` keeps."""
from datetime import date, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from kinerja.db import make_engine, make_session_factory
from kinerja.events import decode_event, make_event
from kinerja.events.kehadiran import DAY_SUMMARIZED
from penilaian.adapters.orm import DayFactRow
from penilaian.entrypoints.migrate import main as migrate
from penilaian.service_layer.replay import FactFold, stored
from penilaian.service_layer.scoring import Touched

pytestmark = pytest.mark.integration
ZONE = ZoneInfo("Asia/Jakarta")
X, Y, Z = "199501012020011003", "199601012020011004", "199701012020011005"
D = [date(2026, 11, 2) + timedelta(days=k) for k in range(3)]


def day(nip, d, version, *deductions, event_id=None):
    return decode_event(make_event(DAY_SUMMARIZED, subject=nip, agency="dinkes", source="t", event_id=event_id, data={
        "nip": nip, "date": d, "version": version, "final": False, "workday": True,
        "deductions": [{"code": c, "percent": Decimal(p), "minutes": 5} for c, p in deductions],
        "punch_event_ids": [f"p{version}", f"q{version}"], "corrected": version > 1}).to_bytes())


def folded(events):
    fold = FactFold(ZONE, Touched())
    for e in events:
        fold.add(e)
    return fold


def test_two_shares_of_day_facts_are_written_as_one_fold_would(database_url):
    first = [day(X, D[0], 1), day(X, D[1], 3, ("TL1", "0.5")), day(Y, D[0], 1), day(X, D[2], 2, event_id="b" * 8)]
    second = [day(X, D[0], 2, ("TK", "4")), day(X, D[1], 2), day(X, D[2], 2, event_id="a" * 8),
              day(Z, D[0], 1), day(Z, D[1], 1), day(Z, D[2], 1, ("PSW1", "0.5"))]
    by_key = lambda r: (r[0], r[1])  # noqa: E731 - (nip, day)
    want = sorted((list(stored(r).values()) for r in folded(first + second).days.values()), key=by_key)

    migrate(database_url)
    engine = make_engine(database_url)
    sessions = make_session_factory(engine)
    a, b = folded(first), folded(second)
    chunks_a, chunks_b = a.pack_days(), b.pack_days(rows=2)
    assert (len(chunks_a), len(chunks_b)) == (1, 3) and not a.days and not b.days  # handed over, forgotten
    with sessions() as s, s.begin():
        a.write_days(s, chunks_a)
    with sessions() as s, s.begin():
        b.write_days(s, chunks_b, merge_nips={X})  # X's days were written by the first share
    assert chunks_a == chunks_b == []  # each chunk let go once written
    with sessions() as s:
        got = sorted((list(r) for r in s.execute(select(*DayFactRow.__table__.columns))), key=by_key)
    engine.dispose()
    assert got == want
    assert a.written["day_facts"] + b.written["day_facts"] == len(want) == 7
