"""BerAKHLAK: the supervisor's rating as a score, and the supervisor's and the ASN's own rating
side by side (a gap of two levels asks for a dialog kinerja)."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Iterable, Mapping

from penilaian.domain.decimals import ZERO, q2
from penilaian.domain.levels import LEVELS
from penilaian.domain.score_facts import Rating
from penilaian.domain.score_policy import DEFAULT_POLICY, Policy

BERAKHLAK_VALUES = (
    "berorientasi_pelayanan", "akuntabel", "kompeten", "harmonis", "loyal", "adaptif", "kolaboratif",
)


def berakhlak_score(rating: Rating | None, policy: Policy = DEFAULT_POLICY) -> Decimal | None:
    """Mean over the rated values of below 60, meets 80, above 100; None when nothing is rated."""
    if rating is None:
        return None
    points = [policy.berakhlak_points[level] for v, level in rating.levels.items()
              if v in BERAKHLAK_VALUES and level in LEVELS]
    if not points:
        return None
    return q2(sum(points, ZERO) / len(points))


@dataclass(frozen=True)
class DialogHeld:
    """A dialog kinerja recorded for the period: the values it discussed (none named: the whole
    rating) and when it was recorded."""

    dialog_id: str
    day: date
    recorded_at: datetime
    values: tuple[str, ...] = ()

    def covers(self, value: str) -> bool:
        return not self.values or value in self.values


@dataclass(frozen=True)
class ValueComparison:
    value: str
    supervisor: str | None
    self: str | None
    gap: int | None  # levels apart (0–2), None unless both rated
    dialog_needed: bool  # two levels apart and no dialog kinerja about it since the later rating
    dialog_id: str | None = None  # the dialog kinerja held about this gap, once held


def compare_ratings(supervisor: Mapping[str, str] | None, own: Mapping[str, str] | None,
                    dialogs: Iterable[DialogHeld] = (), rated_at: datetime | None = None) -> list[ValueComparison]:
    """The supervisor's and the ASN's own rating of each of the seven values, side by side. Two
    levels apart asks for a dialog kinerja; a dialog recorded at or after ``rated_at`` (the later
    of the two ratings) that discussed the value (or named none) answers it, and is named."""
    supervisor, own = supervisor or {}, own or {}
    held = sorted((d for d in dialogs if rated_at is None or d.recorded_at >= rated_at),
                  key=lambda d: (d.recorded_at, d.dialog_id), reverse=True)
    out = []
    for value in BERAKHLAK_VALUES:
        a, b = supervisor.get(value), own.get(value)
        gap = abs(LEVELS.index(a) - LEVELS.index(b)) if a in LEVELS and b in LEVELS else None
        apart = gap is not None and gap >= 2
        dialog = next((d for d in held if d.covers(value)), None) if apart else None
        out.append(ValueComparison(value, a, b, gap, apart and dialog is None, dialog.dialog_id if dialog else None))
    return out
