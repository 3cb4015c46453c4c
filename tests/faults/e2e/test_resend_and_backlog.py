"""Three terminals come back online with three days of punches each and push them all at once,
out of order (shuffled across days and people, the three uploading in parallel), and every batch
is sent three times (a device that did not see its ``OK`` re-sends). Each punch is stored once,
and the scores are the clean replay's.

The same backlog with one ASN's arrival on one terminal and departure on another, both pushed at
the same moment: ``test_one_asn_on_two_terminals_at_once`` (kehadiran serialises one ASN-day's recompute)."""
from __future__ import annotations

import random

import pytest

from kinerja.testing import create_postgres_database

from .harness import (Db, Plan, assert_clean, ingest_ledger, load_roster, make_plan, post_adms, record, register_devices,
                      run_threads, wait_for_expected_scores, wait_outbox_drained)

pytestmark = pytest.mark.slow
COPIES = 3
BATCH = 15


def test_three_days_of_backlog_out_of_order_every_batch_sent_three_times(kafka_bootstrap, topic_prefix,
                                                                         postgres_server, make_stack, fault_report,
                                                                         request):
    urls = {"kehadiran": create_postgres_database(postgres_server), "penilaian": create_postgres_database(postgres_server)}
    stack = make_stack(kafka_bootstrap, topic_prefix, urls)
    keh, pen = Db(urls["kehadiran"]), Db(urls["penilaian"])
    plan = make_plan("faults-backlog", 5, staff=30, devices=3, days=3, seed=5)
    register_devices(stack, plan)
    load_roster(stack, plan, keh)
    answers, lines_sent = push_backlog(stack, plan, seed=5)
    wait_for_expected_scores(stack, plan, 120)
    wait_outbox_drained(keh, 30)
    ledger = ingest_ledger(plan, keh, pen)
    record(fault_report, request, f"3-day backlog out of order, each batch x{COPIES}", ledger,
           duplicates=lines_sent - len(plan.punches),
           note=f"{lines_sent} ADMS lines in {len(answers)} uploads from {len(plan.devices)} devices in parallel "
                f"for {len(plan.punches)} punches over {len(plan.days)} days; dups = re-sent lines")
    assert [a for a in answers if a[1] != 200] == []
    assert_clean(ledger)
    keh.close()
    pen.close()


def push_backlog(stack, plan: Plan, *, seed: int, resend_on_error: bool = False) -> tuple[list, int]:
    """Each device's lines shuffled into batches, each batch sent COPIES times in shuffled order,
    the devices in parallel. Returns the (device, status, body) answers and the lines sent."""
    rng = random.Random(seed)
    sends: dict[str, list[list[str]]] = {}
    for sn in plan.devices:
        lines = [p.adms_line() for p in plan.punches if p.device == sn]
        rng.shuffle(lines)  # newest and oldest days mixed, departures before arrivals
        batches = [lines[i:i + BATCH] for i in range(0, len(lines), BATCH)]
        order = [b for b in batches for _ in range(COPIES)]
        rng.shuffle(order)  # the copies of a batch come at different times, some before the next batch
        sends[sn] = order
    answers: list[tuple[str, int, str]] = []

    def device(sn: str):
        def run():
            for lines in sends[sn]:
                for _ in range(5 if resend_on_error else 1):  # a terminal re-sends what was not OK
                    r = post_adms(stack, sn, lines)
                    answers.append((sn, r.status_code, r.text[:300]))
                    if r.status_code == 200:
                        break
                assert r.status_code == 200 and r.text == f"OK:{len(lines)}", (sn, r.status_code, r.text)
        return run

    run_threads([device(sn) for sn in plan.devices])
    return answers, sum(len(b) for order in sends.values() for b in order)


def test_one_asn_on_two_terminals_at_once(kafka_bootstrap, topic_prefix, postgres_server, make_stack,
                                          fault_report, request):
    """Arrival on terminal A, departure on terminal B (two gates), three days of backlog pushed by
    both at once, re-sent until OK as terminals do: no 500, and the clean replay's scores."""
    urls = {"kehadiran": create_postgres_database(postgres_server), "penilaian": create_postgres_database(postgres_server)}
    stack = make_stack(kafka_bootstrap, topic_prefix, urls)
    keh, pen = Db(urls["kehadiran"]), Db(urls["penilaian"])
    plan = make_plan("faults-gates", 7, staff=30, devices=3, days=3, seed=7, out_on_other_device=True)
    register_devices(stack, plan)
    load_roster(stack, plan, keh)
    answers, lines_sent = push_backlog(stack, plan, seed=7, resend_on_error=True)
    errors = [a for a in answers if a[1] != 200]
    try:
        wait_for_expected_scores(stack, plan, 30)
        mismatches = []
    except AssertionError as exc:
        mismatches = [str(exc)[:600]]
    wait_outbox_drained(keh, 30)
    ledger = ingest_ledger(plan, keh, pen)
    record(fault_report, request, "same ASN on 2 terminals at once", ledger,
           duplicates=lines_sent - len(plan.punches),
           note=f"{len(errors)} of {len(answers)} uploads answered {sorted({a[1] for a in errors})} "
                f"(re-sent until OK); scores {'differ: ' + mismatches[0][:200] if mismatches else 'match'}")
    assert errors == [], f"{len(errors)} uploads failed, e.g. {errors[:2]}"
    assert mismatches == []
    assert_clean(ledger)
    keh.close()
    pen.close()
