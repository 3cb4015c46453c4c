"""``kinerja.config.whole_number`` and ``number``: the one parser of numeric settings read from the
environment. The first name set wins, blank is unset, and a bad value raises ``SettingError``
naming it, which both a ``ConfigError`` and a ``ValueError`` handler catch."""
from __future__ import annotations

import os

import pytest

from kinerja.config import ConfigError, SettingError, number, port_number, whole_number

pytestmark = pytest.mark.unit


@pytest.mark.parametrize("env", [{}, {"N": ""}, {"N": "   "}, {"N": None}])
def test_unset_or_blank_is_the_default(env):
    assert whole_number(env, "N", 7, 1, 10) == 7


def test_the_value_stripped_and_parsed():
    assert whole_number({"N": " 12 "}, "N", 7) == 12
    assert whole_number({"N": "-3"}, "N", 7) == -3
    assert whole_number({"N": 5}, "N", 7, 0, 9) == 5, "a test's override may be an int"
    assert whole_number({"N": 0}, "N", 7) == 0, "0 is a value, not unset"


def test_the_first_name_set_wins_and_blank_ones_are_passed_over():
    env = {"A": "", "B": "2", "C": "3"}
    assert whole_number(env, ("A", "B", "C"), 9) == 2
    assert whole_number(env, ("C", "B"), 9) == 3
    assert whole_number(env, ("X", "A"), 9) == 9
    with pytest.raises(SettingError, match=r"^B='x' is not a whole number$"):
        whole_number({"A": " ", "B": "x", "C": "3"}, ("A", "B", "C"), 9)


@pytest.mark.parametrize("raw", ["ten", "1.5", "0x10", "1e3"])
def test_text_that_is_not_a_whole_number_is_refused_by_name(raw):
    with pytest.raises(SettingError) as refused:
        whole_number({"N": f" {raw} "}, "N", 7)
    assert str(refused.value) == f"N={raw!r} is not a whole number"


@pytest.mark.parametrize("low, high, raw, message", [
    (1, 64, "0", "N=0 is outside 1..64"),
    (1, 64, "65", "N=65 is outside 1..64"),
    (1, None, "0", "N=0 must be at least 1"),
    (None, 10, "11", "N=11 must be at most 10"),
])
def test_a_value_out_of_bounds_is_refused_by_name(low, high, raw, message):
    with pytest.raises(SettingError) as refused:
        whole_number({"N": raw}, "N", 7, low, high)
    assert str(refused.value) == message


def test_the_bounds_are_inclusive_and_the_default_is_the_callers():
    assert whole_number({"N": "1"}, "N", 7, 1, 64) == 1
    assert whole_number({"N": "64"}, "N", 7, 1, 64) == 64
    assert whole_number({}, "N", 0, 1, 64) == 0  # a default is the caller's choice, not checked


def test_one_error_caught_as_either_class():
    for caught in (ValueError, ConfigError):
        with pytest.raises(caught):
            whole_number({"N": "x"}, "N", 7)
        with pytest.raises(caught):
            whole_number({"N": "0"}, "N", 7, low=1)


def test_read_from_the_mapping_when_called(monkeypatch):
    monkeypatch.delenv("KINERJA_TEST_WHOLE", raising=False)
    assert whole_number(os.environ, "KINERJA_TEST_WHOLE", 3) == 3
    monkeypatch.setenv("KINERJA_TEST_WHOLE", "4")
    assert whole_number(os.environ, "KINERJA_TEST_WHOLE", 3) == 4


def test_a_port_is_1_to_65535():
    assert port_number({"P": "65535"}, "P", 8000) == 65535
    with pytest.raises(SettingError, match=r"^P=0 is outside 1\.\.65535$"):
        port_number({"P": "0"}, "P", 8000)


def test_number_takes_fractions_and_refuses_what_is_not_a_finite_number():
    assert number({"S": " 0.25 "}, "S", 1.0, low=0) == 0.25
    assert number({"S": ""}, "S", 1.0) == 1.0
    for raw in ("soon", "nan", "inf"):
        with pytest.raises(SettingError, match=rf"^S='{raw}' is not a number$"):
            number({"S": raw}, "S", 1.0)
    with pytest.raises(SettingError, match=r"^S=-0\.5 must be at least 0$"):
        number({"S": "-0.5"}, "S", 1.0, low=0)
