"""penilaian's consumer killed with SIGKILL in the middle of a batch, three times, while it works
through a backlog of several hundred punch events: each kill leaves events applied whose offsets
were never committed, the restarted consumer is handed them again, and they are no-ops. The scores
at the end are the clean replay's."""
from __future__ import annotations

import signal

import pytest

from kinerja.testing import wait_until

from .harness import assert_clean, ingest_ledger, record, wait_for_expected_scores
from .penilaian_backlog import committed_by_partition, penilaian_backlog

pytestmark = pytest.mark.slow
KILLS = 3


def committed(bootstrap: str, group: str, topic_name: str) -> int:
    return sum(committed_by_partition(bootstrap, group, topic_name).values())


def test_penilaian_consumer_killed_mid_batch_several_times(kafka_bootstrap, topic_prefix, postgres_server,
                                                           make_stack, fault_report, request):
    # a backlog: the consumer is away while every punch comes in and the relay publishes it
    # batches of 200 (the consumer's default is larger): the backlog must outlast three kills
    setting = penilaian_backlog(kafka_bootstrap, topic_prefix, postgres_server, make_stack,
                                agency="faults-kill", agency_no=2, seed=2, extra_env={"PENILAIAN_APPLY_BATCH": "200"})
    stack, plan, keh, pen = setting.stack, setting.plan, setting.kehadiran, setting.penilaian
    kehadiran_topic, group, backlog, applied = (setting.kehadiran_topic, setting.group, setting.backlog,
                                                setting.applied)

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
        again = setting.applied_past_committed(kafka_bootstrap)
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
    setting.close()
