"""PostgreSQL restarted (``pg_ctl restart``, fast mode: sessions terminated) while phones and
devices post JSON punch batches from several threads. A request the database drops answers 503
with the reason and ``Retry-After`` — never 500 — and the client sends it again; afterwards every
punch row has exactly one outbox event (nothing half-written) and the scores are the clean replay."""
from __future__ import annotations

import threading
import time
from collections import Counter

import pytest
import requests

from kinerja.testing import create_postgres_database

from .harness import (Db, assert_clean, device_token, ingest_ledger, load_roster, make_plan, record,
                      register_devices, run_threads, wait_for_expected_scores, wait_outbox_drained)

pytestmark = pytest.mark.slow
BATCH = 3
THREADS = 4
PACE_S = 0.04  # a client's pace between batches: the stream must still be flowing when the restart hits


def test_postgres_restarted_during_ingest(own_postgres, kafka_bootstrap, topic_prefix, make_stack, fault_report,
                                          request):
    pg, server = own_postgres
    urls = {"kehadiran": create_postgres_database(server), "penilaian": create_postgres_database(server)}
    stack = make_stack(kafka_bootstrap, topic_prefix, urls)
    keh, pen = Db(urls["kehadiran"]), Db(urls["penilaian"])
    plan = make_plan("faults-pg", 3, staff=32, devices=THREADS, days=5, seed=3)
    register_devices(stack, plan)
    load_roster(stack, plan, keh)

    statuses: Counter = Counter()
    failures: list[str] = []
    sent = Counter()
    restarted = threading.Event()
    total_batches = 0
    per_device = {}
    for sn in plan.devices:
        items = [p.json_item() for p in plan.punches if p.device == sn]
        per_device[sn] = [items[i:i + BATCH] for i in range(0, len(items), BATCH)]
        total_batches += len(per_device[sn])

    def client(sn: str):
        def run():
            url, headers = f"{stack.url('kehadiran')}/api/v1/punches", device_token(plan.agency, sn)
            for batch in per_device[sn]:
                deadline = time.monotonic() + 60
                while True:
                    try:
                        r = requests.post(url, json={"punches": batch}, headers=headers, timeout=20)
                    except requests.ConnectionError as exc:
                        statuses["connection error"] += 1
                        failures.append(repr(exc)[:200])
                    else:
                        statuses[r.status_code] += 1
                        if r.status_code == 200:
                            body = r.json()
                            assert body["accepted"] + body["duplicates"] == len(batch), body
                            statuses["duplicates in answers"] += body["duplicates"]
                            break
                        if r.status_code == 503:
                            assert r.headers.get("Retry-After"), r.headers
                            assert r.json().get("message"), r.text
                        else:
                            failures.append(f"{r.status_code}: {r.text[:300]}")
                    assert time.monotonic() < deadline, f"batch not accepted in 60 s: {statuses}"
                    time.sleep(0.2)  # the client's retry backoff
                sent[sn] += 1
                time.sleep(PACE_S)
        return run

    def fault():
        # restart once about a third of the stream is in
        deadline = time.monotonic() + 60
        while sum(sent.values()) < total_batches // 3:
            assert time.monotonic() < deadline
            time.sleep(0.01)
        pg.restart()
        restarted.set()

    run_threads([client(sn) for sn in plan.devices] + [fault])
    assert restarted.is_set()
    assert sum(sent.values()) == total_batches

    wait_for_expected_scores(stack, plan, 90)
    wait_outbox_drained(keh, 30)
    ledger = ingest_ledger(plan, keh, pen)
    dups = statuses.pop("duplicates in answers", 0)
    retried = sum(n for s, n in statuses.items() if s != 200)
    record(fault_report, request, "PostgreSQL restarted during ingest", ledger, duplicates=dups,
           note=f"{total_batches} JSON batches from {THREADS} threads; answers {dict(statuses)}; "
                f"{retried} refused while the database was away and sent again")
    assert not failures, f"not a clean 503: {failures[:5]}"
    assert retried > 0, "the restart hit no request: the fault did not happen during ingest"
    assert_clean(ledger)
    keh.close()
    pen.close()
