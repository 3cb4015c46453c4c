"""PP 94/2021: cumulative unexcused absence (TK) in a year, and consecutive absence."""
from __future__ import annotations

from datetime import date

CUMULATIVE_THRESHOLDS = (3, 4, 7, 11, 14, 17, 21, 25, 28)
CONSECUTIVE_THRESHOLD = 10


def cumulative_crossed(tk_days: int) -> list[int]:
    """Every threshold reached by ``tk_days`` TK days in a year."""
    return [t for t in CUMULATIVE_THRESHOLDS if tk_days >= t]


def longest_tail_run(workdays: list[tuple[date, bool]]) -> int:
    """Consecutive TK workdays ending at the latest workday; ``workdays`` is (day, is_tk)."""
    run = 0
    for _, is_tk in sorted(workdays, reverse=True):
        if not is_tk:
            break
        run += 1
    return run
