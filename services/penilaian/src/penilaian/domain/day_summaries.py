"""The rule a day's fact follows, for the live path (``service_layer.facts.store_day_fact``) and
the rebuild's in-memory fold (``service_layer.replay``) alike: of the ``kehadiran.day.summarized.v1``
events of one (NIP, day), the highest version wins (ties: the greater event id), and the fact
holds what that event says, normalised as stored."""
from __future__ import annotations

from decimal import Decimal
from typing import Any


def supersedes(version: int, event_id: str, held_version: int, held_event_id: str) -> bool:
    """Whether a summary (``version``, ``event_id``) replaces the one held."""
    return (version, event_id) > (held_version, held_event_id)


def day_values(data: dict[str, Any]) -> dict[str, Any]:
    """The fact's columns from a summary's data (deduction percents as decimal strings)."""
    return {
        "workday": bool(data.get("workday", True)),
        "excused": data.get("excused"),
        "deductions": [{"code": x["code"], "percent": str(Decimal(x["percent"])), "minutes": x.get("minutes")}
                       for x in data.get("deductions") or []],
        "punch_event_ids": list(data.get("punch_event_ids") or []),
        "corrected": bool(data.get("corrected")),
    }
