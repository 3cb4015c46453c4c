"""A phone's punch is the moment it arrives. Pure: no I/O.

A phone is not a clock anyone can trust (its owner sets it), so the server's receive time is the
punch's time. The time the phone sends, when within a small skew of that, is kept beside it (the
phone's own clock, and what makes a re-sent punch a duplicate); beyond the skew, backdated or
ahead, the punch is refused with the reason: a forgotten punch on a past day is asked for as a
correction (lupa absen) that the supervisor approves. Devices (ADMS terminals, JSON devices)
keep their own times: a terminal re-sending days of backlog after being offline is no phone.
"""
from __future__ import annotations

from datetime import datetime, timedelta

DEFAULT_SKEW = timedelta(minutes=5)
MAX_SKEW = timedelta(hours=1)


def span(delta: timedelta) -> str:
    """A duration as people say it: "45 days 3 hours", "12 minutes", "40 seconds"."""
    seconds = int(abs(delta).total_seconds())
    days, rest = divmod(seconds, 86400)
    hours, rest = divmod(rest, 3600)
    minutes, secs = divmod(rest, 60)
    parts = [(days, "day"), (hours, "hour"), (minutes, "minute")] if days or hours or minutes else [(secs, "second")]
    words = [f"{n} {unit}{'s' if n != 1 else ''}" for n, unit in parts if n][:2]
    return " ".join(words) or "0 seconds"


def refusal(client_time: datetime | None, received: datetime, skew: timedelta = DEFAULT_SKEW) -> str | None:
    """Why a phone's punch sent with ``client_time`` cannot be recorded at ``received``; None
    when it can (no time sent, or one within ``skew`` either way)."""
    if client_time is None:
        return None
    off = client_time - received
    if abs(off) <= skew:
        return None
    side = "before" if off < timedelta(0) else "after"
    return (f"a phone punch is recorded at the moment it arrives ({received.isoformat(timespec='seconds')}); "
            f"{client_time.isoformat()} is {span(off)} {side} that, more than the {span(skew)} allowed. "
            "A punch forgotten on a past day is asked for as a correction (lupa absen): POST /api/v1/corrections")
