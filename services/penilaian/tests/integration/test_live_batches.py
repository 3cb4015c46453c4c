"""penilaian's consumer as ``penilaian-consumer`` runs it, on SQLite: a backlog is applied in
transactions of at most ``SQLITE_KEYS_PER_TRANSACTION`` keys (ASN). Each holds the file's one
write lock, which penilaian's relay and API wait for, for as long as it recomputes its ASN: a
poll of 1,000 events in one transaction held it for seconds. Every event is applied once, its id
recorded in the transaction that applied it."""
import threading
from datetime import date, timedelta

import pytest
from sqlalchemy import func, select

from kinerja.messaging.topics import KEHADIRAN
from kinerja.testing import wait_until
from kinerja_testkit.penilaian import day_event, make_penilaian, publish
from penilaian.entrypoints.consumer import SQLITE_KEYS_PER_TRANSACTION, key_chunks, live_consumer

pytestmark = pytest.mark.integration


class Msg:
    def __init__(self, key):
        self.key = key


def test_a_poll_is_grouped_by_key_a_few_keys_a_transaction():
    msgs = [Msg(k) for k in b"aabacbddcab"]
    chunks = key_chunks(msgs, 2)
    assert [bytes(m.key for m in c) for c in chunks] == [b"aaaabbb", b"ccdd"]
    # each key's messages in their order
    assert [m for c in chunks for m in c if m.key == ord("b")] == [m for m in msgs if m.key == ord("b")]


@pytest.mark.slow
def test_a_backlog_on_sqlite_is_applied_in_short_transactions(sqlite_url, kafka_bootstrap, topic_prefix,
                                                               monkeypatch):
    monkeypatch.delenv("PENILAIAN_KEYS_PER_TRANSACTION", raising=False)
    p = make_penilaian(sqlite_url, kafka_bootstrap=kafka_bootstrap, topic_prefix=topic_prefix)
    backlog = [day_event(f"199501012020011{asn:03d}", date(2026, 11, 2) + timedelta(days=d), ("TL1", "0.5"))
               for d in range(10) for asn in range(60)]
    publish(kafka_bootstrap, topic_prefix, [(KEHADIRAN, e) for e in backlog])  # all there before it starts

    consumer = live_consumer(p.runtime)
    asn_per_transaction: list[int] = []
    applied: list[str] = []
    apply = consumer.apply_batch

    def noted(session, events):
        asn_per_transaction.append(len({e.subject for e in events}))
        applied.extend(e.id for e in events)
        return apply(session, events)

    consumer.apply_batch = noted
    stop = threading.Event()
    thread = threading.Thread(target=consumer.run, args=(stop,), daemon=True)
    thread.start()

    def processed() -> int:
        with p.runtime.session() as s:
            return s.execute(select(func.count()).select_from(p.runtime.processed_table)).scalar_one()

    try:
        wait_until(lambda: processed() >= len(backlog), timeout_s=120, message="the backlog applied")
    finally:
        stop.set()
        thread.join(timeout=60)
    assert not thread.is_alive()
    # before: one transaction took a whole poll (up to 1,000 events, here all 60 ASN)
    assert max(asn_per_transaction) <= SQLITE_KEYS_PER_TRANSACTION, asn_per_transaction
    assert sorted(applied) == sorted(e.id for e in backlog) and processed() == len(backlog)
    assert consumer.stats.duplicates == 0 and consumer.fallbacks == 0
    p.runtime.dispose()
