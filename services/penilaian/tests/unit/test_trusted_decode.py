"""The replay's fast decoder gives exactly what ``decode_event`` gives, and refuses exactly what it
refuses: valid events of every hand-checked type, then each field of them broken in turn."""
import copy
import json
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal

import pytest

from kinerja.events import make_event
from kinerja.events.envelope import InvalidEvent, decode_event
from kinerja.events.kehadiran import DAY_SUMMARIZED
from kinerja.events.pegawai import EMPLOYEE_UPSERTED
from kinerja.events.penilaian import RATING_RECORDED
from kinerja.events.tugas import INNOVATION_APPROVED, TASK_APPROVED, TASK_OVERDUE, TASK_RESCHEDULED, TASK_SUBMITTED
from penilaian.adapters import trusted_decode
from penilaian.adapters.trusted_decode import decode_record
from kinerja.testing.decoding import BROKEN_VALUES, broken_in_turn, judged_alike

pytestmark = pytest.mark.unit
WIB = timezone(timedelta(hours=7))
NIP = "199501012020011003"


def samples():
    day = make_event(DAY_SUMMARIZED, subject=NIP, agency="dinkes", source="t", data={
        "nip": NIP, "date": date(2026, 11, 3), "version": 2, "final": True, "workday": True, "excused": None,
        "arrival": datetime(2026, 11, 3, 7, 45, tzinfo=WIB), "minutes_late": 15,
        "deductions": [{"code": "TL1", "percent": Decimal("0.5"), "minutes": 15}], "punch_event_ids": ["p1", "p2"],
        "corrected": True, "correction_ids": ["c1"]})
    plain_day = make_event(DAY_SUMMARIZED, subject=NIP, agency="dinkes", source="t", data={
        "nip": NIP, "date": date(2026, 11, 4), "version": 1, "final": False, "workday": False})
    task = make_event(TASK_APPROVED, subject=NIP, agency="dinkes", source="t", data={
        "task_id": "t1", "nip": NIP, "atasan_nip": None, "title": "Laporan", "status": "approved",
        "due_date": date(2026, 11, 20), "target_quantity": Decimal("10"), "realised_quantity": Decimal("9.5"),
        "quality": 90, "submitted_at": datetime(2026, 11, 19, 9, tzinfo=WIB),
        "approved_at": datetime(2026, 11, 21, 9, tzinfo=timezone.utc), "category": "pelayanan", "rhk_id": "r1"})
    overdue = make_event(TASK_OVERDUE, subject=NIP, agency="dinkes", source="t", data={
        "task_id": "t2", "nip": NIP, "title": "Rekap", "status": "assigned", "due_date": date(2026, 11, 2),
        "target_quantity": Decimal("3")})
    submitted = make_event(TASK_SUBMITTED, subject=NIP, agency="dinkes", source="t", data={
        "task_id": "t3", "nip": NIP, "title": "Bukti", "status": "submitted", "due_date": date(2026, 11, 2),
        "target_quantity": Decimal("3"), "evidence": [{"evidence_id": "e1", "name": "a.pdf", "size": 10,
                                                       "sha256": "a" * 64}]})
    moved = make_event(TASK_RESCHEDULED, subject=NIP, agency="dinkes", source="t", data={
        "task_id": "t2", "nip": NIP, "title": "Rekap", "status": "assigned", "due_date": date(2026, 12, 2),
        "target_quantity": Decimal("3"), "previous_due_date": date(2026, 11, 2), "previous_title": "Rekap",
        "previous_target_quantity": Decimal("3")})
    innovation = make_event(INNOVATION_APPROVED, subject=NIP, agency="dinkes", source="t", data={
        "innovation_id": "i1", "nip": NIP, "title": "Aplikasi", "approved_at": datetime(2026, 11, 5, tzinfo=WIB)})
    employee = make_event(EMPLOYEE_UPSERTED, subject=NIP, agency="dinkes", source="t", data={
        "nip": NIP, "nama": "Pegawai Satu", "agency": "dinkes", "unit": "Sekretariat", "jabatan": "Staf",
        "atasan_nip": "198501012010011002", "pin": "1001", "active": True, "tmt": date(2026, 11, 1)})
    new_employee = make_event(EMPLOYEE_UPSERTED, subject=NIP, agency="dinkes", source="t", data={
        "nip": NIP, "nama": "Pegawai Dua", "agency": "dinkes", "unit": "Bidang 1"})
    with_email = make_event(EMPLOYEE_UPSERTED, subject=NIP, agency="dinkes", source="t", data={
        "nip": NIP, "nama": "Pegawai Tiga", "agency": "dinkes", "unit": "Bidang 1", "email": "a@b.go.id"})
    rating = make_event(RATING_RECORDED, subject=NIP, agency="dinkes", source="t", data={
        "rating_id": "r1", "nip": NIP, "period": "2026-11", "rater": "atasan", "rated_by": "198501012010011002",
        "levels": {"akuntabel": "above", "loyal": "below"}, "rated_at": datetime(2026, 11, 30, 10, tzinfo=WIB)})
    return [json.loads(e.to_bytes()) for e in (day, plain_day, task, overdue, submitted, moved, innovation,
                                                employee, new_employee, with_email, rating)]


def same(obj):
    assert judged_alike(lambda raw: decode_record(raw, json.loads(raw)), obj) == judged_alike(decode_record, obj)
    return judged_alike(decode_record, obj)


def test_valid_events_decode_as_the_schema_decodes_them_and_most_take_the_fast_path(monkeypatch):
    fast = 0
    for obj in samples():
        assert same(obj) == "accepted"
        try:
            trusted_decode._fast(obj)
            fast += 1
        except trusted_decode._Unsure:
            pass
    # the submission with evidence files, the reschedule and the roster entry with an e-mail address go through
    # the schema
    assert fast == 8


def test_every_field_broken_in_turn_is_refused_or_accepted_exactly_as_the_schema_does():
    outcomes = {"accepted": 0, "refused": 0}
    extra = ["meets", "sometimes", "TK", "3.5", "self", "2026-13", "2026-Q5"]

    def parts(o):
        data = o["data"]
        return ([o, data] + ([data["levels"]] if isinstance(data.get("levels"), dict) else [])
                + ([data["deductions"][0]] if data.get("deductions") else []))

    for obj in samples():
        for bad in broken_in_turn(obj, parts, BROKEN_VALUES + extra):
            outcomes[same(bad)] += 1
        bad = copy.deepcopy(obj)
        bad["data"]["unexpected"] = {"x": 1}
        outcomes[same(bad)] += 1
    assert outcomes["refused"] > 300 and outcomes["accepted"] > 100  # both sides exercised


def test_what_is_not_an_envelope_is_refused():
    for raw in (None, b"", b"not json", b"[1]", b'"x"', b"\xff\xfe"):
        with pytest.raises(InvalidEvent):
            decode_record(raw)
