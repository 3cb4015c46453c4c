from datetime import date, datetime, timedelta
from decimal import Decimal

import pytest

from kehadiran.domain.discipline import (
    DayResult,
    Deduction,
    Punch,
    band,
    default_window,
    summarize_day,
    whole_minutes_early,
    whole_minutes_late,
)

pytestmark = pytest.mark.unit
MON = date(2026, 11, 2)
FRI = date(2026, 11, 6)


def at(day, hh, mm, ss=0):
    return datetime(day.year, day.month, day.day, hh, mm, ss)


def codes(result):
    return [(d.code, d.percent) for d in result.deductions]


def test_default_schedule_per_perpres_21_2023():
    assert default_window(MON).start == at(MON, 7, 30) and default_window(MON).end == at(MON, 16, 0)
    assert default_window(FRI).end == at(FRI, 16, 30)
    assert default_window(date(2026, 11, 7)) is None  # Saturday


@pytest.mark.parametrize("arrival, minutes", [
    ((7, 30, 59), 0), ((7, 31, 0), 1), ((8, 0, 0), 30), ((8, 0, 59), 30), ((8, 1, 0), 31), ((9, 1, 0), 91),
])
def test_whole_minutes_late(arrival, minutes):
    assert whole_minutes_late(at(MON, *arrival), at(MON, 7, 30)) == minutes


def test_minutes_early_counts_any_part_of_a_minute():
    assert whole_minutes_early(at(MON, 16, 0), at(MON, 16, 0)) == 0
    assert whole_minutes_early(at(MON, 15, 59, 1), at(MON, 16, 0)) == 1
    assert whole_minutes_early(at(MON, 15, 30), at(MON, 16, 0)) == 30


@pytest.mark.parametrize("minutes, expected", [(1, 1), (30, 1), (31, 2), (60, 2), (61, 3), (90, 3), (91, 4), (400, 4)])
def test_bands(minutes, expected):
    assert band(minutes) == expected


def test_late_arrival_counts_at_once_and_missing_departure_only_when_the_day_ends():
    w = default_window(MON)
    punches = [Punch(at(MON, 8, 15), event_id="p1")]
    live = summarize_day(MON, w, punches, day_over=False)
    assert codes(live) == [("TL2", Decimal("1"))] and live.minutes_late == 45
    closed = summarize_day(MON, w, punches, day_over=True)
    assert codes(closed) == [("TL2", Decimal("1")), ("PSW4", Decimal("2"))]
    assert closed.total_percent == Decimal("3") and closed.punch_event_ids == ("p1",)


def test_full_day_on_time_has_no_deduction():
    w = default_window(FRI)
    r = summarize_day(FRI, w, [Punch(at(FRI, 7, 20)), Punch(at(FRI, 16, 31))], day_over=True)
    assert codes(r) == [] and r.arrival == at(FRI, 7, 20) and r.departure == at(FRI, 16, 31)


def test_no_punch_on_a_workday_is_tk_alone():
    r = summarize_day(MON, default_window(MON), [], day_over=True)
    assert codes(r) == [("TK", Decimal("4"))]
    assert codes(summarize_day(MON, default_window(MON), [], day_over=False)) == []


def test_one_punch_after_midpoint_is_a_departure_so_arrival_is_missing():
    r = summarize_day(MON, default_window(MON), [Punch(at(MON, 15, 0))], day_over=True)
    assert codes(r) == [("TL4", Decimal("2")), ("PSW2", Decimal("1"))]


def test_double_touch_at_arrival_is_not_a_departure():
    w = default_window(MON)
    r = summarize_day(MON, w, [Punch(at(MON, 7, 29, 0)), Punch(at(MON, 7, 29, 4))], day_over=False)
    assert r.departure is None and codes(r) == []


def test_device_status_decides_in_and_out():
    w = default_window(MON)
    r = summarize_day(MON, w, [Punch(at(MON, 13, 0), status="in")], day_over=False)
    assert r.arrival == at(MON, 13, 0) and codes(r) == [("TL4", Decimal("2"))]


def test_days_off_and_excused_days_carry_no_deduction():
    sat = date(2026, 11, 7)
    assert codes(summarize_day(sat, None, [Punch(at(sat, 9, 0))], day_over=True)) == []
    assert codes(summarize_day(MON, default_window(MON), [], excused="cuti", day_over=True)) == []


def test_a_days_punches_in_any_order_bursts_collapsed_every_one_named():
    """Punches handed over out of time order: the ids in time order, the corrections sorted, a
    burst's first punch taking the in/out a later one of the burst reported (each field exact)."""
    punches = [Punch(at(MON, 16, 5), None, "p3", "c2"), Punch(at(MON, 7, 40), None, "p1", "c1"),
               Punch(at(MON, 16, 6), "out", "p4"), Punch(at(MON, 7, 41), "in", "p2", "c1")]
    r = summarize_day(MON, default_window(MON), punches, day_over=True, burst=timedelta(minutes=2))
    assert r == DayResult(MON, True, None, at(MON, 7, 40), at(MON, 16, 5), 10, 0,
                          (Deduction("TL1", Decimal("0.5"), 10),), ("p1", "p2", "p3", "p4"), ("c1", "c2"))
    # no burst window: the last punch departs
    assert summarize_day(MON, default_window(MON), punches, day_over=True).departure == at(MON, 16, 6)


def test_days_off_and_excused_days_still_name_arrival_and_departure():
    sat = date(2026, 11, 7)
    off = summarize_day(sat, None, [Punch(at(sat, 14, 0), "in", "b"), Punch(at(sat, 9, 0), "out", "a")], day_over=True)
    assert (off.workday, off.arrival, off.departure, off.punch_event_ids) == (False, at(sat, 9, 0), at(sat, 14, 0), ("a", "b"))
    cuti = summarize_day(MON, default_window(MON), [Punch(at(MON, 15, 0)), Punch(at(MON, 8, 0))], excused="cuti",
                         day_over=True)
    assert cuti == DayResult(MON, True, "cuti", at(MON, 8, 0), at(MON, 15, 0), 0, 0, (), (), ())
