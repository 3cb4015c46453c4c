from datetime import date, datetime, time

import pytest

from kehadiran.domain.alerts import cumulative_crossed, longest_run
from kehadiran.domain.geo import distance_m
from datetime import timedelta

from kehadiran.domain.schedule import (DEFAULT_WEEK, DayHours, ScheduleContext, close_time, owned_span, owning_day,
                                       week)

pytestmark = pytest.mark.unit
MON, TUE, SAT = date(2026, 11, 2), date(2026, 11, 3), date(2026, 11, 7)
NIGHT = DayHours(time(22, 0), time(7, 0))


def at(day, hh, mm=0):
    return datetime(day.year, day.month, day.day, hh, mm)


def test_default_week_is_37_and_a_half_hours():
    assert DEFAULT_WEEK.weekly_hours == pytest.approx(8.5 * 4 + 9)  # gross of breaks, per Perpres 21/2023 hours
    assert DEFAULT_WEEK.window(SAT) is None


def test_precedence_shift_then_holiday_then_ramadan_then_unit_week():
    ramadan = week(mon=("08:00", "15:00"), tue=("08:00", "15:00"))
    ctx = ScheduleContext(ramadan=((MON, TUE, ramadan),), holidays=frozenset({TUE}),
                          shifts={SAT: DayHours(time(7, 0), time(14, 0))})
    assert ctx.window(MON).start == at(MON, 8)          # Ramadan hours
    assert ctx.window(TUE) is None                       # holiday beats Ramadan
    assert ctx.window(SAT).end == at(SAT, 14)            # a shift on a Saturday
    assert ScheduleContext(holidays=frozenset({TUE}), shifts={TUE: NIGHT}).window(TUE).start == at(TUE, 22)


def test_night_shift_punches_belong_to_the_day_the_shift_began():
    ctx = ScheduleContext(shifts={MON: NIGHT, TUE: NIGHT})
    assert ctx.window(MON).end == at(TUE, 7)
    assert owning_day(at(MON, 21, 50), ctx) == MON     # arrival
    assert owning_day(at(TUE, 6, 55), ctx) == MON      # departure next morning
    assert owning_day(at(TUE, 7, 20), ctx) == MON      # late departure
    assert owning_day(at(TUE, 21, 45), ctx) == TUE     # next night's arrival


def test_day_shift_punches_stay_on_their_date_and_a_day_off_on_the_calendar_date():
    ctx = ScheduleContext()
    assert owning_day(at(MON, 23, 30), ctx) == MON
    assert owning_day(at(TUE, 2, 0), ctx) == TUE
    assert owning_day(at(SAT, 9, 0), ctx) == SAT


@pytest.mark.parametrize("ctx", [
    ScheduleContext(),  # the default week: Friday's 16:30 departure margin reaches 00:30 Saturday
    ScheduleContext(shifts={MON: NIGHT, TUE: NIGHT, date(2026, 11, 4): None}),
    ScheduleContext(shifts={TUE: DayHours(time(3, 0), time(23, 30)),
                            date(2026, 11, 5): DayHours(time(23, 0), time(22, 0))}),
    ScheduleContext(holidays=frozenset({TUE}), shifts={SAT: NIGHT}, starts=MON),
], ids=["default-week", "night-shifts", "long-and-odd-shifts", "holiday-weekend-night"])
def test_every_moment_a_day_can_own_lies_in_its_owned_span(ctx):
    # the day worker reads a day's punches only from this span (``day_facts``): a moment owned by
    # a day outside it would be a punch the recompute never sees
    moment, seen = datetime(2026, 10, 29), set()
    while moment < datetime(2026, 11, 12):
        owner = owning_day(moment, ctx)
        first, last = owned_span(owner, ctx)
        assert first <= moment <= last, (moment, owner, first, last)
        seen.add(moment.date() - owner)
        moment += timedelta(minutes=5)
    assert len(seen) > 1  # some moments went to another date than their own (the cases the span is for)
    assert owned_span(SAT, ScheduleContext()) == (at(SAT, 0), at(date(2026, 11, 8), 0))  # no window: the date


def test_a_night_shift_closes_after_it_ends_a_day_shift_at_midnight():
    assert close_time(MON, ScheduleContext()) == at(TUE, 0)
    assert close_time(MON, ScheduleContext(shifts={MON: NIGHT})) == at(TUE, 15)


def test_pp_94_2021_thresholds():
    assert cumulative_crossed(2) == []
    assert cumulative_crossed(3) == [3]
    assert cumulative_crossed(7) == [3, 4, 7]
    assert cumulative_crossed(30) == [3, 4, 7, 11, 14, 17, 21, 25, 28]
    days = [(date(2026, 1, d), d > 3) for d in range(1, 15)]
    assert longest_run(days) == (11, date(2026, 1, 13))  # the tenth day of the run
    assert longest_run(days + [(date(2026, 1, 15), False)]) == (11, date(2026, 1, 13))
    assert longest_run([(d, tk and d != date(2026, 1, 9)) for d, tk in days]) == (5, date(2026, 1, 8))


def test_distance_between_two_offices_in_kalianda():
    # Kantor Bupati Lampung Selatan to a point about 1.1 km north
    assert distance_m(-5.7256, 105.5939, -5.7156, 105.5939) == pytest.approx(1112, abs=5)
    assert distance_m(-5.7256, 105.5939, -5.7256, 105.5939) == 0
