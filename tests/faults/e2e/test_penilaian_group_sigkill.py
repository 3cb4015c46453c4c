"""Three penilaian consumers in one group work through a backlog of attendance from several hundred
punches, and one of them is SIGKILLed in the middle of a batch: its open transaction rolls back,
its partitions go to the other two, which are handed again what it applied past the committed
offsets (no-ops). The scores at the end are the clean replay's, nothing lost or counted twice, and
PostgreSQL saw no deadlock among the three (one lock order, ``penilaian.service_layer.locks``)."""
from __future__ import annotations

import signal

import pytest

from kinerja.testing import wait_until

from .harness import assert_clean, ingest_ledger, record, wait_for_expected_scores
from .penilaian_backlog import penilaian_backlog

pytestmark = pytest.mark.slow


def test_one_of_three_penilaian_consumers_killed_mid_batch(kafka_bootstrap, topic_prefix, postgres_server,
                                                           make_stack, fault_report, request):
    # a backlog while penilaian is away, then three consumers share it
    setting = penilaian_backlog(kafka_bootstrap, topic_prefix, postgres_server, make_stack,
                                agency="faults-group", agency_no=3, seed=3, extra_env={"PENILAIAN_APPLY_BATCH": "25"})
    stack, plan, keh, pen = setting.stack, setting.plan, setting.kehadiran, setting.penilaian
    kehadiran_topic, backlog, applied = setting.kehadiran_topic, setting.backlog, setting.applied

    for instance in (1, 2, 3):
        stack.start_process("penilaian", "consumer", instance)
    wait_until(lambda: applied() > backlog // 4, 120, interval_s=0.01, message="the group applying the backlog")
    stack.kill("penilaian-consumer-2", signal.SIGKILL)
    at_kill = applied()
    stack.procs = [p for p in stack.procs if p.name != "penilaian-consumer-2"]  # gone for good: not a crash to report
    # applied (id recorded) but at or past the group's committed offsets: handed out again after the kill
    again = setting.applied_past_committed(kafka_bootstrap)
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
    setting.close()
