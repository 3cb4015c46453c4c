"""Competency development: at least 20 JP of training a year, and training suggested by weak
components (DESIGN section 6). Pure functions."""
from __future__ import annotations

from dataclasses import dataclass
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


def suggest_training(deduction_codes: Iterable[str], tasks: Iterable[tuple[str | None, int | None]], *,
                     late_days_from: int = 3, weak_quality_below: int = 70) -> list[Suggestion]:
    """Frequent lateness → time management; low quality on public-service tasks → public service.
    ``tasks`` are (category, quality) of approved tasks."""
    out = []
    late = sum(1 for c in deduction_codes if c in LATE_CODES)
    if late >= late_days_from:
        out.append(Suggestion("Manajemen waktu", f"terlambat masuk {late} kali"))
    weak = [q for cat, q in tasks if cat == "pelayanan" and q is not None and q < weak_quality_below]
    if weak:
        out.append(Suggestion("Pelayanan publik",
                              f"{len(weak)} tugas pelayanan dengan kualitas di bawah {weak_quality_below}"))
    return out
