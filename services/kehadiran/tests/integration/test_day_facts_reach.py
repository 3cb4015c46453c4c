"""A day's recompute reads the punches that day can own, not the whole days around it (in a working
month each of those has its punches too), and still finds every punch that belongs to it: a
departure in the margin after midnight, a night shift's morning departure marked on its own date."""
from __future__ import annotations

from datetime import date, datetime, time, timedelta, timezone
from functools import partial

import pytest
from sqlalchemy import select

from kehadiran.adapters.orm import DaySummaryRow
from kehadiran.adapters.day_store import asns_tracked
from kehadiran.entrypoints.runtime import settle_days
from kehadiran.service_layer.day_facts import DayFacts
from kehadiran.service_layer.round_contexts import RoundContexts
from kinerja.auth import issue_token
from kinerja.config import DEV_JWT_SECRET
from kinerja.webapp import runtime_of
from kinerja_testkit.kehadiran import app_with_roster, attlog_line as line, post_attlog

pytestmark = pytest.mark.integration
AGENCY = "disdik"
SN = "LMS0002"
WIB = timezone(timedelta(hours=7))
OPERATOR = {"Authorization": "Bearer " + issue_token(DEV_JWT_SECRET, role="operator", agency="*")}
STAFF = [("198503122010010001", "101"), ("198503122010010002", "102")]
post = partial(post_attlog, sn=SN)


def last_full_week() -> dict[str, date]:
    """Wednesday to Saturday of the latest week whose Monday is at least a week back (WIB): closed days."""
    today = datetime.now(WIB).date()
    monday = today - timedelta(days=today.weekday() + 7)
    return {name: monday + timedelta(days=k) for k, name in enumerate(("mon", "tue", "wed", "thu", "fri", "sat"))}


@pytest.fixture
def app(database_url):
    with app_with_roster(database_url, STAFF, sn=SN, agency=AGENCY, operator=OPERATOR) as app:
        yield app


def stored(runtime, nip: str) -> dict[date, dict]:
    with runtime.session() as s:
        return {r.day: r.payload for r in s.execute(select(DaySummaryRow).where(DaySummaryRow.nip == nip)).scalars()}


def test_a_day_reads_only_the_punches_it_can_own_and_finds_each_of_them(app):
    runtime = runtime_of(app)
    client = app.test_client()
    w = last_full_week()
    (nip, pin), (other, other_pin) = STAFF
    # a working week for both, every day posted and settled on its own, as devices do
    for name in ("mon", "tue", "wed", "thu"):
        post(client, [line(pin, w[name], 7, 20), line(pin, w[name], 16, 10),
                      line(other_pin, w[name], 7, 25), line(other_pin, w[name], 16, 5)])
        settle_days(runtime)
    # Friday's departure 20 minutes after midnight: within its window's margin (16:30 + 8 h), so it is
    # Friday's, although dated Saturday and marked as Saturday's
    post(client, [line(pin, w["fri"], 7, 28)])
    settle_days(runtime)
    post(client, [line(pin, w["sat"], 0, 20)])
    settle_days(runtime)
    records = stored(runtime, nip)
    assert records[w["fri"]]["departure"] == datetime.combine(w["sat"], time(0, 20), WIB).isoformat()
    assert records[w["thu"]]["departure"] == datetime.combine(w["thu"], time(16, 10), WIB).isoformat()
    assert records[w["wed"]]["arrival"] == datetime.combine(w["wed"], time(7, 20), WIB).isoformat()

    # what a recompute of Wednesday reads: Wednesday's punches, not Tuesday's or Thursday's
    with runtime.session() as s:
        conn = s.connection()
        people, _ = asns_tracked(conn, [nip, other])
        contexts = RoundContexts(conn, people.values(), [w["wed"], w["fri"]])
        zone = __import__("zoneinfo").ZoneInfo("Asia/Jakarta")
        facts = DayFacts(conn, {n: contexts.around(people[n]) for n in people}, {n: zone for n in people})
        facts.read([(nip, w["wed"]), (other, w["wed"])])
        read = {(n, p.time.astimezone(WIB).strftime("%a %H:%M")) for n, by_id in facts.punches.items()
                for p in by_id.values()}
        assert read == {(nip, "Wed 07:20"), (nip, "Wed 16:10"), (other, "Wed 07:25"), (other, "Wed 16:05")}
        assert set(facts.stored) == {(nip, w["wed"]), (other, w["wed"])}
        # Friday's span reaches past midnight: Saturday's 00:20 is read with it
        facts.read([(nip, w["fri"])])
        assert (nip, w["sat"]) not in facts.covered
        assert any(p.time.astimezone(WIB).strftime("%a %H:%M") == "Sat 00:20" for p in facts.punches[nip].values())
