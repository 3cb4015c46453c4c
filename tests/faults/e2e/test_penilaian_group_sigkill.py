"""Three penilaian consumers in one group work through a backlog of attendance from several hundred
punches, and one of them is SIGKILLed in the middle of a batch: its open transaction rolls back,
its partitions go to the other two, which are handed again what it applied past the committed
offsets (no-ops). The scores at the end are the clean replay's, nothing lost or counted twice, and
PostgreSQL saw no deadlock among the three (one lock order, ``penilaian.service_layer.locks``)."""
from __future__ import annotations

import signal

import pytest
import requests

from kinerja.testing import create_postgres_database, wait_until

from .harness import (Db, assert_clean, device_token, ingest_ledger, load_roster, make_plan, record,
                      register_devices, wait_days_worked, wait_for_expected_scores, wait_outbox_drained)
from .test_consumer_sigkill import committed_by_partition

pytestmark = pytest.mark.slow
BATCH = 20


def test_one_of_three_penilaian_consumers_killed_mid_batch(kafka_bootstrap, topic_prefix, postgres_server,
                                                           make_stack, fault_report, request):
    urls = {"kehadiran": create_postgres_database(postgres_server), "penilaian": create_postgres_database(postgres_server)}
    stack = make_stack(kafka_bootstrap, topic_prefix, urls, extra_env={"PENILAIAN_APPLY_BATCH": "25"})
    keh, pen = Db(urls["kehadiran"]), Db(urls["penilaian"])
    plan = make_plan("faults-group", 3, staff=60, devices=1, days=6, seed=3)
    register_devices(stack, plan)
    load_roster(stack, plan, keh)
    kehadiran_topic = f"{topic_prefix}.kehadiran.v1"
    wait_until(lambda: pen.scalar("SELECT count(*) FROM employees") == len(plan.staff), 60,
               message="penilaian has read the roster")

    # a backlog while penilaian is away, then three consumers share it
    stack.kill("penilaian-consumer", signal.SIGKILL)
    items = [p.json_item() for p in plan.punches]
    for i in range(0, len(items), BATCH):
        r = requests.post(f"{stack.url('kehadiran')}/api/v1/punches", json={"punches": items[i:i + BATCH]},
                          headers=device_token(plan.agency, plan.devices[0]), timeout=30)
        assert r.status_code == 200 and r.json()["accepted"] == len(items[i:i + BATCH]), r.text
    wait_days_worked(keh, 60)
    wait_outbox_drained(keh, 60)
    backlog = keh.scalar("SELECT count(*) FROM outbox")

    def applied() -> int:
        return pen.scalar("SELECT count(*) FROM processed_events WHERE topic = :t", t=kehadiran_topic)

    for instance in (1, 2, 3):
        stack.start_process("penilaian", "consumer", instance)
    wait_until(lambda: applied() > backlog // 4, 120, interval_s=0.01, message="the group applying the backlog")
    stack.kill("penilaian-consumer-2", signal.SIGKILL)
    at_kill = applied()
    stack.procs = [p for p in stack.procs if p.name != "penilaian-consumer-2"]  # gone for good: not a crash to report
    # applied (id recorded) but at or past the group's committed offsets: handed out again after the kill
    offsets = committed_by_partition(kafka_bootstrap, f"{topic_prefix}.penilaian", kehadiran_topic)
    again = sum(1 for part, o in pen.rows('SELECT "partition", "offset" FROM processed_events WHERE topic = :t',
                                          t=kehadiran_topic) if o >= offsets.get(part, 0))
    assert at_kill < backlog, "the backlog ran out before the kill"

    wait_for_expected_scores(stack, plan, 180)
    ledger = ingest_ledger(plan, keh, pen)
    ids = pen.rows("SELECT event_id FROM processed_events WHERE topic = :t", t=kehadiran_topic)
    record(fault_report, request, "one of three penilaian consumers SIGKILLed mid-batch", ledger, duplicates=again,
           note=f"backlog of {backlog} kehadiran events shared by 3 consumers in one group; {at_kill} applied "
                "when one was killed; its open batch rolled back, the other two took its partitions")
    assert_clean(ledger)
    assert len(ids) == len({r[0] for r in ids})
    assert pen.scalar("SELECT deadlocks FROM pg_stat_database WHERE datname = current_database()") == 0
    keh.close()
    pen.close()
