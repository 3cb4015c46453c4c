"""Pure rules: the BerAKHLAK points of each level as part of the versioned policy (validated, kept
in the version's values, used by the score), and the agency an ASN belongs to in a month from the
roster's statements."""
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal as D

import pytest

from penilaian.domain.membership import Statement, agency_at, changes_anything, kept
from penilaian.domain.periods import parse_period
from penilaian.domain.policy import BadPolicy, make_policy, policy_values
from penilaian.domain.scoring import DEFAULT_POLICY, Rating, berakhlak_score, compute_score

ALL_MEETS = {v: "meets" for v in ("berorientasi_pelayanan", "akuntabel", "kompeten", "harmonis", "loyal",
                                  "adaptif", "kolaboratif")}


def test_the_points_default_to_60_80_100_and_a_version_may_set_them():
    assert policy_values(DEFAULT_POLICY)["berakhlak_points"] == {"below": "60", "meets": "80", "above": "100"}
    p = make_policy({"berakhlak_points": {"meets": "75", "below": "50.5"}})
    assert dict(p.berakhlak_points) == {"below": D("50.5"), "meets": D("75"), "above": D("100")}
    assert make_policy(policy_values(p)) == p  # what is stored gives the same policy back
    assert make_policy({"berakhlak_points": None}) == DEFAULT_POLICY
    rating = Rating({**ALL_MEETS, "loyal": "above"})  # six meets, one above
    assert berakhlak_score(rating) == D("82.86")
    assert berakhlak_score(rating, p) == D("78.57")  # (6 × 75 + 100) / 7
    score = compute_score(parse_period("2026-11"), rating=Rating(ALL_MEETS), policy=p)
    assert (score.berakhlak, score.perilaku) == (D("75.00"), D("75.00"))


@pytest.mark.parametrize("points, reason", [
    ({"meets": "101"}, "between 0 and 100"),
    ({"below": "-1"}, "between 0 and 100"),
    ({"below": "90"}, "below ≤ meets ≤ above"),  # worth more than meets
    ({"above": "70"}, "below ≤ meets ≤ above"),
    ({"hebat": "100"}, "unknown level"),
    ({"meets": "banyak"}, "not a number"),
    ({"meets": "NaN"}, "between 0 and 100"),
    ("80", "an object"),
])
def test_nonsense_points_are_refused_with_the_reason(points, reason):
    with pytest.raises(BadPolicy, match=reason):
        make_policy({"berakhlak_points": points})


T0 = datetime(2026, 1, 1, tzinfo=timezone.utc)


def st(since: str, agency: str, hours: int, event_id: str = "e") -> Statement:
    return Statement(date.fromisoformat(since + "-01"), agency, T0 + timedelta(hours=hours), f"{event_id}{hours}")


def test_the_agency_of_a_month_is_the_latest_statement_started_by_then():
    facts = [st("2026-01", "dinkes", 1), st("2026-11", "disdik", 2)]
    assert agency_at(facts, date(2025, 6, 1)) == "dinkes"  # before anything stated: the earliest month's
    assert agency_at(facts, date(2026, 10, 31)) == "dinkes"
    assert agency_at(facts, date(2026, 11, 1)) == "disdik" and agency_at(facts, date(2027, 3, 1)) == "disdik"
    # a later statement from an earlier month wins from its month on: back to dinkes from December
    back = [*facts, st("2026-12", "dinkes", 3)]
    assert [agency_at(back, date(2026, m, 1)) for m in (10, 11, 12)] == ["dinkes", "disdik", "dinkes"]
    # the same facts in any order, and one month stated twice: the later wins
    assert agency_at(list(reversed(back)), date(2026, 11, 1)) == "disdik"
    again = kept(back, st("2026-11", "bappeda", 4))
    assert [agency_at(again, date(2026, m, 1)) for m in (10, 11, 12)] == ["dinkes", "bappeda", "bappeda"]
    assert agency_at([], date(2026, 1, 1)) is None


def test_only_a_statement_that_changes_some_month_is_news():
    facts = [st("2026-01", "dinkes", 1)]
    assert not changes_anything(facts, st("2026-05", "dinkes", 2))  # the roster imported again
    assert not changes_anything(facts, st("2026-01", "dinkes", 2))
    assert changes_anything(facts, st("2026-05", "disdik", 2))  # a move
    assert changes_anything([], st("2026-05", "dinkes", 2))  # the first word
    # an older word for a month already stated is no news; a newer word may be
    assert not changes_anything([st("2026-05", "disdik", 5)], st("2026-05", "dinkes", 2))
    moved = [st("2026-01", "dinkes", 1), st("2026-05", "disdik", 2)]
    assert changes_anything(moved, st("2026-03", "dinkes", 3))  # dinkes again from March: May changes too
