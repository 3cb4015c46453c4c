"""The numbers a score is computed by (DESIGN section 6's defaults); an agency sets its own
(versions: ``domain.policy``)."""
from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from typing import Mapping

from penilaian.domain.levels import ABOVE, BELOW, MEETS


@dataclass(frozen=True)
class Policy:
    """The DESIGN defaults; every number is configurable per agency."""

    weight_hasil_kerja: Decimal = Decimal("0.6")
    weight_perilaku: Decimal = Decimal("0.4")
    innovation_points: Decimal = Decimal("5")
    innovation_cap: Decimal = Decimal("10")
    timeliness_penalty_per_day: Decimal = Decimal("10")
    above_from: Decimal = Decimal("90")
    meets_from: Decimal = Decimal("70")
    berakhlak_points: Mapping[str, Decimal] = field(
        default_factory=lambda: {BELOW: Decimal("60"), MEETS: Decimal("80"), ABOVE: Decimal("100")})
    # the allowed spread of predikat by the organisation's own (None: PermenPANRB 6/2022's default,
    # ``domain.distribution.DEFAULT_CURVES``); JSON as in ``distribution.curves_from_json``
    distribution_curve: Mapping | None = field(default=None, compare=False, hash=False)


DEFAULT_POLICY = Policy()
