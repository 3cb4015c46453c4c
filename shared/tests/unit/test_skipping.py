"""skip_unwanted and skip_types: a consumer passes over event types it does not keep from their
bytes, and never skips a kept type or hides a broken message."""
import json
from datetime import datetime, timezone

import pytest

from kinerja.events import make_event
from kinerja.events.kehadiran import PUNCH_RECORDED
from kinerja.events.penilaian import SCORE_UPDATED
from kinerja.messaging.skipping import skip_types, skip_unwanted
from kinerja.testing.skip_oracle import skipped_by_json_loads

pytestmark = pytest.mark.unit

NIP = "199001012015031001"
skip = skip_unwanted({SCORE_UPDATED})
passed_over = skip_types({PUNCH_RECORDED})


def punch_bytes() -> bytes:
    return make_event(PUNCH_RECORDED, subject=NIP, agency="x", source="t",
                      data={"punch_id": "p1", "nip": NIP, "device_sn": "SN1",
                            "time": datetime(2026, 11, 2, tzinfo=timezone.utc)}).to_bytes()


def test_an_unwanted_type_is_skipped_and_a_wanted_one_is_not():
    assert skip(punch_bytes())
    score = {"id": "e1", "type": SCORE_UPDATED, "data": {"nip": NIP}}
    assert not skip(json.dumps(score).encode())


def test_the_envelope_decides_not_a_type_inside_the_data():
    # a "type" in the data that comes first: the envelope's own type is the wanted one
    raw = json.dumps({"data": {"type": "something.else.v1"}, "id": "e1", "type": SCORE_UPDATED}).encode()
    assert not skip(raw)
    # the first "type" looks wanted: not skipped here (the decoded type is checked by ``wants``)
    raw = json.dumps({"data": {"type": SCORE_UPDATED}, "id": "e1", "type": PUNCH_RECORDED}).encode()
    assert not skip(raw)


@pytest.mark.parametrize("raw", [None, b"", b"not json", b'{"type": "x.v1"', b'["type", "x"]',
                                 b'{"id": "e1"}', b'{"type": 7, "x": {"type": "a.b"}}'])
def test_anything_not_plainly_an_unwanted_event_takes_the_usual_path(raw):
    assert not skip(raw)  # decoded, and dead-lettered if invalid
    assert not passed_over(raw)


def test_a_listed_type_is_passed_over_and_every_other_type_is_kept():
    assert passed_over(punch_bytes())
    for other in (SCORE_UPDATED, "kehadiran.something.new.v1"):  # a type added later is kept
        assert not passed_over(json.dumps({"id": "e1", "type": other, "data": {}}).encode())
    # a listed type inside the data does not make the event a listed one, first or not
    assert not passed_over(json.dumps({"data": {"type": PUNCH_RECORDED}, "id": "e1", "type": SCORE_UPDATED}).encode())
    assert not passed_over(json.dumps({"id": "e1", "type": SCORE_UPDATED, "data": {"type": PUNCH_RECORDED}}).encode())


@pytest.mark.parametrize("raw", [
    # the bytes look like a passed-over type, the JSON says otherwise: a second "type" key wins
    b'{"type": "kehadiran.punch.recorded.v1", "type": ["x"]}',
    b'{"type": "kehadiran.punch.recorded.v1", "type": {"a": 1}}',
    b'{"type": "kehadiran.punch.recorded.v1", "type": null}',
    b'{"type": "kehadiran.punch.recorded.v1", "x": "\xff"}',  # not UTF-8
    b'["x", {"type": "kehadiran.punch.recorded.v1"}]',
])
def test_json_that_is_no_envelope_is_never_passed_over(raw):
    """decoded (and dead-lettered) instead: never skipped, and never an exception in the loop"""
    assert not passed_over(raw) and not skip(raw)


def test_both_rules_answer_as_json_loads_would_for_any_bytes():
    """the skip is confirmed by orjson (json.loads for what it refuses): the answers are those of
    the rule written with json.loads, over valid, odd and randomly broken records"""
    import random

    punch = punch_bytes()
    odd = [b'\xef\xbb\xbf' + punch, punch.decode().encode("utf-16"), punch.replace(b'"nip"', b'"n":NaN,"nip"'),
           punch.replace(b'"nip"', b'"n":1e400,"nip"'), punch.replace(b'"nip"', b'"n":123456789012345678901234,"nip"'),
           punch[:-1], punch + b"x", punch + b"\x1c", punch.replace(b'"p1"', b'"\\ud800"'),
           punch.replace(b'"t"', b'"t\\u0000"'), b'\xff' + punch]
    rng = random.Random(11)
    mutated = []
    for _ in range(1500):
        raw = bytearray(punch)
        for _ in range(rng.randint(1, 3)):
            raw[rng.randrange(len(raw))] = rng.randrange(256)
        mutated.append(bytes(raw))
    for raw in [punch, *odd, *mutated]:
        assert passed_over(raw) == skipped_by_json_loads(raw, lambda kind: kind == PUNCH_RECORDED), raw
        assert skip(raw) == skipped_by_json_loads(raw, lambda kind: kind != SCORE_UPDATED), raw
    assert sum(map(passed_over, mutated)) > 100  # many mutations leave a punch a skipped one


def test_a_skipped_punch_costs_two_python_calls():
    """the rule and its JSON read (orjson, in C): json.loads's Python layers (encoding detection,
    decoder, scanner) are not run for a skipped punch. Counted with the caller's lambda: 3 calls
    (the rule written with json.loads: 8)"""
    from kinerja.testing.counting import python_calls

    raw = punch_bytes()
    assert python_calls(lambda: passed_over(raw)) == (3, True)
    assert python_calls(lambda: skip(raw)) == (3, True)
