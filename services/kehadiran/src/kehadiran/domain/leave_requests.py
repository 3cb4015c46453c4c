"""Leave requests: an ASN asks for cuti, sakit or dinas luar over a span of days; their supervisor
(or an admin of the agency) approves or rejects; the ASN may withdraw it while it waits. An
approval records the days as excused, as a supervisor entering them would. Pure: no I/O."""
from __future__ import annotations

from datetime import date

PENDING, APPROVED, REJECTED, CANCELLED = "pending", "approved", "rejected", "cancelled"
STATUSES = (PENDING, APPROVED, REJECTED, CANCELLED)
KINDS = ("cuti", "sakit", "dinas_luar")
MAX_SPAN_DAYS = 366  # as for leave entered directly
MAX_AHEAD_DAYS = 366


class NotPending(ValueError):
    """The request was decided (or withdrawn) already."""


def request_errors(start: date, end: date, *, today: date, max_age_days: int) -> dict[str, list[str]]:
    """Why a request over [start, end] cannot be made; empty when it can. Sick leave and official
    duty are often asked for after the fact, so a span may start up to ``max_age_days`` ago."""
    errors: dict[str, list[str]] = {}
    if end < start:
        errors.setdefault("end_date", []).append(f"{end} is before start_date {start}")
    elif (end - start).days + 1 > MAX_SPAN_DAYS:
        errors.setdefault("end_date", []).append(f"a request spans at most {MAX_SPAN_DAYS} days")
    if (today - start).days > max_age_days:
        errors.setdefault("start_date", []).append(
            f"{start} is more than {max_age_days} days ago: ask within {max_age_days} days")
    if (end - today).days > MAX_AHEAD_DAYS:
        errors.setdefault("end_date", []).append(f"{end} is more than {MAX_AHEAD_DAYS} days ahead")
    return errors


def decided(status: str, approve: bool) -> str:
    if status != PENDING:
        raise NotPending(f"the request was {status} already")
    return APPROVED if approve else REJECTED


def withdrawn(status: str) -> str:
    if status != PENDING:
        raise NotPending(f"the request was {status} already: only a waiting request is withdrawn")
    return CANCELLED
