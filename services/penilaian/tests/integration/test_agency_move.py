"""An ASN moving agency is scored under the new agency's policy from the month of the move (the
TMT the new agency's roster gives, else the month the roster said so); earlier months keep the old
agency's policy, and a later change of the old agency's policy still reaches them. Through the real
broker; then a fresh database fed what a compacted ``pegawai.v1`` keeps (the latest roster record
only) and penilaian's own topic gives the same scores."""
from __future__ import annotations

import json
from datetime import date, datetime
from decimal import Decimal as D
from zoneinfo import ZoneInfo

import pytest

from kinerja.events import decode_event, make_event
from kinerja.events.pegawai import EMPLOYEE_UPSERTED
from kinerja.events.penilaian import MEMBERSHIP_RECORDED, SCORE_UPDATED
from kinerja.messaging.topics import KEHADIRAN, PEGAWAI
from kinerja.testing import wait_until
from penilaian.domain.periods import parse_period
from penilaian.service_layer.scoring import record_rating, set_policy
from kinerja_testkit.penilaian import (AGENCY, ATASAN, FOREIGN, PEG1, WIB, RunningConsumer, day_event, make_penilaian,
                               publish)

pytestmark = pytest.mark.integration

ZONE = ZoneInfo("Asia/Jakarta")
ALL_MEETS = {v: "meets" for v in ("berorientasi_pelayanan", "akuntabel", "kompeten", "harmonis", "loyal",
                                  "adaptif", "kolaboratif")}
MONTHS = ("2026-10", "2026-11", "2026-12")


def roster(agency: str, *, tmt: date | None, at: datetime):
    return make_event(EMPLOYEE_UPSERTED, subject=PEG1, agency=agency, source="test/roster", time=at,
                      data={"nip": PEG1, "nama": "Pegawai Satu", "agency": agency, "unit": "Sekretariat",
                            "atasan_nip": ATASAN, "tmt": tmt})


FIRST = roster(AGENCY, tmt=date(2015, 3, 1), at=datetime(2026, 9, 1, 8, tzinfo=WIB))
MOVE = roster(FOREIGN, tmt=date(2026, 11, 1), at=datetime(2026, 11, 3, 8, tzinfo=WIB))
DAYS = [day_event(PEG1, date(2026, m, 5), ("TL1", "0.5")) for m in (10, 11, 12)]


def berakhlak(p):
    return tuple(p.score(PEG1, m).berakhlak for m in MONTHS)


def record_own_facts(p):
    """The supervisor's ratings for each month, and the new agency's policy (meets worth 60) from
    January: penilaian's own facts, written as its API writes them."""
    with p.runtime.session() as s, s.begin():
        for month in MONTHS:
            record_rating(s, p.runtime.outbox, nip=PEG1, period=parse_period(month), rater="atasan", rated_by=ATASAN,
                          levels=ALL_MEETS, zone=ZONE)
        set_policy(s, p.runtime.outbox, agency=FOREIGN, effective_from=date(2026, 1, 1),
                   values={"berakhlak_points": {"meets": "60"}}, set_by="admin-disdik", zone=ZONE)


@pytest.mark.slow
def test_a_move_rescores_from_its_month_under_the_new_agencys_policy(database_url, kafka_bootstrap, topic_prefix,
                                                                       tmp_path):
    p = make_penilaian(database_url, kafka_bootstrap=kafka_bootstrap, topic_prefix=topic_prefix)
    record_own_facts(p)
    consumer = RunningConsumer(p.runtime)
    try:
        publish(kafka_bootstrap, topic_prefix, [(PEGAWAI, FIRST), *[(KEHADIRAN, d) for d in DAYS]])
        wait_until(lambda: all(p.score(PEG1, m) is not None and p.score(PEG1, m).disiplin == D("99.50")
                               for m in MONTHS), timeout_s=60, message="three months scored")
        assert berakhlak(p) == (D("80.00"),) * 3  # all dinkes, meets worth 80

        publish(kafka_bootstrap, topic_prefix, [(PEGAWAI, MOVE)])
        wait_until(lambda: berakhlak(p) == (D("80.00"), D("60.00"), D("60.00")), timeout_s=60,
                   message="November on rescored under disdik's policy")
        moved = [e for e in p.outbox() if e["type"] == SCORE_UPDATED and e["data"]["caused_by"] == [MOVE.id]]
        assert sorted(e["data"]["period"] for e in moved) == ["2026-11", "2026-12"]
        # the scores are filed under the agency the roster names now (its admin reads them)
        assert {p.score(PEG1, m).agency for m in MONTHS} == {FOREIGN}

        # the old agency changes its policy from October: October is still its to score
        with p.runtime.session() as s, s.begin():
            set_policy(s, p.runtime.outbox, agency=AGENCY, effective_from=date(2026, 10, 1),
                       values={"berakhlak_points": {"meets": "90"}}, set_by="admin-dinkes", zone=ZONE)
        wait_until(lambda: berakhlak(p) == (D("90.00"), D("60.00"), D("60.00")), timeout_s=60,
                   message="October under dinkes's new policy")
    finally:
        consumer.close()
    assert consumer.consumer.stats.dead_lettered == 0
    live = p.scores()

    # what a rebuild reads once pegawai.v1 is compacted: the move alone, and penilaian.v1
    own = [decode_event(json.dumps(e).encode()) for e in p.outbox() if e["type"] != SCORE_UPDATED]
    assert [(e.data["agency"], e.data["since"]) for e in own if e.type == MEMBERSHIP_RECORDED] == [
        (AGENCY, date(2015, 3, 1)), (FOREIGN, date(2026, 11, 1))]
    for order in (lambda xs: xs, lambda xs: list(reversed(xs))):
        fresh = make_penilaian(f"sqlite:///{tmp_path / f'fresh{len(list(tmp_path.iterdir()))}.db'}")
        try:
            fresh.apply(*order([MOVE, *own, *DAYS]))
            fresh.settle()
            assert fresh.scores() == live
        finally:
            fresh.runtime.dispose()
    p.runtime.dispose()


def test_a_roster_imported_again_is_no_news_and_a_move_without_tmt_counts_from_its_month(penilaian):
    p = penilaian
    record_own_facts(p)
    p.apply(FIRST, *DAYS)
    again = roster(AGENCY, tmt=None, at=datetime(2026, 12, 1, 8, tzinfo=WIB))
    before = len(p.outbox())
    p.apply(again)  # the same agency said once more: nothing kept, published or recomputed
    assert len(p.outbox()) == before and berakhlak(p) == (D("80.00"),) * 3
    # moved without a TMT: from the month the roster said so (12 December, WIB → December)
    p.apply(roster(FOREIGN, tmt=None, at=datetime(2026, 12, 12, 8, tzinfo=WIB)))
    assert berakhlak(p) == (D("80.00"), D("80.00"), D("60.00"))
