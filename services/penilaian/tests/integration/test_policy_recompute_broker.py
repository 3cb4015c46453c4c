"""A policy change is recomputed by the consumer, not inside the request, through the real broker:
``PUT /api/v1/policy`` (here with other BerAKHLAK points, part of the versioned policy) stores the
version, publishes it and queues its recompute, and moves no score; penilaian's consumer then
recomputes the agency's ASN between polls in batches of ``PENILAIAN_POLICY_RECOMPUTE_BATCH``;
and a fresh database whose consumer reads the topics from the start queues and does the same."""
from __future__ import annotations

from datetime import date
from decimal import Decimal as D
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from kinerja.messaging.topics import KEHADIRAN, PEGAWAI
from kinerja.testing import wait_until
from kinerja.webapp import runtime_of
from penilaian.adapters.orm import PolicyRecomputeRow
from penilaian.domain.periods import parse_period
from penilaian.entrypoints.app import create_app
from penilaian.service_layer.scoring import record_rating
from kinerja_testkit.penilaian import (AGENCY, ATASAN, FOREIGN_PEG, KEPALA, PEG1, PEG2, ROSTER, RunningConsumer, day_event,
                               make_penilaian, publish, roster_event)

pytestmark = [pytest.mark.integration, pytest.mark.slow]

ALL_MEETS = {v: "meets" for v in ("berorientasi_pelayanan", "akuntabel", "kompeten", "harmonis", "loyal",
                                  "adaptif", "kolaboratif")}
OURS = [nip for nip, _, agency, _ in ROSTER if agency == AGENCY]


def jobs(p):
    with p.runtime.session() as s:
        return [(j.asn, j.batches, j.done_at is not None) for j in s.execute(select(PolicyRecomputeRow)).scalars()]


def processed(p) -> set[str]:
    with p.runtime.session() as s:
        return set(s.execute(select(p.runtime.processed_table.c.event_id)).scalars())


def test_the_consumer_recomputes_a_new_policy_in_batches(database_url, kafka_bootstrap, topic_prefix, tmp_path):
    p = make_penilaian(database_url, kafka_bootstrap=kafka_bootstrap, topic_prefix=topic_prefix)
    app = create_app({"database_url": database_url, "kafka_bootstrap": kafka_bootstrap, "topic_prefix": topic_prefix})
    client = app.test_client()
    admin = {"Authorization": f"Bearer {p.token(KEPALA, 'admin')}"}
    upstream = [(PEGAWAI, roster_event(nip, nama, agency, atasan)) for nip, nama, agency, atasan in ROSTER]
    upstream += [(KEHADIRAN, day_event(nip, date(2026, m, 3), ("TL1", "0.5"), agency=agency))
                 for nip, _, agency, _ in ROSTER for m in (10, 11)]
    publish(kafka_bootstrap, topic_prefix, upstream)
    with p.runtime.session() as s, s.begin():  # the supervisor's ratings, through penilaian itself
        for month in ("2026-10", "2026-11"):
            record_rating(s, p.runtime.outbox, nip=PEG1, period=parse_period(month), rater="atasan", rated_by=ATASAN,
                          levels=ALL_MEETS, zone=ZoneInfo("Asia/Jakarta"))
    consumer = RunningConsumer(p.runtime, recompute_batch=2)
    try:
        # every upstream event applied (a score existing is not enough: a day event applied after the
        # new version would rescore its month itself, leaving the recompute nothing to change)
        wait_until(lambda: processed(p) >= {event.id for _, event in upstream}, timeout_s=60,
                   message="the upstream facts applied")
    finally:
        consumer.close()
    # (99.5 + 80) / 2 = 89.75 with meets worth 80
    assert (p.score(PEG1, "2026-11").perilaku, p.score(PEG1, "2026-10").perilaku) == (D("89.75"), D("89.75"))
    before = p.scores()

    # the request: the version stored and published, its recompute queued; no score moves
    r = client.put("/api/v1/policy", headers=admin, json={
        "effective_from": "2026-11", "berakhlak_points": {"below": "50", "meets": "70", "above": "100"}})
    assert r.status_code == 200, r.json
    version = r.json["versions"][0]
    assert version["berakhlak_points"] == {"below": "50", "meets": "70", "above": "100"}
    assert version["recompute"] == {"status": "pending", "asn": 0, "batches": 0}
    assert p.scores() == before and jobs(p) == [(0, 0, False)]

    # the consumer: two ASN a transaction, between polls (the policy event comes back through the broker too)
    relay = p.runtime.relay()
    try:
        while relay.publish_batch():
            pass
    finally:
        relay._drop_producer()
    consumer = RunningConsumer(p.runtime, recompute_batch=2)
    try:
        wait_until(lambda: jobs(p) and jobs(p)[0][2], timeout_s=60, message="the recompute done")
    finally:
        consumer.close()
    # the agency's 6 ASN, 2 a batch, and the batch that found none left; the other agency untouched
    assert jobs(p) == [(len(OURS), len(OURS) // 2 + 1, True)]
    assert consumer.consumer.recomputer.batches == len(OURS) // 2 + 1
    assert p.score(PEG1, "2026-11").berakhlak == D("70.00") and p.score(PEG1, "2026-11").perilaku == D("84.75")
    assert p.score(PEG1, "2026-10").perilaku == D("89.75")  # before the version: meets still 80
    assert p.scores(FOREIGN_PEG) == {k: v for k, v in before.items() if k[0] == FOREIGN_PEG}
    assert p.score(PEG2, "2026-11").perilaku == D("99.50")  # not rated: the points do not matter
    updated = [e for e in p.outbox() if e["type"] == "penilaian.score.updated.v1"
               and e["data"]["caused_by"] == [version["policy_id"]]]
    assert {(e["subject"], e["data"]["period"]) for e in updated} == {(PEG1, "2026-11")}
    status = client.get("/api/v1/policy", headers=admin).json["versions"][0]["recompute"]
    assert status == {"status": "done", "asn": len(OURS), "batches": len(OURS) // 2 + 1}

    # a fresh database restored from the topics: applying the policy event queues the same recompute
    relay = p.runtime.relay()
    try:
        while relay.publish_batch():
            pass
    finally:
        relay._drop_producer()
    fresh = make_penilaian(f"sqlite:///{tmp_path / 'fresh.db'}", kafka_bootstrap=kafka_bootstrap,
                           topic_prefix=topic_prefix)
    restored = RunningConsumer(fresh.runtime, group_id=f"{topic_prefix}.penilaian-fresh", recompute_batch=4)
    try:
        wait_until(lambda: jobs(fresh) and jobs(fresh)[0][2] and fresh.scores() == p.scores(), timeout_s=90,
                   message="the fresh database to match")
    finally:
        restored.close()
        fresh.runtime.dispose()
        runtime_of(app).dispose()
        p.runtime.dispose()

