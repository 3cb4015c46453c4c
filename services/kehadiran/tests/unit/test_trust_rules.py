"""Issue 19's rules, pure: PP 94/2021 alerts as a function of the year's days (both ways), a
phone's punch is now, corrections belong to their workday, and why a closed day was skipped."""
from datetime import date, datetime, time, timedelta, timezone

import pytest

from kehadiran.domain.alerts import CONSECUTIVE, CUMULATIVE, reconcile, standing
from kehadiran.domain.corrections import APPROVED, PENDING, REJECTED, NotPending, decided, request_errors
from kehadiran.domain.phone_time import refusal, span
from kehadiran.domain.schedule import DayHours, ScheduleContext
from kehadiran.domain.tracking import (BEFORE_TMT, BEFORE_TRACKING, DAY_OFF, HOLIDAY, NOT_OVER, skip_reason,
                                       tracking_start)

pytestmark = pytest.mark.unit
MON = date(2026, 11, 2)


def weekdays(n: int, start: date = date(2026, 1, 5)) -> list[date]:
    out, d = [], start
    while len(out) < n:
        if d.weekday() < 5:
            out.append(d)
        d += timedelta(days=1)
    return out


def test_alerts_follow_the_facts_both_ways_in_any_order():
    days = weekdays(4)
    tk = [(d, True) for d in days]
    wanted = standing(tk)
    assert sorted(wanted) == [(CUMULATIVE, 3), (CUMULATIVE, 4)]
    assert wanted[(CUMULATIVE, 3)].day == days[2]  # the third TK day, whatever order they came in
    assert standing(list(reversed(tk))) == wanted
    raise_, withdraw = reconcile(set(), wanted)
    assert [(a.kind, a.threshold) for a in raise_] == [(CUMULATIVE, 3), (CUMULATIVE, 4)] and withdraw == []
    # a cuti makes one of them an excused day: 3 TK days, the threshold 4 no longer holds
    excused = [(d, d != days[1]) for d in days]
    raise_, withdraw = reconcile(set(wanted), standing(excused))
    assert raise_ == [] and withdraw == [(CUMULATIVE, 4)]
    # the same facts again: nothing to do
    assert reconcile(set(standing(excused)), standing(excused)) == ([], [])


def test_a_consecutive_run_broken_by_a_worked_day_is_withdrawn():
    days = weekdays(11)
    run = [(d, True) for d in days]
    assert (CONSECUTIVE, 10) in standing(run)
    broken = [(d, d != days[5]) for d in days]
    assert (CONSECUTIVE, 10) not in standing(broken)
    _, withdraw = reconcile(set(standing(run)), standing(broken))
    assert (CONSECUTIVE, 10) in withdraw


def test_a_phone_punch_is_now_within_the_skew():
    now = datetime(2026, 12, 3, 1, 0, tzinfo=timezone.utc)
    assert refusal(None, now) is None
    assert refusal(now - timedelta(minutes=4), now) is None
    assert refusal(now + timedelta(minutes=4), now) is None
    weeks_ago = refusal(now - timedelta(days=21, hours=3), now)
    assert "21 days 3 hours before" in weeks_ago and "POST /api/v1/corrections" in weeks_ago
    assert "6 minutes after" in refusal(now + timedelta(minutes=6), now)
    assert span(timedelta(seconds=40)) == "40 seconds" and span(timedelta(minutes=1)) == "1 minute"


def test_a_correction_belongs_to_a_recent_workday():
    ctx = ScheduleContext()
    today, now = date(2026, 11, 5), datetime(2026, 11, 5, 10, 0)
    at = lambda d, h, m=0: datetime.combine(d, time(h, m))  # noqa: E731
    assert request_errors(MON, [at(MON, 7, 25), at(MON, 16, 5)], ctx, today=today, now_local=now) == {}
    assert "date" in request_errors(date(2026, 11, 6), [at(date(2026, 11, 6), 7)], ctx, today=today, now_local=now)
    assert "31 days" in request_errors(date(2026, 9, 1), [at(date(2026, 9, 1), 7)], ctx, today=today,
                                       now_local=now)["date"][0]
    assert "not a workday" in request_errors(date(2026, 10, 31), [at(date(2026, 10, 31), 7)], ctx, today=today,
                                             now_local=now)["date"][0]
    wrong = request_errors(MON, [at(date(2026, 11, 3), 7, 25)], ctx, today=today, now_local=now)
    assert "does not belong to the workday of 2026-11-02" in wrong["punches"][0]
    assert "future" in request_errors(today, [at(today, 16)], ctx, today=today, now_local=now)["punches"][0]
    # a night shift's departure the next morning belongs to it
    night = ScheduleContext(shifts={MON: DayHours(time(22), time(7))})
    assert request_errors(MON, [at(date(2026, 11, 3), 6, 50)], night, today=today, now_local=now) == {}


def test_a_request_is_decided_once():
    assert decided(PENDING, True) == APPROVED and decided(PENDING, False) == REJECTED
    with pytest.raises(NotPending):
        decided(APPROVED, False)


def test_tmt_sets_where_workdays_start_and_why_a_day_is_skipped():
    seen = date(2026, 12, 15)
    assert tracking_start(seen, None) == seen
    assert tracking_start(seen, date(2026, 12, 1)) == date(2026, 12, 1)
    assert tracking_start(seen, date(1995, 3, 1)) == seen - timedelta(days=92)  # not every day since 1995
    assert tracking_start(seen, date(2027, 1, 4)) == date(2027, 1, 4)
    ctx = ScheduleContext(holidays=frozenset({date(2026, 12, 25)}), starts=date(2026, 12, 3))
    kw = dict(since=date(2026, 12, 1), day_over=True)
    assert skip_reason(date(2026, 12, 2), ctx, **kw) == BEFORE_TMT
    assert skip_reason(date(2026, 12, 3), ctx, **kw) is None
    assert skip_reason(date(2026, 12, 5), ctx, **kw) == DAY_OFF  # a Saturday
    assert skip_reason(date(2026, 12, 25), ctx, **kw) == HOLIDAY
    assert skip_reason(date(2026, 12, 3), ctx, since=date(2026, 12, 4), day_over=True) == BEFORE_TRACKING
    assert skip_reason(date(2026, 12, 3), ctx, since=None, day_over=False) == NOT_OVER
    assert ctx.window(date(2026, 12, 2)) is None and ctx.window(date(2026, 12, 3)) is not None
