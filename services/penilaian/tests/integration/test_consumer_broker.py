"""Through the real broker: events on ``pegawai.v1``, ``kehadiran.v1`` and ``tugas.v1`` become a
score; a restarted consumer given the same events again counts nothing twice; punches and
penilaian's own score updates are passed over from their bytes, never decoded nor recorded."""
from datetime import date, datetime, timezone
from decimal import Decimal as D

import pytest
from sqlalchemy import func, select

from kinerja.events import make_event
from kinerja.events.kehadiran import PUNCH_RECORDED
from kinerja.events.penilaian import SCORE_UPDATED
from kinerja.events.tugas import TASK_APPROVED
from kinerja.messaging.producer import make_producer
from kinerja.messaging.topics import KEHADIRAN, PEGAWAI, PENILAIAN, TUGAS, topic
from kinerja.testing import wait_until
from penilaian.adapters.orm import Employee
from kinerja_testkit.penilaian import ATASAN, PEG1, RunningConsumer, at, day_event, make_penilaian, roster_event, task_event

pytestmark = [pytest.mark.integration, pytest.mark.slow]


def test_events_through_the_broker_score_once_even_when_delivered_twice(database_url, kafka_bootstrap,
                                                                        topic_prefix):
    p = make_penilaian(database_url, kafka_bootstrap=kafka_bootstrap, topic_prefix=topic_prefix)
    due = date(2026, 11, 10)
    sent = [
        (PEGAWAI, roster_event(PEG1, "Pegawai Satu")),
        (KEHADIRAN, day_event(PEG1, date(2026, 11, 3), ("TL2", "1"), punch_ids=("punch-1",))),
        (KEHADIRAN, day_event(PEG1, date(2026, 11, 4), ("TK", "4"))),
        (TUGAS, task_event(TASK_APPROVED, PEG1, "t-1", "approved", due, at=at(due), realised="10", quality=70,
                           submitted_at=at(due), approved_at=at(due))),
    ]
    # what penilaian keeps nothing of, beside them on the same topics
    passed_over = [
        (KEHADIRAN, make_event(PUNCH_RECORDED, subject=PEG1, agency="lamsel", source="test", data={
            "punch_id": "punch-1", "nip": PEG1, "device_sn": "SN1", "time": datetime(2026, 11, 3, 1, tzinfo=timezone.utc)})),
        (PENILAIAN, make_event(SCORE_UPDATED, subject=PEG1, agency="lamsel", source="test", data={
            "nip": PEG1, "period": "2026-11", "predikat": "Baik", "total": 80.5})),
    ]
    producer = make_producer(kafka_bootstrap, client_id="penilaian-test")

    def publish(events):
        for name, event in events:
            producer.send(topic(name, topic_prefix), key=event.key, value=event.to_bytes())
        producer.flush(timeout=30)

    def november():
        row = p.score(PEG1, "2026-11")
        return row if row is not None and row.disiplin == D("95.00") and row.produktivitas is not None else None

    def processed() -> int:
        with p.runtime.session() as s:
            return s.execute(select(func.count()).select_from(p.runtime.processed_table)).scalar_one()

    def known(nip):
        with p.runtime.session() as s:
            return s.get(Employee, nip) is not None

    first = RunningConsumer(p.runtime)
    try:
        # the roster first (topics are not ordered with each other), so score events name the atasan
        publish(sent[:1])
        wait_until(lambda: known(PEG1), timeout_s=60, message="the roster")
        publish(sent[1:] + passed_over)
        row = wait_until(november, timeout_s=60, message="the November score")
        wait_until(lambda: first.consumer.skipped == len(passed_over), timeout_s=60, message="the skipped types")
    finally:
        first.close()
    # task (100 + 70 + 100) / 3 = 90; perilaku 95; total 0.6 × 90 + 0.4 × 95 = 92
    assert (row.produktivitas, row.perilaku, row.total, row.predikat) == (D("90.00"), D("95.00"), D("92.00"),
                                                                          "Sangat Baik")
    before_scores, before_outbox = p.scores(), len(p.outbox())
    assert processed() == len(sent) and first.consumer.stats.applied == len(sent)
    assert sorted(first.decoded) == sorted(e.type for _, e in sent), "only kept types went through the schema"
    assert p.outbox()[-1]["data"]["atasan_nip"] == ATASAN

    second = RunningConsumer(p.runtime)  # same group: resumes after the committed offsets
    try:
        publish(sent)  # the same events again, as a re-sending producer or a replay would
        wait_until(lambda: second.consumer.stats.duplicates >= len(sent), timeout_s=60,
                   message="the duplicates to reach the new consumer")
    finally:
        second.close()
    assert second.consumer.stats.applied == 0
    assert p.scores() == before_scores and len(p.outbox()) == before_outbox and processed() == len(sent)

    # a consumer killed after its transactions committed but before its offsets did gets everything
    # again: a group with no committed offsets replays the whole topics into the same database
    third = RunningConsumer(p.runtime, group_id=f"{topic_prefix}.penilaian-lost-offsets")
    try:
        wait_until(lambda: third.consumer.stats.duplicates >= 2 * len(sent), timeout_s=60,
                   message="the replay to reach the new group")
    finally:
        third.close()
    assert third.consumer.stats.applied == 0
    assert p.scores() == before_scores and len(p.outbox()) == before_outbox and processed() == len(sent)
    p.runtime.dispose()


def test_the_relay_publishes_score_updates_that_decode_with_the_shared_schema(sqlite_url, kafka_bootstrap,
                                                                              topic_prefix):
    from kafka import KafkaConsumer

    from kinerja.events import decode_event
    from kinerja.events.penilaian import SCORE_UPDATED
    from kinerja.messaging.topics import PENILAIAN

    p = make_penilaian(sqlite_url, kafka_bootstrap=kafka_bootstrap, topic_prefix=topic_prefix)
    p.apply(roster_event(PEG1, "Pegawai Satu"), day_event(PEG1, date(2026, 11, 3), ("TL1", "0.5")))
    relay = p.runtime.relay()
    assert relay.publish_batch() == 4  # the roster's word on the agency; month, quarter, year
    consumer = KafkaConsumer(topic(PENILAIAN, topic_prefix), bootstrap_servers=kafka_bootstrap,
                             auto_offset_reset="earliest", enable_auto_commit=False, consumer_timeout_ms=200)
    got = []
    try:
        def three():
            got.extend(e for e in (decode_event(m.value) for m in consumer) if e.type == SCORE_UPDATED)
            return len(got) >= 3

        wait_until(three, timeout_s=60, message="three score updates on penilaian.v1")
    finally:
        consumer.close()
        relay._drop_producer()
        p.runtime.dispose()
    assert {e.data["period"] for e in got} == {"2026-11", "2026-Q4", "2026"}
    assert all(e.type == SCORE_UPDATED and e.subject == PEG1 and e.data["disiplin"] == 99.5
               and e.data["atasan_nip"] == ATASAN for e in got)
