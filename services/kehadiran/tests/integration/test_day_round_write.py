"""The PostgreSQL day round's write: the records go once, and the server puts each event's outbox
value together from the record's JSON text and the envelope's fixed parts. Held here byte for byte
against what ``outbox_events.encode`` makes of the same event (the contract the relay publishes),
with text that needs escaping, in the events' order, records new and changed alike."""
from __future__ import annotations

from datetime import date, datetime, timezone

import orjson
import pytest
from sqlalchemy import create_engine, text

from kehadiran.adapters import day_write, outbox_events
from kehadiran.entrypoints.migrate import main as migrate

pytestmark = pytest.mark.integration
AT = "2026-03-02T01:02:03.456789+00:00"


def record(nip: str, day: date, version: int, note: str) -> dict:
    return {"nip": nip, "date": day.isoformat(), "version": version, "final": True, "workday": True,
            "excused": None, "arrival": f"{day}T07:31:00+07:00", "departure": None, "minutes_late": 1,
            "minutes_early": 0, "deductions": [{"code": "TL1", "percent": "0.50", "minutes": 1}],
            "punch_event_ids": ["e1"], "unit": note}


def round_of(keys: list[tuple[str, date, int]], written: datetime, agency: str):
    new, changed, events = [], [], []
    for nip, day, version in keys:
        data = record(nip, day, version, 'Bidang "Umum" — ruang 2\\3')
        row = {"nip": nip, "day": day, "version": version, "final": True, "payload": data, "updated_at": written}
        (changed if version > 1 else new).append(row)
        events.append(outbox_events.day_summarized(nip=nip, agency=agency, data=data, at=AT))
    return new, changed, events


def test_each_outbox_value_is_the_events_own_encoding_in_event_order(postgres_url):
    migrate(postgres_url)
    engine = create_engine(postgres_url)
    written = datetime(2026, 3, 2, 1, 2, 4, tzinfo=timezone.utc)
    agency = 'dinas "é"\\x'
    try:
        with engine.begin() as conn:
            first = round_of([("1985031220100100" + f"{k:02d}", date(2026, 3, 2), 1) for k in range(3)], written,
                             agency)
            day_write.write_days(conn, *first, at=written)
        # a round of a changed record between two new ones: the outbox follows the events, not new-then-changed
        keys = [("198503122010010000", date(2026, 3, 1), 1), ("198503122010010001", date(2026, 3, 2), 2),
                ("198503122010010001", date(2026, 3, 3), 1)]
        with engine.begin() as conn:
            second = round_of(keys, written, agency)
            # the server-built values (the records' general way encodes each event in Python)
            assert day_write._records_with_events(second[0] + second[1], second[2]) is not None
            day_write.write_days(conn, *second, at=written)
        with engine.connect() as conn:
            got = conn.execute(text("SELECT event_id, topic, key, value, created_at FROM outbox ORDER BY id")).all()
            stored = {(nip, day): (version, payload) for nip, day, version, payload in conn.execute(
                text("SELECT nip, day, version, payload::text FROM day_summaries")).all()}
    finally:
        engine.dispose()
    events = first[2] + second[2]
    assert [(e["id"], outbox_events.DAY_TOPIC, e["subject"], outbox_events.encode(e), written) for e in events] \
        == [tuple(row) for row in got]
    for nip, day, version in keys:
        assert stored[(nip, day)][0] == version
        assert orjson.loads(stored[(nip, day)][1]) == record(nip, day, version, 'Bidang "Umum" — ruang 2\\3')


def test_records_without_their_events_go_the_general_way(postgres_url):
    migrate(postgres_url)
    engine = create_engine(postgres_url)
    written = datetime(2026, 3, 2, 1, 2, 4, tzinfo=timezone.utc)
    try:
        with engine.begin() as conn:
            new, changed, events = round_of([("198503122010010007", date(2026, 3, 2), 1)], written, "disdik")
            day_write.write_days(conn, new, changed, [], at=written)
        with engine.connect() as conn:
            assert conn.execute(text("SELECT count(*) FROM outbox")).scalar() == 0
            assert conn.execute(text("SELECT version FROM day_summaries")).scalar() == 1
    finally:
        engine.dispose()
