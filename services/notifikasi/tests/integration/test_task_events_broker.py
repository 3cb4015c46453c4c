"""Through the real broker: ``tugas.task.rescheduled.v1`` tells the ASN what their supervisor
changed (on their stream and in their inbox), and a submission's evidence files reach the
supervisor's notice; neither goes to the dead-letter topic."""
import threading
from datetime import date
from decimal import Decimal

import pytest

from kinerja.config import load_settings
from kinerja.events import make_event
from kinerja.events.tugas import TASK_RESCHEDULED, TASK_SUBMITTED
from kinerja.messaging.producer import make_producer
from kinerja.messaging.topics import PEGAWAI, TUGAS, topic
from kinerja.testing import wait_until
from notifikasi.entrypoints.consumer import make_consumer
from notifikasi.entrypoints.runtime import make_runtime
from kinerja_testkit.notifikasi import AGENCY, ASN, ATASAN, SseClient, roster_event, token

pytestmark = [pytest.mark.integration, pytest.mark.slow]


def task_data(**kw):
    return {"task_id": "t-1", "nip": ASN, "atasan_nip": ATASAN, "title": "Rekap layanan", "status": "assigned",
            "due_date": date(2026, 12, 20), "target_quantity": Decimal("3"), **kw}


def test_a_reschedule_and_a_submission_with_evidence_reach_their_people(server, migrated, kafka_bootstrap,
                                                                         topic_prefix):
    runtime = make_runtime(load_settings("notifikasi", {
        "database_url": migrated, "kafka_bootstrap": kafka_bootstrap, "topic_prefix": topic_prefix}))
    consumer = make_consumer(runtime, batch_size=50)
    stop = threading.Event()
    thread = threading.Thread(target=consumer.run, args=(stop,), daemon=True)
    thread.start()
    producer = make_producer(kafka_bootstrap, client_id="notifikasi-test")
    moved = make_event(TASK_RESCHEDULED, subject=ASN, agency=AGENCY, source="test/tugas", data=task_data(
        previous_due_date=date(2026, 12, 5), previous_title="Rekap layanan", previous_target_quantity=Decimal("3"),
        rescheduled_by=ATASAN))
    files = [{"evidence_id": "e-1", "name": "rekap.xlsx", "size": 2048, "sha256": "ab" * 32,
              "content_type": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"}]
    submitted = make_event(TASK_SUBMITTED, subject=ASN, agency=AGENCY, source="test/tugas",
                           data=task_data(status="submitted", evidence=files))
    try:
        with SseClient(server.url + "/api/v1/stream", token=token(ASN)) as mine, \
                SseClient(server.url + "/api/v1/stream", token=token(ATASAN, role="atasan")) as boss:
            for ev in (roster_event(ATASAN, "Ir. Budi Santoso"), roster_event(ASN, "Siti Aminah", atasan_nip=ATASAN)):
                producer.send(topic(PEGAWAI, topic_prefix), key=ev.key, value=ev.to_bytes()).get(timeout=30)
            wait_until(lambda: consumer.stats.by_type.get("pegawai.employee.upserted.v1") == 2, 60,
                       message="roster applied")
            for ev in (moved, submitted):
                producer.send(topic(TUGAS, topic_prefix), key=ev.key, value=ev.to_bytes()).get(timeout=30)
            got = mine.next_event(timeout_s=60)
            assert got["event"] == "task.rescheduled" and got["data"]["event_id"] == moved.id
            assert got["data"]["title"] == "Jadwal tugas diubah"
            assert got["data"]["body"] == ("Atasan mengubah tugas Anda: Rekap layanan "
                                           "(tenggat 5 Desember 2026 → 20 Desember 2026).")
            notice = boss.next_event(timeout_s=60)
            assert notice["event"] == "task.submitted"
            assert notice["data"]["body"] == "Siti Aminah mengirim hasil tugas: Rekap layanan (1 berkas bukti). Mohon diperiksa."
            # the inbox keeps the event's data, the evidence listing included
            assert notice["data"]["payload"]["evidence"] == files
            assert consumer.stats.dead_lettered == 0
    finally:
        stop.set()
        thread.join(30)
        producer.close(timeout=5)
        runtime.dispose()
    assert not thread.is_alive()
