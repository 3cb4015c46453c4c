"""Competency development: at least 20 JP of training a year, and training suggested by weak
components (DESIGN section 6). Pure functions."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Iterable

JP_PER_YEAR = 20
LATE_CODES = ("TL1", "TL2", "TL3", "TL4")


@dataclass(frozen=True)
class Suggestion:
    topic: str
    reason: str


def jp_progress(hours: Iterable[int], target: int = JP_PER_YEAR) -> dict[str, int | bool]:
    total = sum(hours)
    return {"jp_total": total, "jp_target": target, "jp_remaining": max(0, target - total), "met": total >= target}


# a supervisor's "below" on a BerAKHLAK value suggests the training that builds it
VALUE_TRAINING = {
    "berorientasi_pelayanan": "Pelayanan publik",
    "akuntabel": "Akuntabilitas dan integritas ASN",
    "kompeten": "Pengembangan kompetensi teknis jabatan",
    "harmonis": "Komunikasi efektif dan etika kerja",
    "loyal": "Wawasan kebangsaan dan nilai dasar ASN",
    "adaptif": "Manajemen perubahan dan inovasi",
    "kolaboratif": "Kerja sama tim dan kolaborasi",
}
VALUE_NAMES = {
    "berorientasi_pelayanan": "Berorientasi Pelayanan", "akuntabel": "Akuntabel", "kompeten": "Kompeten",
    "harmonis": "Harmonis", "loyal": "Loyal", "adaptif": "Adaptif", "kolaboratif": "Kolaboratif",
}
PUBLIC_SERVICE = "pelayanan"  # the task category of public-service work (kinerja.events.tugas.TASK_CATEGORIES)


@dataclass(frozen=True)
class FollowUp:
    """A dialog kinerja's agreed follow-up (and the values it discussed)."""

    day: date
    text: str
    values: tuple[str, ...] = ()


def suggest_training(deduction_codes: Iterable[str], tasks: Iterable[tuple[str | None, int | None]], *,
                     late_days_from: int = 3, weak_quality_below: int = 70,
                     below_values: Iterable[tuple[str, str]] = (), follow_ups: Iterable[FollowUp] = (),
                     timeliness: Iterable[Decimal] = (), weak_timeliness_below: int = 70) -> list[Suggestion]:
    """What to train next, each with its reason:
    - frequent lateness (``late_days_from`` TL days) → time management;
    - public-service tasks (category ``pelayanan``) with quality under ``weak_quality_below`` → public service;
    - a value the supervisor rated "below" (``below_values``: (value, period)) → that value's training;
    - a dialog kinerja's follow-up → the follow-up itself, and the trainings of the values it discussed;
    - tasks handed in late (``timeliness`` of the tasks counted, under ``weak_timeliness_below``) →
      planning and work management.
    ``tasks`` are (category, quality) of approved tasks. One suggestion per topic (reasons joined)."""
    found: dict[str, list[str]] = {}

    def add(topic: str, reason: str) -> None:
        reasons = found.setdefault(topic, [])
        if reason not in reasons:
            reasons.append(reason)

    late = sum(1 for c in deduction_codes if c in LATE_CODES)
    if late >= late_days_from:
        add("Manajemen waktu", f"terlambat masuk {late} kali")
    weak = [q for cat, q in tasks if cat == PUBLIC_SERVICE and q is not None and q < weak_quality_below]
    if weak:
        add("Pelayanan publik", f"{len(weak)} tugas pelayanan dengan kualitas di bawah {weak_quality_below}")
    slow = [t for t in timeliness if t is not None and t < weak_timeliness_below]
    if slow:
        add("Perencanaan dan manajemen pekerjaan",
            f"{len(slow)} tugas dengan ketepatan waktu di bawah {weak_timeliness_below}")
    by_value: dict[str, list[str]] = {}
    for value, period in below_values:
        if value in VALUE_TRAINING:
            by_value.setdefault(value, []).append(period)
    for value in VALUE_TRAINING:  # the seven in their order
        if value in by_value:
            periods = ", ".join(sorted(set(by_value[value])))
            add(VALUE_TRAINING[value], f"nilai {VALUE_NAMES[value]} di bawah ekspektasi menurut atasan ({periods})")
    for f in sorted(follow_ups, key=lambda f: (f.day, f.text)):
        text = " ".join(f.text.split())
        if text:
            add(f"Tindak lanjut dialog kinerja: {text[:200]}", f"disepakati dalam dialog kinerja {f.day.isoformat()}")
        for value in f.values:
            if value in VALUE_TRAINING:
                add(VALUE_TRAINING[value], f"{VALUE_NAMES[value]} dibahas dalam dialog kinerja {f.day.isoformat()}")
    return [Suggestion(topic, "; ".join(reasons)) for topic, reasons in found.items()]
