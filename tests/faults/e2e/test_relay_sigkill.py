"""kehadiran's outbox relays (two, sharing the outbox) killed with SIGKILL between publishing and
marking sent, again and again, while a device streams punches. Each round: both relays are
killed, a backlog builds up, both start, and the moment the topic holds more than the outbox has
marked sent, the relay holding the key buckets is killed. Its published rows are on the topic but
still unsent in the outbox; the surviving relay takes its buckets over and publishes them again.
The copies are counted on the topic; none of them reaches a score (penilaian drops them by event
id), and the scores are the clean replay's."""
from __future__ import annotations

import signal
import threading
import time

import pytest
import requests

from kinerja.testing import create_postgres_database, wait_until

from .harness import (PUNCH_TYPE, Db, assert_clean, device_token, event_ids, ingest_ledger, load_roster, make_plan,
                      read_topic, record, register_devices, relay_buckets, run_threads, wait_for_expected_scores,
                      wait_outbox_drained)

pytestmark = pytest.mark.slow
KILLS = 4
BATCH = 6
RELAYS = ("kehadiran-relay", "kehadiran-relay-2")


def test_relay_killed_between_publishing_and_marking_sent(kafka_bootstrap, topic_prefix, postgres_server,
                                                          make_stack, fault_report, request):
    from kafka import KafkaConsumer, TopicPartition

    urls = {"kehadiran": create_postgres_database(postgres_server), "penilaian": create_postgres_database(postgres_server)}
    stack = make_stack(kafka_bootstrap, topic_prefix, urls, relays=2)
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
    batches = [items[i:i + BATCH] for i in range(0, len(items), BATCH)]
    # the stream comes in KILLS + 1 parts, each started by the fault thread once it has killed both
    # relays, so every round has a backlog to publish and the stream outlasts the kills
    per_part = -(-len(batches) // (KILLS + 1))
    parts = [batches[i:i + per_part] for i in range(0, len(batches), per_part)]
    assert len(parts) == KILLS + 1
    go = [threading.Event() for _ in parts]
    part_done = [threading.Event() for _ in parts]

    def device():
        for k, part in enumerate(parts):
            assert go[k].wait(300)
            for batch in part:
                r = requests.post(f"{stack.url('kehadiran')}/api/v1/punches", json={"punches": batch},
                                  headers=device_token(plan.agency, plan.devices[0]), timeout=30)
                assert r.status_code == 200 and r.json()["accepted"] == len(batch), r.text
                time.sleep(0.05)  # a device's pace
            part_done[k].set()

    kills: list[tuple[int, int, int]] = []  # (published, marked sent, buckets held) by each killed relay
    takeovers: list[float] = []  # seconds until the survivor had sent everything the killed one held

    def fault():
        for round_no in range(KILLS):
            for relay in RELAYS:
                stack.kill(relay, signal.SIGKILL)
            # let a backlog build up, then start both relays and kill the one publishing the moment the
            # topic holds more than the outbox has marked sent: it has published and not yet marked
            go[round_no].set()
            wait_until(lambda: keh.scalar("SELECT count(*) FROM outbox WHERE sent_at IS NULL") >= 60 or
                       part_done[round_no].is_set(), 60, interval_s=0.02, message="a backlog in the outbox")
            base_topic, base_marked = on_topic(), marked()
            for instance in (1, 2):
                stack.start_process("kehadiran", "relay", instance)
            wait_until(lambda: on_topic() - base_topic > marked() - base_marked or marked() > base_marked, 60,
                       interval_s=0.005, message="a relay publishing")
            held = relay_buckets(keh)
            victim = max(RELAYS, key=lambda r: held.get(stack.process(r).popen.pid, 0))
            stack.kill(victim, signal.SIGKILL)
            kills.append((on_topic() - base_topic, marked() - base_marked, held.get(stack.process(victim).popen.pid, 0)))
            # the survivor takes the killed relay's buckets over and sends what it left unmarked
            last = keh.scalar("SELECT max(id) FROM outbox")
            began = time.monotonic()
            wait_until(lambda: keh.scalar("SELECT count(*) FROM outbox WHERE sent_at IS NULL AND id <= :m", m=last) == 0,
                       60, interval_s=0.02, message=f"round {round_no}: the surviving relay publishing the killed one's rows")
            takeovers.append(round(time.monotonic() - began, 1))
        for instance, relay in enumerate(RELAYS, start=1):
            if stack.process(relay).popen.poll() is not None:
                stack.start_process("kehadiran", "relay", instance)
        for k in range(KILLS, len(parts)):
            go[k].set()  # the rest of the stream, with both relays running

    run_threads([device, fault])
    probe.close()
    wait_outbox_drained(keh, 60)
    wait_for_expected_scores(stack, plan, 120)
    ledger = ingest_ledger(plan, keh, pen)
    ids = event_ids(read_topic(kafka_bootstrap, name))
    on_topic_total, distinct = sum(ids.values()), len(ids)
    outbox_rows = keh.scalar("SELECT count(*) FROM outbox")
    punch_copies = event_ids(r for r in read_topic(kafka_bootstrap, name) if PUNCH_TYPE.encode() in r.value)
    record(fault_report, request, f"one of two outbox relays SIGKILLed x{KILLS} before marking sent", ledger,
           duplicates=on_topic_total - distinct,
           note=f"{on_topic_total} messages on {name} for {distinct} events ({outbox_rows} outbox rows); "
                f"{sum(c - 1 for c in punch_copies.values())} of the copies are punch events; "
                f"(published, marked, buckets held) by each killed relay: {kills}; "
                f"the survivor had sent the killed relay's rows after {takeovers} s")
    assert distinct == outbox_rows, "every outbox row reached the topic"
    assert on_topic_total > distinct, "no duplicate on the topic: the kills did not land between publish and mark"
    assert_clean(ledger)
    keh.close()
    pen.close()
