"""The JSON batch's hand-checked items held against their marshmallow schema: ``usual_item`` takes
an item only where ``PunchItem().load`` takes it, and gives what the schema gives; every item the
schema refuses it leaves to the schema (which words the reason, as before). The batch's list the
same against ``fields.List(ItemsAsSent(PunchItem))``."""
from __future__ import annotations

import random

import pytest
from marshmallow import Schema, ValidationError, fields, validate

from kehadiran.entrypoints.schemas import ItemsAsSent, PunchBatch, PunchItem, usual_item

pytestmark = pytest.mark.unit
SCHEMA = PunchItem()
ABSENT = object()
NIP = "198503122010011001"
VARIANTS = {
    "pin": [ABSENT, "7", "00000000000000000042", "123456789012345678901", "", None, 7, "7\n", "\u0663", "7a", " 7",
            "\uff17", True],
    "nip": [ABSENT, NIP, NIP[:-1], NIP + "0", None, 198503122010011001, "\u0661" * 18, NIP + "\n", ""],
    "time": [ABSENT, None, "2026-11-03T07:45:00+07:00", "2026-11-03 07:45", "2026-11-03T07:45:00Z",
             "20261103T074500+0700", "1999-12-31T23:00:00+07:00", "2000-01-01T00:00:00+14:00",
             "2101-01-01T00:00:00+00:00", "2100-12-31T23:59:59-12:00", "garbage", 1762130700, "",
             "2026-11-03T07:45:00.123456+05:30", "0001-01-01T00:00:00+00:00", "2026-11-03", "2026-11-03T07:45+07",
             " 2026-11-03T07:45:00+07:00", "2026-02-30T07:45:00+07:00", ["2026-11-03T07:45:00+07:00"]],
    "status": [ABSENT, None, "in", "out", "IN", "", 1, ["in"], {"in": 1}],
    "lat": [ABSENT, None, 0, -90, 90, 90.0001, -6.2, float("nan"), float("inf"), True, "1.5", 10**400, [1]],
    "lon": [ABSENT, None, 0, 180, -180.5, 106.8, float("-inf"), False, "106.8"],
    "extra": [ABSENT, 1],
}
DEVICE = {"pin": "7", "time": "2026-11-03T07:45:00+07:00"}
PHONE: dict = {"lat": -6.2, "lon": 106.8}


def item(base: dict, **changes) -> dict:
    out = dict(base)
    for key, value in changes.items():
        out.pop(key, None)
        if value is not ABSENT:
            out[key] = value
    return out


def corpus() -> list[dict]:
    """Each variant of each field on a device's and a phone's item, and random mixes (fixed seed)."""
    items = [item(base, **{name: value}) for base in (DEVICE, PHONE) for name, values in VARIANTS.items()
             for value in values]
    rng = random.Random(12)
    for _ in range(3000):
        items.append(item({}, **{name: rng.choice(values) for name, values in VARIANTS.items()}))
    # mixes of values the schema takes (one person at most, as it wants): most of them are good
    good = {name: [v for v in values if not isinstance(schema_load({name: v} if v is not ABSENT else {}),
                                                       ValidationError)]
            for name, values in VARIANTS.items()}
    for _ in range(1000):
        mix = {name: rng.choice(values) for name, values in good.items()}
        mix[rng.choice(["pin", "nip"])] = ABSENT
        items.append(item({}, **mix))
    return items


def schema_load(raw):
    try:
        return SCHEMA.load(raw)
    except ValidationError as exc:
        return exc


def same(a, b) -> bool:
    """Equal values of the same types (a float stays a float, not an int that compares equal)."""
    return a == b and [type(v) for v in a.values()] == [type(v) for v in b.values()]


def test_the_usual_item_is_what_the_schema_makes_and_a_refused_one_is_left_to_the_schema():
    taken = refused = 0
    for raw in corpus():
        expected = schema_load(raw)
        got = usual_item(raw)
        if isinstance(expected, ValidationError):
            assert got is None, (raw, expected.messages, got)
            refused += 1
        elif got is not None:
            assert same(got, expected), (raw, got, expected)
            taken += 1
    # both sides were tried in earnest
    assert taken > 200 and refused > 2000, (taken, refused)


@pytest.mark.parametrize("raw", [
    {"pin": "7", "time": "2026-11-03T07:45:00+07:00"},
    {"pin": "00000000000000000042", "time": "2026-11-03T07:45:00.5+07:00", "status": "out"},
    {"nip": NIP, "time": "2026-11-03T00:45:00Z", "status": "in"},
    {"nip": NIP},
    {},
    {"lat": -6.2, "lon": 106.8},
    {"nip": NIP, "time": "2026-11-03T07:45:00+07:00", "status": None, "lat": 0, "lon": -180},
])
def test_what_devices_and_phones_send_takes_the_short_way(raw):
    got = usual_item(raw)
    assert got is not None and same(got, SCHEMA.load(raw))


def test_a_non_object_is_never_taken():
    for raw in (None, [], "7", 7, [{"pin": "7"}]):
        assert usual_item(raw) is None


class OldBatch(Schema):
    punches = fields.List(ItemsAsSent(PunchItem), required=True, validate=validate.Length(min=1, max=5000))


@pytest.mark.parametrize("body", [
    {"punches": [DEVICE, PHONE, {}]},
    {"punches": []},
    {"punches": [DEVICE] * 5001},
    {"punches": [DEVICE] * 5000},
    {"punches": [DEVICE, None, 7, "x", [DEVICE], {**DEVICE, "a": 1, "b": 2, "c": 3, "d": 4, "e": 5}]},
    {"punches": [{k: 1 for k in "abcdef"}]},
    {"punches": [{k: 1 for k in "abcdefg"}]},
    {"punches": "not a list"},
    {"punches": {"0": DEVICE}},
    {"punches": None},
    {},
    {"punches": [DEVICE], "other": 1},
])
def test_the_batch_list_takes_and_refuses_what_it_did(body):
    def load(schema):
        try:
            return "ok", schema.load(body)
        except ValidationError as exc:
            return "refused", exc.messages

    assert load(PunchBatch()) == load(OldBatch())

