"""penilaian's consumer as ``penilaian-consumer`` runs it (``live_consumer``), on the real broker,
SQLite and PostgreSQL: how a poll is cut into transactions (``kinerja.messaging.consumer.
transactions``). A score is out when its transaction commits, and a transaction's time is the ASN
it recomputes: caught up, the first transaction holds ``FIRST_KEYS_PER_TRANSACTION`` ASN and each
next twice as many, so the first scores do not wait for the whole poll; behind (a full poll), PostgreSQL takes the poll in
one transaction (throughput) and SQLite at most ``SQLITE_KEYS_PER_TRANSACTION`` ASN (each holds
the file's one write lock, which penilaian's relay and API wait for). Every event is applied once,
its id recorded in the transaction that applied it, each ASN's events in their order; offsets are
committed only after the last transaction of a poll, so a SIGKILL between two loses nothing and
doubles nothing."""
import os
import signal
import subprocess
import sys
import threading
from datetime import date, timedelta

import pytest
from sqlalchemy import func, select

from kinerja.messaging.topics import KEHADIRAN, topic
from kinerja.testing import wait_until
from kinerja_testkit.penilaian import day_event, make_penilaian, publish
from penilaian.entrypoints.consumer import FIRST_KEYS_PER_TRANSACTION, SQLITE_KEYS_PER_TRANSACTION, live_consumer

pytestmark = [pytest.mark.integration, pytest.mark.slow]

SHAPE_ENV = ("PENILAIAN_KEYS_PER_TRANSACTION", "PENILAIAN_FIRST_KEYS_PER_TRANSACTION", "PENILAIAN_APPLY_BATCH")


def nip(asn: int) -> str:
    return f"199501012020011{asn:03d}"


def backlog(asns: int, days: int) -> list:
    return [day_event(nip(asn), date(2026, 11, 2) + timedelta(days=d), ("TL1", "0.5"))
            for d in range(days) for asn in range(asns)]


@pytest.fixture
def penilaian_on_broker(database_url, kafka_bootstrap, topic_prefix, monkeypatch):
    for name in SHAPE_ENV:
        monkeypatch.delenv(name, raising=False)
    p = make_penilaian(database_url, kafka_bootstrap=kafka_bootstrap, topic_prefix=topic_prefix)
    yield p
    p.runtime.dispose()


def processed(p) -> int:
    with p.runtime.session() as s:
        return s.execute(select(func.count()).select_from(p.runtime.processed_table)).scalar_one()


def run_until_applied(p, expected: int) -> tuple[object, list[list]]:
    """``live_consumer`` in a thread until ``expected`` events are recorded; the consumer and the
    events (subject, id) of each transaction, in order."""
    consumer = live_consumer(p.runtime)
    transactions: list[list] = []
    apply = consumer.apply_batch

    def noted(session, events):
        transactions.append([(e.subject, e.id) for e in events])
        return apply(session, events)

    consumer.apply_batch = noted
    stop = threading.Event()
    thread = threading.Thread(target=consumer.run, args=(stop,), daemon=True)
    thread.start()
    try:
        wait_until(lambda: processed(p) >= expected, timeout_s=120, message="the backlog applied")
    finally:
        stop.set()
        thread.join(timeout=60)
    assert not thread.is_alive()
    return consumer, transactions


def assert_each_once_in_order(transactions: list[list], events: list) -> None:
    applied = [pair for t in transactions for pair in t]
    assert sorted(i for _, i in applied) == sorted(e.id for e in events)
    for asn in {e.subject for e in events}:
        assert [i for s, i in applied if s == asn] == [e.id for e in events if e.subject == asn]


def test_caught_up_a_poll_goes_in_transactions_of_a_few_asn_then_twice_as_many(penilaian_on_broker,
                                                                              kafka_bootstrap, topic_prefix):
    p = penilaian_on_broker
    first = FIRST_KEYS_PER_TRANSACTION
    events = backlog(3 * first, 2)  # fewer than a poll asks for (1,000): the consumer is caught up
    publish(kafka_bootstrap, topic_prefix, [(KEHADIRAN, e) for e in events])
    consumer, transactions = run_until_applied(p, len(events))

    asn = [len({s for s, _ in t}) for t in transactions]
    # before, on PostgreSQL: the first transaction took the whole poll (here up to 60 ASN)
    assert asn[0] <= first, asn
    for before, now in zip(asn, asn[1:]):
        assert now <= first or now <= 2 * before, asn  # a new poll starts again at ``first``
    assert max(asn) <= (SQLITE_KEYS_PER_TRANSACTION if p.runtime.engine.dialect.name == "sqlite" else 2 * first)
    assert_each_once_in_order(transactions, events)
    assert processed(p) == len(events)
    assert consumer.stats.duplicates == 0 and consumer.fallbacks == 0


def test_behind_a_full_poll_goes_in_one_transaction_on_postgresql_in_a_few_asn_on_sqlite(
        penilaian_on_broker, kafka_bootstrap, topic_prefix, monkeypatch):
    p = penilaian_on_broker
    monkeypatch.setenv("PENILAIAN_APPLY_BATCH", "40")
    events = backlog(30, 8)  # 240 events, polls of 40: full, the consumer is behind
    publish(kafka_bootstrap, topic_prefix, [(KEHADIRAN, e) for e in events])
    consumer, transactions = run_until_applied(p, len(events))

    asn = [len({s for s, _ in t}) for t in transactions]
    if p.runtime.engine.dialect.name == "sqlite":
        assert max(asn) <= SQLITE_KEYS_PER_TRANSACTION, asn
        assert max(asn) > 1, asn  # no ramp from one ASN when behind
    else:
        assert max(len(t) for t in transactions) == 40, [len(t) for t in transactions]
    assert_each_once_in_order(transactions, events)
    assert processed(p) == len(events)
    assert consumer.stats.duplicates == 0 and consumer.fallbacks == 0


# penilaian-consumer (a poll cut from one ASN up) with a SIGKILL right after its third transaction
# committed, before the loop committed the poll's offsets
KILLED_AFTER_THIRD_COMMIT = """
import os, signal, threading
from sqlalchemy import event
from penilaian.entrypoints.consumer import live_consumer
from penilaian.entrypoints.runtime import make_runtime

consumer = live_consumer(make_runtime())
apply, commits = consumer.apply_batch, []

def noted(session, events):
    apply(session, events)
    event.listen(session, "after_commit", lambda s: commits.append(1) or (
        len(commits) == 3 and os.kill(os.getpid(), signal.SIGKILL)), once=True)

consumer.apply_batch = noted
consumer.run(threading.Event())
"""


def committed_offsets(bootstrap: str, group: str, topic_name: str) -> dict[int, int]:
    from kafka import KafkaAdminClient

    admin = KafkaAdminClient(bootstrap_servers=bootstrap, client_id="live-batches-offsets")
    try:
        offsets = admin.list_group_offsets(group).get(group, {})
    finally:
        admin.close()
    return {tp.partition: o.offset for tp, o in offsets.items() if tp.topic == topic_name and o.offset >= 0}


def test_sigkill_between_two_transactions_of_a_poll_loses_nothing_and_doubles_nothing(
        penilaian_on_broker, database_url, kafka_bootstrap, topic_prefix, tmp_path):
    p = penilaian_on_broker
    events = backlog(40, 3)
    publish(kafka_bootstrap, topic_prefix, [(KEHADIRAN, e) for e in events])
    env = {**os.environ, "PENILAIAN_DATABASE_URL": database_url, "KINERJA_KAFKA_BOOTSTRAP": kafka_bootstrap,
           "KINERJA_TOPIC_PREFIX": topic_prefix, "PENILAIAN_FIRST_KEYS_PER_TRANSACTION": "1"}
    with open(tmp_path / "consumer.log", "wb") as log:
        child = subprocess.run([sys.executable, "-c", KILLED_AFTER_THIRD_COMMIT], env=env, stdout=log,
                               stderr=subprocess.STDOUT, timeout=120)
    assert child.returncode == -signal.SIGKILL, (tmp_path / "consumer.log").read_text()[-3000:]

    # offsets never ahead of the database: every message below a committed offset is recorded
    t = p.runtime.processed_table
    with p.runtime.session() as s:
        recorded = {(r.partition, r.offset): r.event_id for r in s.execute(select(t.c.event_id, t.c.partition, t.c.offset))}
    group = topic(p.runtime.settings.consumer_group, topic_prefix)
    offsets = committed_offsets(kafka_bootstrap, group, topic(KEHADIRAN, topic_prefix))
    assert all((part, o) in recorded for part, below in offsets.items() for o in range(below)), (offsets, len(recorded))
    assert 0 < len(recorded) < len(events)
    again = [key for key in recorded if key[1] >= offsets.get(key[0], 0)]
    assert again, "the kill came after the offsets were committed: nothing was at stake"

    consumer, transactions = run_until_applied(p, len(events))
    applied_now = {i for t_ in transactions for _, i in t_}
    # nothing lost: every event recorded once; nothing doubled: none of those recorded before the
    # kill was applied again (the ones handed out again were dropped as duplicates)
    with p.runtime.session() as s:
        ids = list(s.execute(select(t.c.event_id)).scalars())
    assert len(ids) == len(set(ids)) and set(ids) == {e.id for e in events}
    assert applied_now.isdisjoint(recorded.values())
    assert len(applied_now) == len(events) - len(recorded)
    assert consumer.stats.duplicates >= len(again)  # more only if a rebalance handed some out twice
