"""The consumer's fast decoder gives exactly what ``decode_event`` gives and refuses exactly what it
refuses, with the same reason: generated valid score updates (as penilaian publishes them, a
change's lead with its quarter and year in ``also``, and those two with ``part_of``), each field of
them broken in turn, arbitrary JSON put in any field, and the other types notifikasi reads."""
import copy
import json
from datetime import date, datetime, timedelta, timezone

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kinerja.events import make_event
from kinerja.events.envelope import InvalidEvent
from kinerja.events.kehadiran import DISCIPLINE_ALERT, PUNCH_RECORDED
from kinerja.events.pegawai import EMPLOYEE_UPSERTED
from kinerja.events.penilaian import PREDIKATS, SCORE_UPDATED
from kinerja.events.tugas import TASK_ASSIGNED
from notifikasi.adapters import trusted_decode
from notifikasi.adapters.trusted_decode import decode_record
from kinerja.testing.decoding import BROKEN_VALUES, broken_in_turn, judged_alike

pytestmark = pytest.mark.unit
NIP, ATASAN = "199501012020011003", "198501012010011002"
VALUES = ("disiplin", "produktivitas", "perilaku", "hasil_kerja", "total", "total_partial")


def same(obj) -> str:
    return judged_alike(decode_record, obj)


finite = st.one_of(st.none(), st.floats(-1e6, 1e6, allow_nan=False), st.integers(-10**6, 10**6))
changes = st.lists(st.fixed_dictionaries({"component": st.sampled_from(VALUES)},
                                         optional={"before": finite, "after": finite}), max_size=4)
period_values = {"period": st.sampled_from(["2026-11", "2026-Q4", "2026", ""]), "predikat": st.sampled_from(PREDIKATS)}
optional_values = {k: finite for k in VALUES} | {"changes": changes}
times = st.datetimes(min_value=datetime(2000, 1, 1), max_value=datetime(2100, 1, 1),
                     timezones=st.sampled_from([timezone.utc, timezone(timedelta(hours=7)),
                                                timezone(timedelta(hours=-3, minutes=-30))]))


@st.composite
def score_updates(draw) -> dict:
    data = draw(st.fixed_dictionaries(
        {"nip": st.just(NIP), **period_values},
        optional={**optional_values, "caused_by": st.lists(st.text(max_size=8), max_size=3),
                  "atasan_nip": st.sampled_from([None, ATASAN]),
                  "also": st.lists(st.fixed_dictionaries(period_values, optional=optional_values), max_size=2),
                  "part_of": st.one_of(st.none(), st.text(max_size=70))}))
    when = draw(times)
    envelope = {"specversion": "1.0", "id": draw(st.text(min_size=1, max_size=40)), "type": SCORE_UPDATED,
                "source": "kinerja/penilaian", "time": when.isoformat(), "subject": NIP, "agency": "dinkes",
                "data": data}
    if when.utcoffset() == timedelta(0) and draw(st.booleans()):
        envelope["time"] = when.replace(tzinfo=None).isoformat() + "Z"
    if draw(st.booleans()):
        del envelope["specversion"]
    return envelope


json_values = st.recursive(st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=70),
                           lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=12), inner,
                                                                                       max_size=3), max_leaves=6)


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(score_updates())
def test_generated_score_updates_decode_as_the_schema_decodes_them_on_the_fast_path(obj):
    assert same(obj) == "accepted"
    trusted_decode._score_event(copy.deepcopy(obj))  # vouched for by hand, not handed to the schema


@settings(max_examples=600, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(score_updates(), st.data())
def test_any_json_in_any_field_is_accepted_or_refused_as_the_schema_does(obj, data):
    paths = [(k,) for k in obj] + [("data", k) for k in obj["data"]] + [("data", "unexpected")]
    for i, p in enumerate(obj["data"].get("also", [])):
        paths += [("data", "also", i, k) for k in p] + [("data", "also", i, "unexpected")]
    for i, c in enumerate(obj["data"].get("changes", [])):
        paths += [("data", "changes", i, k) for k in c] + [("data", "changes", i, "unexpected")]
    path = data.draw(st.sampled_from(paths))
    bad = copy.deepcopy(obj)
    target = bad
    for step in path[:-1]:
        target = target[step]
    if data.draw(st.booleans()) and path[-1] in target:
        del target[path[-1]]
    else:
        target[path[-1]] = data.draw(json_values)
    same(bad)


# score fields besides the shared broken values: NIP-like digits elsewhere, predicates in other cases,
# lists of changes
BROKEN = BROKEN_VALUES + [10**400, [{"component": "total"}], "Baik", "baik", "2.0"]


def lead() -> dict:
    quarter = {"period": "2026-Q4", "disiplin": 99.0, "produktivitas": None, "perilaku": None, "hasil_kerja": None,
               "total": None, "total_partial": 98.5, "predikat": "Baik",
               "changes": [{"component": "disiplin", "before": 100.0, "after": 99.0}]}
    event = make_event(SCORE_UPDATED, subject=NIP, agency="dinkes", source="kinerja/penilaian", data={
        "nip": NIP, "period": "2026-11", "disiplin": 99.5, "produktivitas": 96.0, "perilaku": None,
        "hasil_kerja": None, "total": None, "total_partial": 97.75, "predikat": "Baik",
        "changes": [{"component": "disiplin", "before": 100.0, "after": 99.5}], "caused_by": ["day-1"],
        "atasan_nip": ATASAN, "also": [quarter, {**quarter, "period": "2026"}]})
    return json.loads(event.to_bytes())


def part_of_lead() -> dict:
    """The quarter's own event of the change ``lead`` leads."""
    obj = lead()
    obj["data"].update(obj["data"].pop("also")[0], part_of=obj["id"])
    return obj


def test_each_field_broken_in_turn_is_refused_or_accepted_exactly_as_the_schema_does():
    outcomes = {"accepted": 0, "refused": 0}
    cases = [(lead(), lambda o: [o, o["data"], o["data"]["changes"][0], o["data"]["also"][0]]),
             (part_of_lead(), lambda o: [o, o["data"], o["data"]["changes"][0]])]
    for obj, parts in cases:
        for bad in broken_in_turn(obj, parts, BROKEN):
            outcomes[same(bad)] += 1
    assert outcomes["refused"] > 300 and outcomes["accepted"] > 100  # both sides exercised


def test_other_types_and_what_is_not_an_envelope_go_as_decode_event_takes_them():
    others = [
        make_event(PUNCH_RECORDED, subject=NIP, agency="dinkes", source="t", data={
            "punch_id": "p1", "nip": NIP, "device_sn": "SN1", "time": datetime(2026, 11, 3, 7, tzinfo=timezone.utc)}),
        make_event(EMPLOYEE_UPSERTED, subject=NIP, agency="dinkes", source="t", data={
            "nip": NIP, "nama": "Pegawai", "agency": "dinkes", "unit": "Sekretariat", "atasan_nip": ATASAN}),
        make_event(DISCIPLINE_ALERT, subject=NIP, agency="dinkes", source="t", data={
            "nip": NIP, "year": 2026, "kind": "cumulative", "days": 10, "threshold": 10, "date": date(2026, 11, 3)}),
        make_event(TASK_ASSIGNED, subject=NIP, agency="dinkes", source="t", data={
            "task_id": "t1", "nip": NIP, "title": "Laporan", "status": "assigned", "due_date": date(2026, 11, 20),
            "target_quantity": "10"}),
    ]
    for event in others:
        obj = json.loads(event.to_bytes())
        assert same(obj) == "accepted"
        obj["data"]["nip"] = "123"
        assert same(obj) == "refused"
    for raw in (b"", b"not json", b"[1]", b'"x"', b"\xff\xfe", b'{"type": 7}', json.dumps(lead()).encode("utf-16")):
        same(raw)
    with pytest.raises(InvalidEvent):
        decode_record(None)
