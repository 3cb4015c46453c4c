"""penilaian's consumer killed with SIGKILL in the middle of a batch, three times, while it works
through a backlog of several hundred punch events: each kill leaves events applied whose offsets
were never committed, the restarted consumer is handed them again, and they are no-ops. The scores
at the end are the clean replay's."""
from __future__ import annotations

import signal

import pytest
import requests

from kinerja.testing import create_postgres_database, wait_until

from .harness import (Db, assert_clean, device_token, ingest_ledger, load_roster, make_plan, record,
                      register_devices, wait_days_worked, wait_for_expected_scores, wait_outbox_drained)

pytestmark = pytest.mark.slow
KILLS = 3
BATCH = 20


def committed_by_partition(bootstrap: str, group: str, topic_name: str) -> dict[int, int]:
    from kafka import KafkaAdminClient

    admin = KafkaAdminClient(bootstrap_servers=bootstrap, client_id="faults-offsets")
    try:
        offsets = admin.list_group_offsets(group).get(group, {})
    finally:
        admin.close()
    return {tp.partition: o.offset for tp, o in offsets.items() if tp.topic == topic_name and o.offset >= 0}


def committed(bootstrap: str, group: str, topic_name: str) -> int:
    return sum(committed_by_partition(bootstrap, group, topic_name).values())


def test_penilaian_consumer_killed_mid_batch_several_times(kafka_bootstrap, topic_prefix, postgres_server,
                                                           make_stack, fault_report, request):
    urls = {"kehadiran": create_postgres_database(postgres_server), "penilaian": create_postgres_database(postgres_server)}
    stack = make_stack(kafka_bootstrap, topic_prefix, urls)
    keh, pen = Db(urls["kehadiran"]), Db(urls["penilaian"])
    plan = make_plan("faults-kill", 2, staff=60, devices=1, days=6, seed=2)
    register_devices(stack, plan)
    load_roster(stack, plan, keh)
    kehadiran_topic, group = f"{topic_prefix}.kehadiran.v1", f"{topic_prefix}.penilaian"
    wait_until(lambda: pen.scalar("SELECT count(*) FROM employees") == len(plan.staff), 60,
               message="penilaian has read the roster (its offsets are committed)")

    # a backlog: the consumer is away while every punch comes in and the relay publishes it
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

    kills = []
    for _ in range(KILLS):
        before = applied()
        stack.start_process("penilaian", "consumer")
        # kill it as soon as it is seen working through the backlog: it then holds the next poll's
        # messages, applied one by one (offsets not yet committed) or in one open transaction
        wait_until(lambda: applied() > before, 90, interval_s=0.01, message="the consumer applying the backlog")
        stack.kill("penilaian-consumer", signal.SIGKILL)
        done = applied()
        # applied (id recorded) but at or past the group's committed offset: handed out again
        offsets = committed_by_partition(kafka_bootstrap, group, kehadiran_topic)
        again = sum(1 for p, o in pen.rows('SELECT "partition", "offset" FROM processed_events WHERE topic = :t',
                                           t=kehadiran_topic) if o >= offsets.get(p, 0))
        kills.append((done, again))
        assert done < backlog, f"the backlog ran out before kill {len(kills)}: {kills}"
    redelivered = sum(again for _, again in kills)

    stack.start_process("penilaian", "consumer")
    wait_for_expected_scores(stack, plan, 120)
    ledger = ingest_ledger(plan, keh, pen)
    record(fault_report, request, f"penilaian consumer SIGKILLed x{KILLS} mid-batch", ledger, duplicates=redelivered,
           note=f"backlog of {backlog} kehadiran events; (ids recorded, of them past the committed offsets) at each kill: "
                f"{kills}; dups = events applied before a kill and handed out again after it (a kill inside "
                "penilaian's batch transaction rolls it back whole and leaves none)")
    wait_until(lambda: committed(kafka_bootstrap, group, kehadiran_topic) == backlog, 30,
               message="penilaian has consumed the whole backlog")
    assert_clean(ledger)
    keh.close()
    pen.close()
