"""A synthetic, realistic month of events for one agency: the roster, two punches and a day
summary per ASN per workday (several versions for some days), tasks with their lifecycles
(approved on time or late, returned then approved, left overdue, cancelled), innovations,
BerAKHLAK ratings, training, dialogs, a policy version and the organisation's predikat. Seeded, so
the same arguments give the same events. Used by the rebuild test and ``bench/penilaian_apply.py``."""
from __future__ import annotations

import random
import uuid
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal

from kinerja.events import make_event
from kinerja.events.envelope import Event, data_schema
from kinerja.events.kehadiran import DAY_SUMMARIZED, PUNCH_RECORDED
from kinerja.events.pegawai import EMPLOYEE_UPSERTED
from kinerja.events.penilaian import (
    DIALOG_RECORDED,
    ORGANISATION_RATED,
    POLICY_SET,
    RATING_RECORDED,
    TRAINING_RECORDED,
)
from kinerja.events.tugas import (
    INNOVATION_APPROVED,
    TASK_APPROVED,
    TASK_ASSIGNED,
    TASK_CANCELLED,
    TASK_OVERDUE,
    TASK_RETURNED,
    TASK_SUBMITTED,
)
from kinerja.messaging import topics

WIB = timezone(timedelta(hours=7))
VALUES = ("berorientasi_pelayanan", "akuntabel", "kompeten", "harmonis", "loyal", "adaptif", "kolaboratif")
CODES = [("TL1", "0.5"), ("TL2", "1"), ("TL3", "1.5"), ("TL4", "2"), ("PSW1", "0.5"), ("PSW2", "1"), ("TK", "4")]


@dataclass
class Month:
    events: list[tuple[str, Event]] = field(default_factory=list)  # (base topic, event), in publishing order
    nips: list[str] = field(default_factory=list)
    agency: str = ""

    def by_topic(self) -> dict[str, int]:
        out: dict[str, int] = {}
        for t, _ in self.events:
            out[t] = out.get(t, 0) + 1
        return out


def _uuid(rng: random.Random) -> str:
    return str(uuid.UUID(int=rng.getrandbits(128), version=4))


def synthetic_nip(i: int) -> str:
    """The i-th synthetic ASN's NIP: 18 digits for up to 990,000 ASN (a 1 M-event month has ~12,000)."""
    if not 0 <= i < 990_000:
        raise ValueError(f"no 18-digit synthetic NIP for ASN {i}")
    return f"19{80 + i % 20:02d}0101201{i % 10}{10_000 + i:06d}"


def generate_month(n_asn: int = 300, *, year: int = 2026, month: int = 11, agency: str = "dinkes",
                   seed: int = 1, punches: bool = True, duplicates: float = 0.01) -> Month:
    rng = random.Random(seed)
    out = Month(agency=agency)
    src = "synthetic"

    schemas: dict = {}

    def add(topic_name: str, event_type: str, subject: str, data: dict, at: datetime, ag: str = agency) -> Event:
        # dumped with the type's schema (as make_event does) but validated only for the first of each
        # type: validating every one would take most of the time
        if event_type not in schemas:
            make_event(event_type, subject=subject, agency=ag, source=src, data=data, time=at)
            schemas[event_type] = data_schema(event_type)
        e = Event(id=_uuid(rng), type=event_type, source=src, time=at, subject=subject, agency=ag,
                  data=schemas[event_type].dump(data))
        out.events.append((topic_name, e))
        return e

    first = date(year, month, 1)
    last = (date(year + (month == 12), month % 12 + 1, 1) - timedelta(days=1))
    days = [first + timedelta(days=i) for i in range((last - first).days + 1)]
    workdays = [d for d in days if d.weekday() < 5]
    start = datetime.combine(first, datetime.min.time(), WIB)

    # roster: a kepala, a supervisor for each 10 ASN, six units
    nips = [synthetic_nip(i) for i in range(n_asn)]
    out.nips = nips
    for i, nip in enumerate(nips):
        boss = None if i == 0 else nips[0] if i % 10 == 0 else nips[i - i % 10]
        add(topics.PEGAWAI, EMPLOYEE_UPSERTED, nip,
            {"nip": nip, "nama": f"ASN {i}", "agency": agency, "unit": f"Bidang {i % 6 + 1}", "atasan_nip": boss,
             "pin": str(1000 + i), "jabatan": "Kepala Dinas" if i == 0 else "Staf"}, start - timedelta(days=30))
    # the agency's policy from this month, and its own predikat
    add(topics.PENILAIAN, POLICY_SET, agency,
        {"policy_id": _uuid(rng), "agency": agency, "version": 1, "effective_from": first,
         "weight_hasil_kerja": Decimal("0.7"), "weight_perilaku": Decimal("0.3"), "above_from": Decimal("88"),
         "meets_from": Decimal("70"), "innovation_points": Decimal("4"), "innovation_cap": Decimal("8"),
         "timeliness_penalty_per_day": Decimal("10"), "distribution_curve": None, "set_by": nips[0],
         "set_at": start - timedelta(days=2)}, start - timedelta(days=2))
    add(topics.PENILAIAN, ORGANISATION_RATED, agency,
        {"rating_id": _uuid(rng), "agency": agency, "period": f"{year:04d}", "predikat": "Baik",
         "set_by": nips[0], "set_at": start - timedelta(days=1)}, start - timedelta(days=1))

    for i, nip in enumerate(nips):
        boss = None if i == 0 else nips[0] if i % 10 == 0 else nips[i - i % 10]
        lateness = rng.random()  # some ASN are late often
        for d in workdays:
            at = datetime.combine(d, datetime.min.time(), WIB)
            punch_ids = []
            if punches:
                for hh, mm in ((7, rng.randint(0, 59)), (16, rng.randint(0, 59))):
                    p = add(topics.KEHADIRAN, PUNCH_RECORDED, nip,
                            {"punch_id": _uuid(rng), "nip": nip, "device_sn": "SYN1", "pin": str(1000 + i),
                             "time": at.replace(hour=hh, minute=mm), "status": None, "channel": "adms"},
                            at.replace(hour=hh, minute=mm))
                    punch_ids.append(p.id)
            versions = 1 + (rng.random() < 0.2) + (rng.random() < 0.05)
            for v in range(1, versions + 1):
                codes = []
                if rng.random() < 0.03:
                    codes = [("TK", "4")]
                elif rng.random() < lateness * 0.4:
                    codes = rng.sample(CODES[:6], k=rng.choice((1, 1, 2)))
                add(topics.KEHADIRAN, DAY_SUMMARIZED, nip,
                    {"nip": nip, "date": d, "version": v, "final": v == versions, "workday": True,
                     "deductions": [{"code": c, "percent": Decimal(p), "minutes": None} for c, p in codes],
                     "punch_event_ids": punch_ids, "unit": f"Bidang {i % 6 + 1}"},
                    at.replace(hour=17) + timedelta(hours=v))
        # tasks: four a month with lifecycles
        for k in range(4):
            task_id = f"{nip}-t{k}"
            due = workdays[min(len(workdays) - 1, 4 + 5 * k + rng.randint(0, 3))]
            target = Decimal(rng.choice((1, 5, 10, 20)))
            base = {"task_id": task_id, "nip": nip, "atasan_nip": boss, "title": f"Tugas {k} {nip[-4:]}",
                    "rhk_id": f"rhk-{k}", "due_date": due, "target_quantity": target,
                    "category": rng.choice(("pelayanan", "administrasi", None))}
            assigned_at = datetime.combine(due - timedelta(days=10), datetime.min.time(), WIB).replace(hour=8)
            add(topics.TUGAS, TASK_ASSIGNED, nip, {**base, "status": "assigned"}, assigned_at)
            fate = rng.random()
            if fate < 0.08:
                add(topics.TUGAS, TASK_CANCELLED, nip, {**base, "status": "cancelled"}, assigned_at + timedelta(days=2))
                continue
            if fate < 0.18:  # never handed in: the overdue sweep says so
                overdue_at = datetime.combine(due + timedelta(days=1), datetime.min.time(), WIB).replace(hour=0, minute=5)
                add(topics.TUGAS, TASK_OVERDUE, nip, {**base, "status": "assigned"}, overdue_at)
                continue
            late = rng.choice((0, 0, 0, 0, 1, 2, 4))
            submitted_at = datetime.combine(due + timedelta(days=late), datetime.min.time(), WIB).replace(hour=14)
            add(topics.TUGAS, TASK_SUBMITTED, nip, {**base, "status": "submitted", "submitted_at": submitted_at},
                submitted_at)
            if fate < 0.3:
                returned_at = submitted_at + timedelta(hours=20)
                add(topics.TUGAS, TASK_RETURNED, nip, {**base, "status": "returned", "submitted_at": submitted_at,
                                                       "note": "perbaiki"}, returned_at)
                submitted_at = returned_at + timedelta(hours=20)
                add(topics.TUGAS, TASK_SUBMITTED, nip, {**base, "status": "submitted", "submitted_at": submitted_at},
                    submitted_at)
            approved_at = submitted_at + timedelta(hours=rng.randint(2, 60))
            add(topics.TUGAS, TASK_APPROVED, nip,
                {**base, "status": "approved", "submitted_at": submitted_at, "approved_at": approved_at,
                 "realised_quantity": target - Decimal(rng.choice((0, 0, 0, 1))), "quality": rng.randint(50, 100)},
                approved_at)
        if rng.random() < 0.1:
            for j in range(rng.randint(1, 3)):
                at = datetime.combine(rng.choice(workdays), datetime.min.time(), WIB).replace(hour=11)
                add(topics.TUGAS, INNOVATION_APPROVED, nip,
                    {"innovation_id": f"{nip}-ino{j}", "nip": nip, "title": f"Inovasi {j}", "approved_at": at}, at)
        rated_at = datetime.combine(last, datetime.min.time(), WIB).replace(hour=10)
        if boss and rng.random() < 0.6:
            for n in range(1 + (rng.random() < 0.2)):  # sometimes rated twice: the later one counts
                add(topics.PENILAIAN, RATING_RECORDED, nip,
                    {"rating_id": _uuid(rng), "nip": nip, "period": f"{year:04d}-{month:02d}", "rater": "atasan",
                     "rated_by": boss, "levels": {v: rng.choice(("below", "meets", "meets", "above")) for v in VALUES},
                     "rated_at": rated_at + timedelta(minutes=n)}, rated_at + timedelta(minutes=n))
        if rng.random() < 0.4:
            add(topics.PENILAIAN, RATING_RECORDED, nip,
                {"rating_id": _uuid(rng), "nip": nip, "period": f"{year:04d}-{month:02d}", "rater": "self",
                 "rated_by": nip, "levels": {v: rng.choice(("meets", "above")) for v in VALUES},
                 "rated_at": rated_at}, rated_at)
        if rng.random() < 0.2:
            at = datetime.combine(rng.choice(workdays), datetime.min.time(), WIB).replace(hour=13)
            add(topics.PENILAIAN, TRAINING_RECORDED, nip,
                {"training_id": _uuid(rng), "nip": nip, "title": "Pelatihan", "jp": rng.choice((2, 4, 8)),
                 "date": at.date(), "provider": "BKPSDM", "recorded_by": nip, "recorded_at": at}, at)
        if boss and rng.random() < 0.05:
            at = rated_at + timedelta(days=1)
            add(topics.PENILAIAN, DIALOG_RECORDED, nip,
                {"dialog_id": _uuid(rng), "nip": nip, "atasan_nip": boss, "period": f"{year:04d}-{month:02d}",
                 "date": at.date(), "notes": "Dialog kinerja", "follow_up": "Evaluasi bulan depan",
                 "values": ["akuntabel"], "recorded_by": boss, "recorded_at": at}, at)
    # a re-sending producer: some events twice (same id)
    again = [e for e in out.events if e[0] != topics.PEGAWAI and rng.random() < duplicates]
    out.events.extend(again)
    return out
