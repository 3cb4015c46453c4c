"""Every event kehadiran builds by hand (plain dicts, no marshmallow on the hot path) holds
against its marshmallow schema: valid, and exactly what the schema itself would write, so the
contract cannot drift and an unchanged day compares equal to the record stored before."""
from __future__ import annotations

import uuid
from datetime import date, datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo

import orjson
import pytest

from kehadiran.adapters import outbox_events
from kehadiran.adapters.day_store import Asn, StoredDay
from kehadiran.domain.discipline import Punch
from kehadiran.domain.schedule import DayHours, ScheduleContext
from kehadiran.service_layer.day_recompute import day_record, local_iso
from kinerja.events import data_schema, decode_event, make_event
from kinerja.events.envelope import EnvelopeSchema

pytestmark = pytest.mark.unit
WIB = ZoneInfo("Asia/Jakarta")
NIP = "198503122010011001"
NOW = datetime(2026, 11, 20, 3, tzinfo=timezone.utc)
DAY = date(2026, 11, 3)  # a Tuesday, over by NOW
ASN = Asn(NIP, "disdik", "Sekretariat", None, True)


def held_against_its_schema(event: dict) -> None:
    schema = data_schema(event["type"])
    assert schema.validate(event["data"]) == {}
    # what the schema writes of what it reads is the dict itself, same text (besides the
    # defaults loading fills in for keys the dict leaves out)
    written = schema.dump(schema.load(event["data"]))
    assert {k: v for k, v in written.items() if k in event["data"]} == event["data"]
    assert set(written) - set(event["data"]) <= {"correction_id", "corrected", "correction_ids"}
    assert EnvelopeSchema().validate(event) == {}
    decoded = decode_event(outbox_events.encode(event))
    assert (decoded.id, decoded.type, decoded.subject, decoded.agency) == (
        event["id"], event["type"], event["subject"], event["agency"])
    assert {k: v for k, v in schema.dump(decoded.data).items() if k in event["data"]} == event["data"]


@pytest.mark.parametrize("status, pin, correction", [(None, "7", None), ("out", "1234", None),
                                                     ("in", None, "c0ffee00-0000-4000-8000-000000000001")])
def test_a_punch_recorded_dict_is_what_make_event_makes(status, pin, correction):
    when = datetime(2026, 11, 3, 0, 45, 12, tzinfo=timezone.utc)
    punch_id, event_id = outbox_events.punch_ids("LMS0001", pin or NIP, when.replace(tzinfo=None))
    event = outbox_events.punch_recorded(event_id, punch_id=punch_id, nip=NIP, agency="disdik", device_sn="LMS0001",
                                         pin=pin, time=when, status=status, channel="adms", correction_id=correction,
                                         at=NOW)
    held_against_its_schema(event)
    data = {"punch_id": punch_id, "nip": NIP, "device_sn": "LMS0001", "pin": pin, "time": when, "status": status,
            "channel": "adms", **({"correction_id": correction} if correction else {})}
    reference = make_event("kehadiran.punch.recorded.v1", subject=NIP, agency="disdik", data=data,
                           source="kinerja/kehadiran", time=NOW, event_id=event_id)
    assert orjson.loads(outbox_events.encode(event)) == orjson.loads(reference.to_bytes())
    # a batch passes its instant as text, once for all its events: the same event
    assert outbox_events.punch_recorded(event_id, punch_id=punch_id, nip=NIP, agency="disdik", device_sn="LMS0001",
                                        pin=pin, time=when, status=status, channel="adms", correction_id=correction,
                                        at=NOW.isoformat()) == event


def test_punch_ids_follow_the_punch_identity():
    t = datetime(2026, 11, 3, 7, 45)
    assert outbox_events.punch_ids("A", "7", t) == outbox_events.punch_ids("A", "7", t)
    ids = {outbox_events.punch_ids(sn, pin, when) for sn, pin, when in
           (("A", "7", t), ("B", "7", t), ("A", "8", t), ("A", "7", t + timedelta(seconds=1)))}
    assert len(ids) == 4 and len({i for pair in ids for i in pair}) == 8


@pytest.mark.parametrize("sn, pin", [("LMS0001", "7"), ("phone-198503122010011001", "198503122010011001"),
                                     ("BENCH0001", "00000000000000000042"), ("ZK\u00e9\u4e2d", "A9")])
def test_punch_ids_are_the_uuid5_of_the_identity_so_stored_punches_keep_converging(sn, pin):
    """The ids are built without ``uuid.UUID``; they must stay exactly ``uuid5``'s, or a batch
    re-sent across an upgrade would be stored twice under new ids."""
    for k in range(64):
        when = datetime(2026, 11, 3, 7, 45) + timedelta(seconds=k * 997, microseconds=k * 12_345 % 1_000_000 * (k % 2))
        name = outbox_events.punch_identity(sn, pin, when)
        assert outbox_events.punch_ids(sn, pin, when) == (
            str(uuid.uuid5(outbox_events.PUNCH_NAMESPACE, name)), str(uuid.uuid5(outbox_events.PUNCH_EVENT_NAMESPACE, name)))


def local(h, m=0, day=DAY):
    return datetime.combine(day, time(h, m))


CASES = {
    "late, left early": [Punch(local(7, 45), None, "e1"), Punch(local(15, 10), "out", "e2")],
    "arrival only": [Punch(local(8, 5), None, "e1")],
    "nobody punched": [],
    "corrected": [Punch(local(7, 20), "in", "e1", "c1"), Punch(local(16, 40), "out", "e2", "c1")],
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_a_day_summarized_dict_holds_against_its_schema(case):
    record = day_record(ASN, DAY, ScheduleContext(), CASES[case], None, None, None, tz=WIB, now=NOW)
    event = outbox_events.day_summarized(nip=NIP, agency="disdik", data=record, at=NOW)
    held_against_its_schema(event)
    if case == "corrected":
        assert record["corrected"] is True and record["correction_ids"] == ["c1"]
    else:
        assert "corrected" not in record


@pytest.mark.parametrize("leave, shift", [("cuti", None), (None, "off"), (None, "night")])
def test_excused_days_days_off_and_night_shifts_hold_too(leave, shift):
    shifts = {DAY: None} if shift == "off" else {DAY: DayHours(time(22), time(6))} if shift == "night" else {}
    punches = [Punch(local(21, 55), None, "e1"), Punch(local(6, 2, DAY + timedelta(days=1)), None, "e2")]
    record = day_record(ASN, DAY, ScheduleContext(shifts=shifts), punches, leave, None, None, tz=WIB, now=NOW)
    held_against_its_schema(outbox_events.day_summarized(nip=NIP, agency="disdik", data=record, at=NOW))


def test_an_unchanged_day_is_not_published_again_and_a_changed_one_is_the_next_version():
    punches = CASES["late, left early"]
    first = day_record(ASN, DAY, ScheduleContext(), punches, None, None, None, tz=WIB, now=NOW)
    assert first["version"] == 1
    # the record stored before is what the schema wrote (the way it was stored until now)
    schema = data_schema("kehadiran.day.summarized.v1")
    stored = StoredDay(1, {k: v for k, v in schema.dump(schema.load(first)).items() if k in first})
    assert day_record(ASN, DAY, ScheduleContext(), punches, None, stored, None, tz=WIB, now=NOW) is None
    again = day_record(ASN, DAY, ScheduleContext(), punches[:1], None, stored, None, tz=WIB, now=NOW)
    assert again["version"] == 2 and [d["code"] for d in again["deductions"]] == ["TL1", "PSW4"]


@pytest.mark.parametrize("zone_name", ["Asia/Jakarta", "Asia/Makassar", "Asia/Jayapura", "Europe/Berlin",
                                       "America/St_Johns", "Australia/Lord_Howe", "Asia/Kathmandu"])
def test_a_records_local_times_are_written_as_the_zone_writes_them(zone_name):
    """``local_iso`` (the offset looked up once a date) writes what ``isoformat`` of the aware
    time writes, on days whose offset changes too (every quarter hour of two years)."""
    from zoneinfo import ZoneInfo

    from kehadiran.service_layer.day_recompute import local_iso

    tz = ZoneInfo(zone_name)
    t = datetime(2025, 1, 1, 0, 0, 0, 123)
    while t.year < 2027:
        assert local_iso(t, tz) == t.replace(tzinfo=tz).isoformat(), t
        t += timedelta(minutes=15)


def test_day_event_ids_are_uuid7_growing_with_time():
    """Day events' ids lead with their creation time (ms), so the btrees keyed by them (the
    outbox's unique ``event_id``, consumers' ``processed_events``) grow at their right end."""
    import time as clock

    before = clock.time_ns() // 1_000_000
    ids = [outbox_events.day_summarized(nip=NIP, agency="disdik", data={}, at=NOW)["id"] for _ in range(2000)]
    after = clock.time_ns() // 1_000_000
    parsed = [uuid.UUID(i) for i in ids]
    assert all(u.version == 7 and u.variant == uuid.RFC_4122 and str(u) == i for u, i in zip(parsed, ids))
    stamps = [u.int >> 80 for u in parsed]
    assert before <= stamps[0] and stamps == sorted(stamps) and stamps[-1] <= after
    assert len(set(ids)) == len(ids)
