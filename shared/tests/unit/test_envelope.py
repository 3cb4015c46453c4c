import json

import pytest

from kinerja.events import InvalidEvent, decode_event, known_types, make_event
from kinerja.events.kehadiran import DAY_SUMMARIZED
from kinerja.events.pegawai import EMPLOYEE_UPSERTED
from kinerja.messaging.topics import topic, topic_for_event_type, topic_specs

NIP = "198503122010011001"

pytestmark = pytest.mark.unit


def roster_event(**over):
    data = {"nip": NIP, "nama": "Budi", "agency": "disdik", "unit": "Sekretariat", "pin": "7", **over}
    return make_event(EMPLOYEE_UPSERTED, subject=NIP, agency="disdik", data=data, source="test")


def test_round_trip_keeps_every_attribute():
    event = roster_event()
    back = decode_event(event.to_bytes())
    assert (back.id, back.type, back.source, back.time, back.subject, back.agency) == (
        event.id, event.type, event.source, event.time, event.subject, event.agency)
    assert back.data == {**event.data, "atasan_nip": None}
    assert json.loads(event.to_bytes())["specversion"] == "1.0"
    assert event.key == NIP.encode()


def test_every_type_has_a_schema_and_a_topic():
    types = known_types()
    assert "kehadiran.punch.recorded.v1" in types and "penilaian.score.updated.v1" in types
    for t in types:
        assert topic_for_event_type(t).endswith(".v1")


@pytest.mark.parametrize(
    "raw, reason",
    [
        (b"\xff\xfe", "not JSON"),
        (b"[1,2]", "not a JSON object"),
        (b'{"id":"1"}', "bad envelope"),
        (None, "tombstone"),
    ],
)
def test_undecodable_messages_say_why(raw, reason):
    with pytest.raises(InvalidEvent, match=reason):
        decode_event(raw)


def test_unknown_type_and_schema_violation_are_invalid():
    good = json.loads(roster_event().to_bytes())
    with pytest.raises(InvalidEvent, match="unknown event type"):
        decode_event(json.dumps({**good, "type": "pegawai.nope.v9"}))
    with pytest.raises(InvalidEvent, match="NIP must be 18 digits"):
        decode_event(json.dumps({**good, "data": {**good["data"], "nip": "12"}}))
    with pytest.raises(InvalidEvent, match="bad envelope"):
        decode_event(json.dumps({**good, "time": "2026-11-03T07:31:00"}))  # no offset


def test_make_event_refuses_data_that_breaks_the_schema():
    with pytest.raises(InvalidEvent):
        make_event(DAY_SUMMARIZED, subject=NIP, agency="a", source="t", data={"nip": NIP})


def test_additive_fields_are_tolerated():
    raw = json.loads(roster_event().to_bytes())
    raw["data"]["golongan"] = "III/a"
    raw["extension"] = "x"
    assert decode_event(json.dumps(raw)).data["nip"] == NIP


def test_topic_prefix_and_specs():
    assert topic("kehadiran.v1", "kalianda") == "kalianda.kehadiran.v1"
    specs = {s.name: s for s in topic_specs("p", partitions=6)}
    assert specs["p.pegawai.v1"].config["cleanup.policy"] == "compact"
    assert specs["p.kehadiran.v1"].partitions == 6
    assert "p.kehadiran.v1.dlq" in specs and len(specs) == 8
