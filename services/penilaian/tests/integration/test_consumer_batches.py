"""The batched consumer path without a broker: a poll's messages in one transaction, duplicates
dropped by id, undecodable ones dead-lettered, and a batch that fails falls back to message by
message so the good ones are applied and only the bad one goes to the DLQ (SQLite and PostgreSQL)."""
import threading
from datetime import date

import pytest
from sqlalchemy import select

import penilaian.entrypoints.consumer as consumer_mod
from penilaian.entrypoints.consumer import make_consumer
from kinerja.testing import RecordingProducer, consumer_record
from kinerja_testkit.penilaian import PEG1, PEG2, day_event, make_penilaian, roster_event

pytestmark = pytest.mark.integration




def msg(event_or_raw, offset, topic="t.kehadiran.v1"):
    return consumer_record(event_or_raw, offset, topic)


def test_a_batch_applies_once_and_a_failing_batch_falls_back(database_url, monkeypatch):
    p = make_penilaian(database_url)
    dlq = RecordingProducer()
    c = make_consumer(p.runtime, batch_size=100)
    c.producer_factory = lambda: dlq
    stop = threading.Event()
    good = [roster_event(PEG1, "Satu"), day_event(PEG1, date(2026, 11, 3), ("TK", "4")),
            day_event(PEG2, date(2026, 11, 4), ("TL1", "0.5"))]
    batch = [msg(e, i) for i, e in enumerate(good)] + [msg(good[1], 3), msg(b"not json", 4)]
    assert c.process_batch(batch, stop)
    assert (c.stats.applied, c.stats.duplicates, c.stats.dead_lettered, c.batches) == (3, 1, 1, 1)
    assert p.score(PEG1, "2026-11").disiplin == 96 and p.score(PEG2, "2026-11").disiplin == 99.5
    assert [t for t, _, _ in dlq.sent] == ["t.kehadiran.v1.dlq"]

    # the same poll again (a redelivery): nothing applied twice
    assert c.process_batch(batch, stop) and c.stats.applied == 3 and c.stats.duplicates == 1 + 4
    assert c.stats.dead_lettered == 2  # the undecodable one again: the DLQ has it twice, as the shared consumer would

    # a poison event the handler cannot apply: the batch fails, its messages go one by one
    poison = day_event(PEG1, date(2026, 11, 5), ("TL2", "1"))
    fine = day_event(PEG2, date(2026, 11, 5), ("TL2", "1"))
    real_apply_batch, real_apply_event = consumer_mod.apply_batch, consumer_mod.apply_event

    def breaks(events):
        if any(e.id == poison.id for e in events):
            raise RuntimeError("poison")

    monkeypatch.setattr(consumer_mod, "apply_batch", lambda s, o, evs, **kw: (breaks(evs), real_apply_batch(s, o, evs, **kw))[1])
    monkeypatch.setattr(consumer_mod, "apply_event", lambda s, o, ev, **kw: (breaks([ev]), real_apply_event(s, o, ev, **kw))[1])
    assert c.process_batch([msg(poison, 10), msg(fine, 11)], stop)
    assert c.fallbacks == 1 and c.stats.applied == 4 and c.stats.dead_lettered == 3
    assert p.score(PEG2, "2026-11").disiplin == 98.5 and p.score(PEG1, "2026-11").disiplin == 96
    assert b"handler error" in dlq.sent[-1][2]["error"]
    with p.runtime.session() as s:
        ids = set(s.execute(select(p.runtime.processed_table.c.event_id)).scalars())
    assert fine.id in ids and poison.id not in ids and len(ids) == 4
    p.runtime.dispose()


def test_a_batch_counts_applied_events_by_type_like_the_shared_consumer(sqlite_url):
    from kinerja import metrics

    p = make_penilaian(sqlite_url)
    c = make_consumer(p.runtime, batch_size=100, group_id="g-metrics")
    before = metrics.EVENTS_APPLIED.labels("g-metrics", "t.kehadiran.v1", "kehadiran.day.summarized.v1")._value.get()
    events = [day_event(PEG1, date(2026, 11, d)) for d in (3, 4)]
    assert c.process_batch([msg(e, i) for i, e in enumerate(events)], threading.Event())
    after = metrics.EVENTS_APPLIED.labels("g-metrics", "t.kehadiran.v1", "kehadiran.day.summarized.v1")._value.get()
    assert after - before == 2
    p.runtime.dispose()
