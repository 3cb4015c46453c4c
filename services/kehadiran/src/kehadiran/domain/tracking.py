"""From which day an ASN's workdays count, and why a day of a closed range was not a workday
record. Pure: no I/O.

An ASN's workdays count from their TMT (terhitung mulai tanggal, the roster's optional start
date), else from the day the roster first named them. A TMT is honoured back to
``TMT_LOOKBACK_DAYS`` before that day: an agency importing its roster on the 15th with TMT the 1st
gets the 1st–14th closed (TK where nobody punched), while the TMT of an appointment decades ago
does not turn every day since into TK.
"""
from __future__ import annotations

from datetime import date, timedelta

from kehadiran.domain.schedule import ScheduleContext

TMT_LOOKBACK_DAYS = 92

# why a day of a closed range is no workday record for an ASN (most specific first)
BEFORE_TMT = "before_tmt"
BEFORE_TRACKING = "before_tracking"
HOLIDAY = "holiday"
DAY_OFF = "day_off"
NOT_OVER = "not_over"
REASONS = {
    BEFORE_TMT: "sebelum TMT pegawai (belum bertugas)",
    BEFORE_TRACKING: "sebelum pegawai tercatat di roster (isi kolom tmt agar hari sebelumnya ikut dihitung)",
    HOLIDAY: "hari libur atau cuti bersama",
    DAY_OFF: "bukan hari kerja menurut jadwal (akhir pekan, libur shift)",
    NOT_OVER: "hari belum berakhir",
}


def tracking_start(first_seen: date, tmt: date | None, lookback_days: int = TMT_LOOKBACK_DAYS) -> date:
    """The first day whose workdays are closed for an ASN the roster first named on ``first_seen``."""
    if tmt is None:
        return first_seen
    return max(tmt, first_seen - timedelta(days=lookback_days))


def skip_reason(day: date, ctx: ScheduleContext, *, since: date | None, day_over: bool) -> str | None:
    """Why closing ``day`` leaves no workday record for the ASN of ``ctx`` (None: it is a workday
    that is over, recorded as worked, excused or TK)."""
    if ctx.starts is not None and day < ctx.starts:
        return BEFORE_TMT
    if since is not None and day < since:
        return BEFORE_TRACKING
    if ctx.window(day) is None:
        return HOLIDAY if day in ctx.holidays and day not in ctx.shifts else DAY_OFF
    if not day_over:
        return NOT_OVER
    return None
