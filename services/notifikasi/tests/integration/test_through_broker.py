"""Through the real broker: roster and score events published to Kafka, notifikasi's consumer in a
thread writes the inbox, and the notification arrives on the ASN's SSE stream; what it keeps
nothing of is passed over from its bytes."""
import threading
from datetime import datetime, timezone
from decimal import Decimal

import pytest

from kinerja.config import load_settings
from kinerja.events import make_event
from kinerja.events.kehadiran import DAY_SUMMARIZED, DISCIPLINE_ALERT, PUNCH_RECORDED
from kinerja.events.pegawai import EMPLOYEE_UPSERTED
from kinerja.messaging.producer import make_producer
from kinerja.messaging.topics import KEHADIRAN, PEGAWAI, PENILAIAN, topic
from kinerja.testing import wait_until
from notifikasi.entrypoints.consumer import TOPICS, handle, make_consumer
from notifikasi.entrypoints.runtime import make_runtime
from kinerja_testkit.notifikasi import ASN, ATASAN, SseClient, roster_event, score_event, token

pytestmark = pytest.mark.integration


@pytest.mark.parametrize("batch_size", [1, 200], ids=["one-by-one", "batched"])
def test_score_update_from_kafka_reaches_the_stream(server, migrated, kafka_bootstrap, topic_prefix, batch_size):
    runtime = make_runtime(load_settings("notifikasi", {
        "database_url": migrated, "kafka_bootstrap": kafka_bootstrap, "topic_prefix": topic_prefix}))
    # the process's consumer (make_consumer, batched), and the shared one message by message
    consumer = make_consumer(runtime, batch_size=batch_size) if batch_size > 1 else runtime.consumer(TOPICS, handle)
    stop = threading.Event()
    thread = threading.Thread(target=consumer.run, args=(stop,), name="notifikasi-consumer", daemon=True)
    thread.start()
    producer = make_producer(kafka_bootstrap, client_id="notifikasi-test")
    try:
        with SseClient(server.url + "/api/v1/stream", token=token(ASN)) as mine, \
                SseClient(server.url + "/api/v1/stream", token=token(ATASAN, role="atasan")) as boss:
            for ev in (roster_event(ATASAN, "Ir. Budi Santoso"), roster_event(ASN, "Siti Aminah", atasan_nip=ATASAN)):
                producer.send(topic(PEGAWAI, topic_prefix), key=ev.key, value=ev.to_bytes()).get(timeout=30)
            # the supervisor is known only from the roster (the score event names none)
            wait_until(lambda: consumer.stats.by_type.get("pegawai.employee.upserted.v1") == 2, 60,
                       message="roster applied")
            punch = make_event(PUNCH_RECORDED, subject=ASN, agency="lamsel", source="test",
                               data={"punch_id": "p1", "nip": ASN, "device_sn": "SN1",
                                     "time": datetime.now(timezone.utc)})
            producer.send(topic(KEHADIRAN, topic_prefix), key=punch.key, value=punch.to_bytes()).get(timeout=30)
            score = score_event(ASN, total=97.5, predikat="Baik")
            producer.send(topic(PENILAIAN, topic_prefix), key=score.key, value=score.to_bytes()).get(timeout=30)

            got = mine.next_event(timeout_s=60)
            assert got["event"] == "score.updated" and got["data"]["event_id"] == score.id
            assert got["data"]["body"].startswith("Skor kinerja Anda berubah: 97.5 (Baik)")
            team = boss.next_event(timeout_s=30)
            assert team["data"]["body"].startswith("Skor kinerja Siti Aminah berubah: 97.5 (Baik)")
            # the punch (another topic, so in no particular order) is skipped without a transaction
            wait_until(lambda: consumer.skipped == 1, 30, message="punch skipped")
            assert consumer.stats.dead_lettered == 0 and consumer.stats.fallbacks == 0
            assert (consumer.stats.batches > 0) == (batch_size > 1)
    finally:
        stop.set()
        thread.join(30)
        producer.close(timeout=5)
        runtime.dispose()
    assert not thread.is_alive()


def test_what_notifikasi_keeps_nothing_of_is_passed_over_from_its_bytes(server, migrated, kafka_bootstrap,
                                                                         topic_prefix):
    """Through the broker, as the relay's bytes arrive: on ``kehadiran.v1`` the punch and the day
    summary never reach the schema, the discipline alert beside them (a wanted type on the same
    topic) reaches the stream, and bytes that are no event are dead-lettered, not skipped."""
    runtime = make_runtime(load_settings("notifikasi", {
        "database_url": migrated, "kafka_bootstrap": kafka_bootstrap, "topic_prefix": topic_prefix}))
    consumer = make_consumer(runtime, batch_size=200)
    decoded: list[str] = []
    real_decode = consumer.decode

    def recording_decode(raw):
        event = real_decode(raw)  # raises InvalidEvent for the broken bytes, as before
        decoded.append(event.type)
        return event

    consumer.decode = recording_decode
    stop = threading.Event()
    thread = threading.Thread(target=consumer.run, args=(stop,), name="notifikasi-consumer", daemon=True)
    thread.start()
    producer = make_producer(kafka_bootstrap, client_id="notifikasi-test")
    at = datetime.now(timezone.utc)
    punch = make_event(PUNCH_RECORDED, subject=ASN, agency="lamsel", source="test",
                       data={"punch_id": "p1", "nip": ASN, "device_sn": "SN1", "time": at})
    day = make_event(DAY_SUMMARIZED, subject=ASN, agency="lamsel", source="test", data={
        "nip": ASN, "date": at.date(), "version": 1, "final": True, "workday": True,
        "deductions": [{"code": "TL2", "percent": Decimal("1"), "minutes": 40}], "punch_event_ids": ["p1"]})
    alert = make_event(DISCIPLINE_ALERT, subject=ASN, agency="lamsel", source="test", data={
        "nip": ASN, "year": at.year, "kind": "cumulative", "days": 3, "threshold": 3, "date": at.date()})
    try:
        with SseClient(server.url + "/api/v1/stream", token=token(ASN)) as mine:
            roster = roster_event(ASN, "Siti Aminah")
            producer.send(topic(PEGAWAI, topic_prefix), key=roster.key, value=roster.to_bytes()).get(timeout=30)
            wait_until(lambda: consumer.stats.applied == 1, 60, message="roster applied")
            for raw in (punch.to_bytes(), day.to_bytes(), b'{"type": "kehadiran.punch.recorded.v1"', alert.to_bytes()):
                producer.send(topic(KEHADIRAN, topic_prefix), key=ASN.encode(), value=raw).get(timeout=30)
            got = mine.next_event(timeout_s=60)
            assert got["event"] == "discipline.alert" and got["data"]["event_id"] == alert.id
            wait_until(lambda: consumer.stats.dead_lettered == 1, 30, message="the broken bytes dead-lettered")
        assert consumer.skipped == 2 and consumer.stats.applied == 2
        assert decoded == [EMPLOYEE_UPSERTED, DISCIPLINE_ALERT], "only kept types went through the schema"
    finally:
        stop.set()
        thread.join(30)
        producer.close(timeout=5)
        runtime.dispose()
    assert not thread.is_alive()
