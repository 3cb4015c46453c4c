"""PP 94/2021: cumulative unexcused absence (TK) in a year, and consecutive absence.

Which alerts stand is a function of the year's closed workdays alone (``standing``), so raising
and withdrawing them is a set difference against what was raised before (``reconcile``): the
same facts give the same alerts in any order, and re-applying changes nothing.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date

CUMULATIVE_THRESHOLDS = (3, 4, 7, 11, 14, 17, 21, 25, 28)
CONSECUTIVE_THRESHOLD = 10
CUMULATIVE, CONSECUTIVE = "cumulative", "consecutive"


def cumulative_crossed(tk_days: int) -> list[int]:
    """Every threshold reached by ``tk_days`` TK days in a year."""
    return [t for t in CUMULATIVE_THRESHOLDS if tk_days >= t]


def longest_run(workdays: list[tuple[date, bool]]) -> tuple[int, date | None]:
    """The longest run of consecutive TK workdays (days between closed workdays that are not
    workdays, weekends and holidays, do not break it): its length and the day it reached
    ``CONSECUTIVE_THRESHOLD`` (else its last day)."""
    best, best_day, run, start = 0, None, 0, 0
    ordered = sorted(workdays)
    for i, (day, is_tk) in enumerate(ordered):
        if not is_tk:
            run = 0
            continue
        if run == 0:
            start = i
        run += 1
        if run > best:
            best = run
            best_day = ordered[start + min(run, CONSECUTIVE_THRESHOLD) - 1][0]
    return best, best_day


@dataclass(frozen=True)
class Alert:
    kind: str
    threshold: int
    days: int  # the count that reaches the threshold (TK days in the year, or the run's length)
    day: date  # the day the count reached the threshold


def standing(workdays: list[tuple[date, bool]]) -> dict[tuple[str, int], Alert]:
    """The alerts the year's closed workdays (day, is_tk) call for, keyed by (kind, threshold).
    Each alert's day is the day its threshold was reached (the n-th TK day; the tenth of the run),
    so it does not depend on when the facts arrived."""
    tk = sorted(day for day, is_tk in workdays if is_tk)
    out = {(CUMULATIVE, t): Alert(CUMULATIVE, t, len(tk), tk[t - 1]) for t in cumulative_crossed(len(tk))}
    run, day = longest_run(workdays)
    if run >= CONSECUTIVE_THRESHOLD:
        out[(CONSECUTIVE, CONSECUTIVE_THRESHOLD)] = Alert(CONSECUTIVE, CONSECUTIVE_THRESHOLD, run, day)
    return out


def counts(workdays: list[tuple[date, bool]]) -> dict[str, int]:
    """The year's TK days and its longest run, what a withdrawal reports as the count now."""
    return {CUMULATIVE: sum(1 for _, is_tk in workdays if is_tk), CONSECUTIVE: longest_run(workdays)[0]}


def reconcile(raised: set[tuple[str, int]], wanted: dict[tuple[str, int], Alert]
              ) -> tuple[list[Alert], list[tuple[str, int]]]:
    """What to raise (wanted, not raised) and what to withdraw (raised, no longer wanted), in a
    fixed order."""
    to_raise = [wanted[k] for k in sorted(set(wanted) - raised)]
    to_withdraw = sorted(raised - set(wanted))
    return to_raise, to_withdraw


def only_withdraws(before: tuple[bool, bool], after: tuple[bool, bool]) -> bool:
    """Whether a day going from ``before`` to ``after`` (closed workday, TK) can only make alerts
    stand down, never raise one: a closed workday that is not TK appearing leaves the year's TK
    count as it was and can only break a run. So an ASN with no alert raised that year has
    nothing to reconcile (the common case: a punch closes an ordinary workday)."""
    return before == (False, False) and after == (True, False)
