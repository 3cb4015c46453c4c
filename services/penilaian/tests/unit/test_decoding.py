"""The shared decoder (one schema instance per type, reused) decodes the same bytes to the same
event every time and refuses bad messages, and penilaian's cheap skip recognises only the types
penilaian keeps nothing of."""
from datetime import date, datetime, timezone
from decimal import Decimal

import pytest

from kinerja.events import InvalidEvent, decode_event, make_event
from kinerja.events.kehadiran import DAY_SUMMARIZED, PUNCH_RECORDED
from kinerja.events.penilaian import SCORE_UPDATED
from kinerja.testing.skip_oracle import skipped_by_json_loads
from penilaian.entrypoints.consumer import skippable

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


def test_the_reused_schemas_keep_no_state_between_messages():
    raws = [e.to_bytes() for e in events()]
    first = [decode_event(r) for r in raws]
    assert [decode_event(r) for r in reversed(raws)][::-1] == first
    assert first[0].data["deductions"][0]["percent"] == Decimal("1") and first[0].data["date"] == date(2026, 11, 3)


@pytest.mark.parametrize("raw", [None, b"not json", b"[]", b'{"id": "x"}',
                                 b'{"id":"x","type":"no.such.v1","source":"s","time":"2026-11-03T01:00:00+00:00",'
                                 b'"subject":"s","agency":"a","data":{}}'])
def test_bad_messages_are_invalid_as_before(raw):
    with pytest.raises(InvalidEvent):
        decode_event(raw)


def test_only_types_penilaian_keeps_nothing_of_are_skipped():
    day, punch, score = (e.to_bytes() for e in events())
    assert not skippable(day) and skippable(punch) and skippable(score)
    assert not skippable(None) and not skippable(b"garbage") and not skippable(b'{"type": "kehadiran.punch.recorded.v1"')
    # a "type" inside data does not fool it
    sneaky = day.replace(b'"punch_event_ids":["p"]', b'"punch_event_ids":["p"],"x":{"type":"kehadiran.punch.recorded.v1"}')
    assert not skippable(sneaky)


def test_json_that_only_looks_like_a_skipped_type_takes_the_usual_path():
    """a second ``type`` key that is no string (the bytes' first one looks skipped) is decoded and
    dead-lettered, not an exception in the consumer loop"""
    for raw in (b'{"type": "kehadiran.punch.recorded.v1", "type": ["x"]}',
                b'{"type": "penilaian.score.updated.v1", "type": {"a": 1}}',
                b'["x", {"type": "kehadiran.punch.recorded.v1"}]'):
        assert not skippable(raw)


def test_the_skip_answers_as_json_loads_would_for_any_bytes():
    # the shared rule confirms a skip by orjson (``kinerja.messaging.skipping``); the answer must be
    # the one ``json.loads`` gives, for any bytes
    import random

    from penilaian.entrypoints.consumer import SKIPPED_TYPES

    raws = [e.to_bytes() for e in events()]
    odd = [b'\xef\xbb\xbf' + raws[1], raws[1].decode().encode("utf-16"), raws[1].replace(b'"nip"', b'"n":NaN,"nip"'),
           raws[1].replace(b'"nip"', b'"n":123456789012345678901234,"nip"'), raws[1][:-1], raws[1] + b"x",
           raws[1].replace(b'"p"', b'"\\ud800"'), b'{"type":"kehadiran.punch.recorded.v1","type":null}',
           b'{"type":"kehadiran.punch.recorded.v1"' + b',"x":[' * 2000 + b']' * 2000 + b'}', b'\xff' + raws[1]]
    rng = random.Random(7)
    mutated = []
    for _ in range(2000):
        raw = bytearray(rng.choice(raws))
        for _ in range(rng.randint(1, 3)):
            raw[rng.randrange(len(raw))] = rng.randrange(256)
        mutated.append(bytes(raw))
    for raw in [*raws, *odd, *mutated]:
        try:
            want = skipped_by_json_loads(raw, SKIPPED_TYPES.__contains__)
        except RecursionError:  # json.loads's own limit: orjson refuses that depth, json.loads then raises alike
            with pytest.raises(RecursionError):
                skippable(raw)
            continue
        assert skippable(raw) == want, raw
    assert sum(map(skippable, mutated)) > 100  # many mutations leave a punch or score update a skipped one
