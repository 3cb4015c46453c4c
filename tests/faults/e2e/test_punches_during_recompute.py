"""Punches for the same (ASN, day) arrive while the day worker is recomputing it.

Terminals push each punch as it happens (``Realtime=1``: one line a request), the arrival and the
departure of each ASN-day from two gates at once, every line sent twice, while the day worker's
rounds (two workers) are slowed (each holds its transaction open 150 ms after its work, as a slow database
would): most punches commit while a round has their day in hand. Each punch must be stored
once, be in its day's record once, and the scores must be the clean replay's, as if everything
had come in order."""
from __future__ import annotations

import json
import random
from collections import defaultdict

import pytest

from kinerja.testing import create_postgres_database

from .harness import (Db, assert_clean, ingest_ledger, load_roster, make_plan, post_adms, record, register_devices,
                      run_threads, wait_for_expected_scores, wait_outbox_drained)

pytestmark = pytest.mark.slow
HOLD_MS = 150


def test_punches_for_a_day_arrive_while_the_worker_recomputes_it(kafka_bootstrap, topic_prefix, postgres_server,
                                                                  make_stack, fault_report, request):
    urls = {"kehadiran": create_postgres_database(postgres_server), "penilaian": create_postgres_database(postgres_server)}
    # two day workers: their rounds share no ASN, and a punch for a day either has in hand marks it again
    stack = make_stack(kafka_bootstrap, topic_prefix, urls, day_workers=2,
                       extra_env={"KEHADIRAN_DAY_WORKER_HOLD_MS": str(HOLD_MS)})
    keh, pen = Db(urls["kehadiran"]), Db(urls["penilaian"])
    plan = make_plan("faults-midrecompute", 8, staff=16, devices=2, days=2, seed=8, out_on_other_device=True)
    register_devices(stack, plan)
    load_roster(stack, plan, keh)
    rng = random.Random(8)
    sends: dict[str, list[str]] = {}
    for sn in plan.devices:
        lines = [p.adms_line() for p in plan.punches if p.device == sn] * 2  # each line re-sent
        rng.shuffle(lines)
        sends[sn] = lines
    answers: list[tuple[str, int, str]] = []

    def device(sn: str):
        def run():
            for text in sends[sn]:
                r = post_adms(stack, sn, [text])
                answers.append((sn, r.status_code, r.text[:200]))
        return run

    run_threads([device(sn) for sn in plan.devices])
    wait_for_expected_scores(stack, plan, 120)
    wait_outbox_drained(keh, 30)
    ledger = ingest_ledger(plan, keh, pen)
    # the days recomputed before all their punches were in: a record version that named only
    # some of the day's punches, followed by one naming them all
    versions: dict[tuple[str, str], list[tuple[int, frozenset]]] = defaultdict(list)
    for (value,) in keh.rows("SELECT value FROM outbox"):
        event = json.loads(value)
        if event["type"] == "kehadiran.day.summarized.v1":
            d = event["data"]
            versions[(d["nip"], d["date"])].append((d["version"], frozenset(d["punch_event_ids"])))
    partial = sum(1 for vs in versions.values() if any(ids < max(vs)[1] for _, ids in vs))
    doubled_versions = sum(1 for vs in versions.values() if len({v for v, _ in vs}) != len(vs))
    record(fault_report, request, "punches while their day is recomputed", ledger,
           duplicates=sum(len(v) for v in sends.values()) - len(plan.punches),
           note=f"{len(answers)} one-line uploads from {len(plan.devices)} gates at once, each line twice, two "
                f"workers' rounds held {HOLD_MS} ms; {partial} of {len(versions)} ASN-days were recomputed with some of their "
                f"punches still to come and again after")
    assert [a for a in answers if a[1] != 200 or a[2] != "OK:1"] == []
    assert_clean(ledger)
    assert partial > 0, "no day was recomputed while its punches were still arriving: the scenario did not happen"
    assert doubled_versions == 0
    keh.close()
    pen.close()
