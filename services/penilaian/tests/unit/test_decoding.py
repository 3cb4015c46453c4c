"""penilaian's decoder (one schema per type) gives exactly what the shared one gives, and the
consumer's cheap skip recognises only the types penilaian keeps nothing of."""
from datetime import date, datetime, timezone
from decimal import Decimal

import pytest

from kinerja.events import InvalidEvent, decode_event, make_event
from kinerja.events.kehadiran import DAY_SUMMARIZED, PUNCH_RECORDED
from kinerja.events.penilaian import SCORE_UPDATED
from penilaian.entrypoints.consumer import skippable
from penilaian.entrypoints.decoding import decode

NIP = "199501012020011003"


def events():
    at = datetime(2026, 11, 3, 1, tzinfo=timezone.utc)
    return [
        make_event(DAY_SUMMARIZED, subject=NIP, agency="a", source="t", data={
            "nip": NIP, "date": date(2026, 11, 3), "version": 2, "final": True, "workday": True,
            "deductions": [{"code": "TL2", "percent": Decimal("1"), "minutes": 40}], "punch_event_ids": ["p"]}),
        make_event(PUNCH_RECORDED, subject=NIP, agency="a", source="t", data={
            "punch_id": "p", "nip": NIP, "device_sn": "SN", "time": at}),
        make_event(SCORE_UPDATED, subject=NIP, agency="a", source="t", data={
            "nip": NIP, "period": "2026-11", "predikat": "Baik", "total": 80.5}),
    ]


def test_same_as_the_shared_decoder():
    for e in events():
        assert decode(e.to_bytes()) == decode_event(e.to_bytes())
        assert decode(e.to_bytes()) == decode(e.to_bytes())  # the cached schema keeps no state


@pytest.mark.parametrize("raw", [None, b"not json", b"[]", b'{"id": "x"}',
                                 b'{"id":"x","type":"no.such.v1","source":"s","time":"2026-11-03T01:00:00+00:00",'
                                 b'"subject":"s","agency":"a","data":{}}'])
def test_bad_messages_are_invalid_as_before(raw):
    with pytest.raises(InvalidEvent):
        decode(raw)
    with pytest.raises(InvalidEvent):
        decode_event(raw)


def test_only_types_penilaian_keeps_nothing_of_are_skipped():
    day, punch, score = (e.to_bytes() for e in events())
    assert not skippable(day) and skippable(punch) and skippable(score)
    assert not skippable(None) and not skippable(b"garbage") and not skippable(b'{"type": "kehadiran.punch.recorded.v1"')
    # a "type" inside data does not fool it
    sneaky = day.replace(b'"punch_event_ids":["p"]', b'"punch_event_ids":["p"],"x":{"type":"kehadiran.punch.recorded.v1"}')
    assert not skippable(sneaky)
