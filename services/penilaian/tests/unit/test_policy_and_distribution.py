"""Pure rules: the policy in force for a day, policy validation, and the spread of predikat held
against the curve the organisation's own predikat allows (PermenPANRB 6/2022)."""
from datetime import date
from decimal import Decimal as D

import pytest

from penilaian.domain.distribution import (
    BAIK,
    BUTUH_PERBAIKAN,
    DEFAULT_CURVES,
    KURANG,
    SANGAT_BAIK,
    SANGAT_KURANG,
    check,
    curves_from_json,
    curves_to_json,
    shares,
)
from penilaian.domain.policy import BadPolicy, PolicyVersion, make_policy, policy_in_force, policy_values
from penilaian.domain.scoring import DEFAULT_POLICY


def version(pid, start, n, **values):
    return PolicyVersion(pid, "dinkes", n, start, make_policy(values))


def test_the_version_in_force_is_the_latest_started_by_the_day():
    v1 = version("a", date(2026, 3, 1), 1, weight_hasil_kerja="0.5", weight_perilaku="0.5")
    v2 = version("b", date(2026, 7, 1), 2, weight_hasil_kerja="0.7", weight_perilaku="0.3")
    v3 = version("c", date(2026, 3, 1), 3, weight_hasil_kerja="0.8", weight_perilaku="0.2")  # replaces v1 from March
    versions = [v2, v3, v1]
    assert policy_in_force(versions, date(2026, 2, 1)) is DEFAULT_POLICY
    assert policy_in_force(versions, date(2026, 3, 1)).weight_hasil_kerja == D("0.8")
    assert policy_in_force(versions, date(2026, 6, 30)).weight_hasil_kerja == D("0.8")
    assert policy_in_force(versions, date(2026, 7, 1)).weight_hasil_kerja == D("0.7")
    assert policy_in_force([v1], date(2026, 12, 1)).weight_hasil_kerja == D("0.5")


def test_missing_numbers_keep_the_design_defaults_and_values_round_trip():
    assert make_policy({}) == DEFAULT_POLICY
    p = make_policy({"above_from": "95", "innovation_cap": 15})
    assert (p.above_from, p.innovation_cap, p.meets_from) == (D("95"), D("15"), D("70"))
    assert make_policy(policy_values(p)) == p
    assert policy_values(DEFAULT_POLICY)["weight_perilaku"] == "0.4"


@pytest.mark.parametrize("values", [
    {"weight_hasil_kerja": "0"}, {"weight_perilaku": "-1"}, {"above_from": "101"}, {"meets_from": "95"},
    {"innovation_points": "-5"}, {"timeliness_penalty_per_day": "NaN"}, {"innovation_cap": "x"},
    {"distribution_curve": {"Baik": {"max": {"Hebat": "0.5"}}}}, {"distribution_curve": {"Baik": {"max": {"Baik": "2"}}}},
    # issue 15: a weight past 1, or weights that do not add up to 1, or a number with no end of digits
    {"weight_hasil_kerja": "1e999999"}, {"weight_hasil_kerja": "1", "weight_perilaku": "1"},
    {"weight_hasil_kerja": "0.7"}, {"above_from": "1e-999999"}, {"innovation_cap": "1e999999"},
])
def test_nonsense_is_refused(values):
    with pytest.raises(BadPolicy):
        make_policy(values)


def counts(sb=0, b=0, bp=0, k=0, sk=0, belum=0):
    return {SANGAT_BAIK: sb, BAIK: b, BUTUH_PERBAIKAN: bp, KURANG: k, SANGAT_KURANG: sk, "Belum dinilai": belum}


def test_an_organisation_rated_baik_gives_at_most_70_percent_baik_and_some_below():
    curve = DEFAULT_CURVES["Baik"]
    assert check(counts(sb=1, b=7, bp=2), curve) == []
    too_many = check(counts(b=8, bp=2), curve)
    assert [(b.kind, b.predikat, b.count, b.limit_count) for b in too_many] == [("max", (BAIK,), 8, 7)]
    assert "paling banyak 7" in too_many[0].describe()
    nobody_below = check(counts(sb=3, b=7), curve)  # 70 % Baik, but there must be Butuh Perbaikan / Kurang
    assert [(b.kind, b.predikat, b.limit_count) for b in nobody_below] == [("min", (BUTUH_PERBAIKAN, KURANG), 1)]
    # shares are of the rated ASN: "Belum dinilai" neither helps nor hurts
    assert check(counts(b=7, bp=3, belum=50), curve) == []
    assert check(counts(belum=5), curve) == [] and check(counts(b=10), None) == []


def test_the_other_organisation_predikats():
    assert [b.predikat for b in check(counts(sb=8, b=2), DEFAULT_CURVES["Istimewa"])] == [(SANGAT_BAIK,)]
    assert check(counts(sb=7, b=3), DEFAULT_CURVES["Istimewa"]) == []
    assert check(counts(sb=1, b=3, bp=6), DEFAULT_CURVES["Butuh Perbaikan"]) == []
    assert {b.predikat for b in check(counts(sb=2, b=3, bp=5), DEFAULT_CURVES["Butuh Perbaikan"])} == {
        (SANGAT_BAIK,), (BUTUH_PERBAIKAN,)}
    assert check(counts(bp=1, k=6, sk=3), DEFAULT_CURVES["Kurang"]) == []
    assert [b.predikat for b in check(counts(k=7, sk=3), DEFAULT_CURVES["Kurang"])] == [(BUTUH_PERBAIKAN,)]
    assert [b.predikat for b in check(counts(sb=1, k=3, sk=6), DEFAULT_CURVES["Sangat Kurang"])] == [(SANGAT_BAIK,)]


def test_shares_and_an_agency_curve():
    assert shares(counts(b=7, bp=3, belum=10))[BAIK] == D("0.7")
    curves = curves_from_json({"Baik": {"max": {"Baik": "0.5"}, "min": []}})
    assert [b.limit_count for b in check(counts(b=6, bp=4), curves["Baik"])] == [5]
    assert curves["Istimewa"] == DEFAULT_CURVES["Istimewa"]  # not named: the default
    assert curves_from_json(curves_to_json(DEFAULT_CURVES)) == DEFAULT_CURVES
