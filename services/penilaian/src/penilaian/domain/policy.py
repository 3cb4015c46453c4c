"""An agency's scoring policy, versioned: each version is in force from the first day of a month
until a later one takes over; a period is scored by the version in force on its first day. Pure."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any, Iterable, Mapping

from penilaian.domain.distribution import curves_from_json
from penilaian.domain.scoring import DEFAULT_POLICY, LEVELS, Policy

NUMBERS = ("weight_hasil_kerja", "weight_perilaku", "above_from", "meets_from", "innovation_points",
           "innovation_cap", "timeliness_penalty_per_day")


# a policy's numbers: weights within (0, 1] adding up to 1, thresholds and points within 0-100,
# at most this many digits after the point
MAX_PLACES = 6


class BadPolicy(ValueError):
    pass


@dataclass(frozen=True)
class PolicyVersion:
    policy_id: str
    agency: str
    version: int
    effective_from: date  # the first day of a month
    policy: Policy

    @property
    def order(self) -> tuple:
        return (self.effective_from, self.version, self.policy_id)


def version_in_force(versions: Iterable[PolicyVersion], day: date) -> PolicyVersion | None:
    """The version with the latest start on or before ``day`` (a later version number wins among
    those starting the same month); None when none has started (the DESIGN defaults apply)."""
    started = [v for v in versions if v.effective_from <= day]
    return max(started, key=lambda v: v.order) if started else None


def policy_in_force(versions: Iterable[PolicyVersion], day: date) -> Policy:
    """The policy of ``version_in_force``; the DESIGN defaults when none has started."""
    version = version_in_force(versions, day)
    return version.policy if version is not None else DEFAULT_POLICY


def policy_values(policy: Policy) -> dict[str, Any]:
    return {**{k: str(getattr(policy, k)) for k in NUMBERS},
            "berakhlak_points": {level: str(policy.berakhlak_points[level]) for level in LEVELS},
            "distribution_curve": policy.distribution_curve}


def berakhlak_points(given: Any) -> dict[str, Decimal]:
    """The points of each BerAKHLAK level (below, meets, above; DESIGN: 60, 80, 100), levels left
    out keeping the default: each within 0–100, and a higher level never worth less."""
    points = dict(DEFAULT_POLICY.berakhlak_points)
    if given is None:
        return points
    if not isinstance(given, Mapping):
        raise BadPolicy("berakhlak_points: an object with below, meets and above")
    unknown = sorted(str(k) for k in given if k not in LEVELS)
    if unknown:
        raise BadPolicy(f"berakhlak_points: unknown level(s) {', '.join(unknown)}; the levels are below, meets, above")
    for level in LEVELS:
        if given.get(level) is None:
            continue
        try:
            value = Decimal(str(given[level]))
        except (InvalidOperation, ValueError):
            raise BadPolicy(f"berakhlak_points.{level}: not a number") from None
        if not value.is_finite() or not Decimal(0) <= value <= Decimal(100):
            raise BadPolicy(f"berakhlak_points.{level} must be between 0 and 100")
        if -value.as_tuple().exponent > MAX_PLACES:
            raise BadPolicy(f"berakhlak_points.{level} has at most {MAX_PLACES} digits after the decimal point")
        points[level] = value
    if not points["below"] <= points["meets"] <= points["above"]:
        raise BadPolicy("berakhlak_points: below ≤ meets ≤ above")
    return points


def make_policy(values: Mapping[str, Any]) -> Policy:
    """A policy from its numbers (missing ones keep the DESIGN default); raises BadPolicy."""
    try:
        nums = {k: Decimal(str(values[k])) if values.get(k) is not None else getattr(DEFAULT_POLICY, k)
                for k in NUMBERS}
    except (InvalidOperation, ValueError) as exc:
        raise BadPolicy(f"not a number: {exc}") from None
    if any(not v.is_finite() for v in nums.values()):
        raise BadPolicy("numbers must be finite")
    if any(-v.as_tuple().exponent > MAX_PLACES for v in nums.values()):
        raise BadPolicy(f"numbers have at most {MAX_PLACES} digits after the decimal point")
    for k in ("weight_hasil_kerja", "weight_perilaku"):
        if not Decimal(0) < nums[k] <= Decimal(1):
            raise BadPolicy(f"{k} must be above 0 and at most 1")
    if nums["weight_hasil_kerja"] + nums["weight_perilaku"] != Decimal(1):
        # the total is hasil kerja and perilaku weighed against each other (DESIGN: 60 % and 40 %)
        raise BadPolicy("weight_hasil_kerja and weight_perilaku must add up to 1 (e.g. 0.6 and 0.4)")
    if not Decimal(0) <= nums["meets_from"] <= nums["above_from"] <= Decimal(100):
        raise BadPolicy("0 ≤ meets_from ≤ above_from ≤ 100")
    for k in ("innovation_points", "innovation_cap", "timeliness_penalty_per_day"):
        if nums[k] < 0 or nums[k] > 100:
            raise BadPolicy(f"{k} must be between 0 and 100")
    curve = values.get("distribution_curve")
    if curve is not None:
        try:
            curves_from_json(curve)
        except (ValueError, TypeError, AttributeError, KeyError, InvalidOperation) as exc:
            raise BadPolicy(f"distribution_curve: {exc}") from None
    return Policy(**nums, berakhlak_points=berakhlak_points(values.get("berakhlak_points")), distribution_curve=curve)
