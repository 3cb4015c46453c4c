"""kehadiran's outbox relay killed with SIGKILL between publishing and marking sent, again and
again, while a device streams punches: the killed relay's batch is on the topic but still unsent
in the outbox, so its successor publishes it again. The copies are counted on the topic; none of
them reaches a score (penilaian drops them by event id), and the scores are the clean replay's."""
from __future__ import annotations

import signal
import threading
import time

import pytest
import requests

from kinerja.testing import create_postgres_database, wait_until

from .harness import (PUNCH_TYPE, Db, assert_clean, device_token, event_ids, ingest_ledger, load_roster, make_plan,
                      read_topic, record, register_devices, run_threads, wait_for_expected_scores,
                      wait_outbox_drained)

pytestmark = pytest.mark.slow
KILLS = 4
BATCH = 6


def test_relay_killed_between_publishing_and_marking_sent(kafka_bootstrap, topic_prefix, postgres_server,
                                                          make_stack, fault_report, request):
    from kafka import KafkaConsumer, TopicPartition

    urls = {"kehadiran": create_postgres_database(postgres_server), "penilaian": create_postgres_database(postgres_server)}
    stack = make_stack(kafka_bootstrap, topic_prefix, urls)
    keh, pen = Db(urls["kehadiran"]), Db(urls["penilaian"])
    plan = make_plan("faults-relay", 4, staff=40, devices=1, days=5, seed=4)
    register_devices(stack, plan)
    load_roster(stack, plan, keh)
    name = f"{topic_prefix}.kehadiran.v1"
    probe = KafkaConsumer(bootstrap_servers=kafka_bootstrap, group_id=None, client_id="faults-end-offsets")
    tps = [TopicPartition(name, p) for p in sorted(wait_until(lambda: probe.partitions_for_topic(name), 20))]

    def on_topic() -> int:
        return sum(probe.end_offsets(tps).values())

    def marked() -> int:
        return keh.scalar("SELECT count(*) FROM outbox WHERE sent_at IS NOT NULL")

    items = [p.json_item() for p in plan.punches]
    streaming = threading.Event()
    streaming.set()

    def device():
        try:
            for i in range(0, len(items), BATCH):
                r = requests.post(f"{stack.url('kehadiran')}/api/v1/punches", json={"punches": items[i:i + BATCH]},
                                  headers=device_token(plan.agency, plan.devices[0]), timeout=30)
                assert r.status_code == 200 and r.json()["accepted"] == len(items[i:i + BATCH]), r.text
                time.sleep(0.05)  # a device's pace, so the stream runs through every kill
        finally:
            streaming.clear()

    kills: list[tuple[int, int]] = []  # (published, marked sent) at each kill

    def fault():
        for _ in range(KILLS):
            stack.kill("kehadiran-relay", signal.SIGKILL)
            # let a backlog build up, then start a relay and kill it the moment the topic holds more
            # than the outbox has marked sent: it has published and not yet marked
            wait_until(lambda: keh.scalar("SELECT count(*) FROM outbox WHERE sent_at IS NULL") >= 60 or
                       not streaming.is_set(), 60, interval_s=0.02, message="a backlog in the outbox")
            base_topic, base_marked = on_topic(), marked()
            stack.start_process("kehadiran", "relay")
            wait_until(lambda: on_topic() - base_topic > marked() - base_marked or marked() > base_marked, 60,
                       interval_s=0.005, message="the relay publishing")
            stack.kill("kehadiran-relay", signal.SIGKILL)
            kills.append((on_topic() - base_topic, marked() - base_marked))
        stack.start_process("kehadiran", "relay")

    run_threads([device, fault])
    probe.close()
    wait_outbox_drained(keh, 60)
    wait_for_expected_scores(stack, plan, 120)
    ledger = ingest_ledger(plan, keh, pen)
    ids = event_ids(read_topic(kafka_bootstrap, name))
    on_topic_total, distinct = sum(ids.values()), len(ids)
    outbox_rows = keh.scalar("SELECT count(*) FROM outbox")
    punch_copies = event_ids(r for r in read_topic(kafka_bootstrap, name) if PUNCH_TYPE.encode() in r.value)
    record(fault_report, request, f"outbox relay SIGKILLed x{KILLS} before marking sent", ledger,
           duplicates=on_topic_total - distinct,
           note=f"{on_topic_total} messages on {name} for {distinct} events ({outbox_rows} outbox rows); "
                f"{sum(c - 1 for c in punch_copies.values())} of the copies are punch events; "
                f"(published, marked) by each killed relay: {kills}")
    assert distinct == outbox_rows, "every outbox row reached the topic"
    assert on_topic_total > distinct, "no duplicate on the topic: the kills did not land between publish and mark"
    assert_clean(ledger)
    keh.close()
    pen.close()
