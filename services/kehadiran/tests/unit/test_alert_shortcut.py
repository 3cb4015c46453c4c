"""The day worker skips reconciling an ASN's year when a change can only withdraw alerts and none
stands (``domain.alerts.only_withdraws``). That is sound only if such a change never makes an
alert stand that did not: held here over arbitrary years of closed workdays."""
from __future__ import annotations

from datetime import date, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from kehadiran.domain.alerts import only_withdraws, standing
from kehadiran.service_layer.alerts import counts_as_tk

START = date(2026, 1, 1)
years = st.dictionaries(st.integers(0, 120), st.booleans(), max_size=80)  # day offset → TK


def as_workdays(days: dict[int, bool]) -> list[tuple[date, bool]]:
    return [(START + timedelta(days=k), tk) for k, tk in days.items()]


@settings(max_examples=400, deadline=None)
@given(years, st.integers(0, 120))
def test_a_workday_closing_without_tk_never_raises_an_alert(days, new):
    before = as_workdays({k: v for k, v in days.items() if k != new})
    after = before + [(START + timedelta(days=new), False)]
    assert set(standing(after)) <= set(standing(before))


def test_only_an_ordinary_workday_closing_is_the_shortcut():
    open_day = counts_as_tk(None)
    ordinary = counts_as_tk({"final": True, "workday": True, "deductions": []})
    tk = counts_as_tk({"final": True, "workday": True, "deductions": [{"code": "TK"}]})
    running = counts_as_tk({"final": False, "workday": True, "deductions": []})
    assert only_withdraws(open_day, ordinary) and only_withdraws(running, ordinary)
    # a TK day appearing or going, or a closed workday reopening, may raise one
    for before, after in ((open_day, tk), (tk, ordinary), (ordinary, tk), (ordinary, open_day), (tk, open_day)):
        assert not only_withdraws(before, after)
