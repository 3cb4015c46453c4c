"""``kinerja.events.trusted``: the roster's hand check and the shared envelope give what the schemas
give (``decode_event`` = ``parse_envelope`` + ``decode_object``), refuse what they refuse with the
same reason, and leave what they are unsure of to the schemas."""
import copy
import json
from datetime import date

import pytest

from kinerja.events import make_event, trusted
from kinerja.events.envelope import InvalidEvent, decode_event, decode_object, parse_envelope
from kinerja.events.pegawai import EMPLOYEE_UPSERTED
from kinerja.testing.decoding import BROKEN_VALUES, broken_in_turn, judged_alike

pytestmark = pytest.mark.unit
NIP, ATASAN = "199501012020011003", "198501012010011002"
decode = trusted.Decoder(trusted.EMPLOYEE_CHECKS)
BROKEN = BROKEN_VALUES + ["a@b.go.id"]


def roster() -> dict:
    return json.loads(make_event(EMPLOYEE_UPSERTED, subject=NIP, agency="dinkes", source="t", data={
        "nip": NIP, "nama": "Pegawai Satu", "agency": "dinkes", "unit": "Sekretariat", "jabatan": "Staf",
        "atasan_nip": ATASAN, "pin": "1001", "active": True, "tmt": date(2026, 11, 1)}).to_bytes())


def same(obj) -> str:
    if isinstance(obj, dict):  # the schema's two steps are decode_event's
        raw = json.dumps(obj).encode()
        try:
            assert decode_object(parse_envelope(raw)) == decode_event(raw)
        except InvalidEvent:
            pass
    return judged_alike(decode, obj)


def test_a_roster_event_is_vouched_for_by_hand_as_the_schema_loads_it():
    obj = roster()
    assert same(obj) == "accepted"
    assert trusted.checked(copy.deepcopy(obj), trusted.employee) == decode_event(json.dumps(obj).encode())
    with pytest.raises(trusted.Unsure):  # an e-mail address: the schema's
        trusted.checked({**obj, "data": {**obj["data"], "email": "a@b.go.id"}}, trusted.employee)


def test_each_field_broken_in_turn_is_judged_as_the_schema_judges_it():
    outcomes = {"accepted": 0, "refused": 0}
    for bad in broken_in_turn(roster(), values=BROKEN):
        outcomes[same(bad)] += 1
    assert outcomes["refused"] > 100 and outcomes["accepted"] > 10


def test_what_is_not_an_envelope_is_refused_with_decode_event_s_reason():
    for raw in (b"", b"not json", b"[1]", b'"x"', b"\xff\xfe", b'{"type": 7}', b'{"type": ["x"]}'):
        with pytest.raises(InvalidEvent) as want:
            decode_event(raw)
        with pytest.raises(InvalidEvent) as got:
            decode(raw)
        assert str(got.value) == str(want.value)
    with pytest.raises(InvalidEvent, match="tombstone"):
        decode(None)


def test_loads_keeps_integers_beyond_64_bits_exact_as_json_loads_does():
    # orjson alone reads them as floats, and a Decimal or strict Integer field then judges otherwise
    for raw in (b'[1180591620717411303424]', b'[-9999999999999999999, 18446744073709551615]',
                b'[{"pin": "12345678901234567890"}, 2]', b'[1.5e300, 7]'):
        got, want = trusted.loads(raw), json.loads(raw)
        assert got == want and [type(v) for v in got] == [type(v) for v in want], raw


def test_loads_sends_exactly_the_records_with_a_run_of_19_digits_to_json_loads(monkeypatch):
    # the run is found by mapping digits to "0" (one pass in C): the same records as rb"\d{19}"
    import random
    import re

    sent: list[bytes] = []
    monkeypatch.setattr(trusted.json, "loads", lambda raw: sent.append(raw) or json.JSONDecoder().decode(raw.decode()))
    rng = random.Random(19)
    for _ in range(3000):
        digits = "".join(rng.choice("0123456789") for _ in range(rng.randint(0, 24)))
        raw = json.dumps([digits, int(digits or "0"), rng.choice(["x", "٠١٢", "0 0", "9" * rng.randint(15, 21)])]).encode()
        sent.clear()
        assert trusted.loads(raw) == json.JSONDecoder().decode(raw.decode())
        assert bool(sent) == bool(re.search(rb"\d{19}", raw)), raw
