"""Corrections (lupa absen): what an ASN may ask for, and how a request moves. Pure: no I/O.

A phone punch is the moment it arrives; a punch forgotten on a past day is asked for: the day,
the time(s) and a reason. The supervisor (atasan) of the ASN approves or rejects it (an admin of
the agency may too, never the ASN themselves); an approval becomes punches marked as corrections.
"""
from __future__ import annotations

from datetime import date, datetime

from kehadiran.domain.schedule import ScheduleContext, owning_day

PENDING, APPROVED, REJECTED = "pending", "approved", "rejected"
STATUSES = (PENDING, APPROVED, REJECTED)
MAX_PUNCHES = 4
# how far back a day may be corrected (a month's recap goes to payroll early the next month)
MAX_AGE_DAYS = 31


class NotPending(ValueError):
    """The request was decided already."""


def request_errors(day: date, times: list[datetime], ctx: ScheduleContext, *, today: date, now_local: datetime,
                   max_age_days: int = MAX_AGE_DAYS) -> dict[str, list[str]]:
    """Why a request for ``times`` (naive, agency-local) on ``day`` cannot be made; empty when it can."""
    errors: dict[str, list[str]] = {}
    if day > today:
        errors.setdefault("date", []).append(f"{day} has not begun: a correction is for today or a past day")
    elif (today - day).days > max_age_days:
        errors.setdefault("date", []).append(
            f"{day} is more than {max_age_days} days ago: corrections are asked within {max_age_days} days")
    elif ctx.window(day) is None:
        errors.setdefault("date", []).append(f"{day} is not a workday for this ASN: there is nothing to correct")
    if errors:
        return errors
    seen = set()
    for i, t in enumerate(times):
        if t in seen:
            errors.setdefault("punches", []).append(f"[{i}] {t:%H:%M} is given twice")
        seen.add(t)
        if t > now_local:
            errors.setdefault("punches", []).append(f"[{i}] {t:%Y-%m-%d %H:%M} is in the future")
        elif owning_day(t, ctx) != day:
            errors.setdefault("punches", []).append(
                f"[{i}] {t:%Y-%m-%d %H:%M} does not belong to the workday of {day}")
    return errors


def decided(status: str, approve: bool) -> str:
    """The status after a decision; a request is decided once."""
    if status != PENDING:
        raise NotPending(f"the request was {status} already")
    return APPROVED if approve else REJECTED
