"""The broker stopped for a minute (OUTAGE_S) in the middle of an upload storm: several hundred
ADMS lines from three terminals in parallel, a third before the broker stops and the rest spread
over the minute it is away. Every upload is answered ``OK:<n>`` throughout; after the restart every punch is scored exactly
as the clean replay (DESIGN's rules, written out in ``harness``) says, once. Each service runs two
relays on its outbox, as in production."""
from __future__ import annotations

import threading
import time

import pytest
import requests

from kinerja.testing import create_postgres_database, wait_until

from .harness import (PUNCH_TYPE, Db, assert_clean, event_ids, ingest_ledger, load_roster, make_plan, post_adms,
                      read_topic, record, register_devices, relay_buckets, run_threads, wait_for_expected_scores,
                      wait_outbox_drained)

pytestmark = pytest.mark.slow
OUTAGE_S = 60.0
BATCH = 12


def test_broker_stopped_during_an_adms_upload_storm(own_broker, postgres_server, make_stack, fault_report, request):
    urls = {"kehadiran": create_postgres_database(postgres_server), "penilaian": create_postgres_database(postgres_server)}
    stack = make_stack(own_broker.bootstrap, "", urls, relays=2)
    keh, pen = Db(urls["kehadiran"]), Db(urls["penilaian"])
    plan = make_plan("faults-storm", 1, staff=36, devices=3, days=5, seed=1)
    register_devices(stack, plan)
    load_roster(stack, plan, keh)
    assert len(plan.punches) >= 300

    per_device = {sn: [p.adms_line() for p in plan.punches if p.device == sn] for sn in plan.devices}
    batches = {sn: [lines[i:i + BATCH] for i in range(0, len(lines), BATCH)] for sn, lines in per_device.items()}
    third = {sn: len(b) // 3 for sn, b in batches.items()}
    first_third_done = threading.Barrier(len(plan.devices) + 1, timeout=120)
    broker_down = threading.Event()
    down_at: list[float] = []  # when the broker stopped (monotonic)
    answers: list[tuple[str, int, str, bool]] = []  # (sn, status, body, broker was down)

    def device(sn: str):
        def run():
            for i, lines in enumerate(batches[sn]):
                if i == third[sn]:
                    first_third_done.wait()  # the main thread stops the broker here
                    broker_down.wait(60)
                if i >= third[sn]:
                    # the rest of the storm keeps coming while the broker is away, not all in its first seconds
                    due = down_at[0] + (OUTAGE_S - 10) * (i - third[sn]) / max(1, len(batches[sn]) - third[sn])
                    time.sleep(max(0.0, due - time.monotonic()))
                r = post_adms(stack, sn, lines)
                answers.append((sn, r.status_code, r.text, broker_down.is_set()))
                assert r.status_code == 200 and r.text == f"OK:{len(lines)}", (sn, r.status_code, r.text)
        return run

    def fault():
        first_third_done.wait()
        own_broker.stop()
        stopped = time.monotonic()
        down_at.append(stopped)
        broker_down.set()
        # readyz caches its Kafka probe for 2 s: it says so soon, not at once
        wait_until(lambda: requests.get(f"{stack.url('kehadiran')}/readyz", timeout=5).json()["status"] == "degraded",
                   10, interval_s=0.2, message="kehadiran's readyz degraded with Kafka away")
        # the fault itself is "the broker is away for a while": keep it away OUTAGE_S in all
        time.sleep(max(0.0, OUTAGE_S - (time.monotonic() - stopped)))
        own_broker.start()

    run_threads([device(sn) for sn in plan.devices] + [fault])
    during = sum(1 for a in answers if a[3])
    assert during >= len(answers) // 2, "most of the storm should arrive while the broker is away"

    try:
        wait_for_expected_scores(stack, plan, 120)
        failure = None
    except AssertionError as exc:  # still measure what reached the scores
        failure = exc
    wait_outbox_drained(keh, 30)
    ledger = ingest_ledger(plan, keh, pen)
    punch_ids = event_ids(r for r in read_topic(own_broker.bootstrap, "kehadiran.v1") if PUNCH_TYPE.encode() in r.value)
    topic_dups = sum(c - 1 for c in punch_ids.values())
    record(fault_report, request, f"broker stopped {OUTAGE_S:.0f} s during ADMS storm", ledger, duplicates=topic_dups,
           note=f"two relays per service; {len(plan.punches)} lines in {len(answers)} uploads from "
                f"{len(plan.devices)} devices in parallel, "
                f"{during} answered OK:n while the broker was down; dups = punch events on the topic twice")
    if failure is not None:
        raise failure
    assert_clean(ledger)
    # both of kehadiran's relays were serving: each holds half of the outbox's key buckets
    pids = {stack.process(name).popen.pid for name in ("kehadiran-relay", "kehadiran-relay-2")}
    wait_until(lambda: relay_buckets(keh) == {pid: 32 for pid in pids}, 30, message="two relays holding 32 buckets each")
    keh.close()
    pen.close()
