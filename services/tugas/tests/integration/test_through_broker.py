"""Through the real broker: the roster arrives on pegawai.v1 through the consumer, a task is
rescheduled, handed in with an evidence file and approved over HTTP, the relay publishes it, and
the events are read back from tugas.v1: the reschedule as ``tugas.task.rescheduled.v1`` with the
terms before it, the submission listing the file (name, size, SHA-256)."""
from __future__ import annotations

import hashlib
import io
import json
import threading
from datetime import timedelta

import pytest
from kafka import KafkaConsumer

from kinerja.messaging import topics
from kinerja.messaging.producer import make_producer
from kinerja.testing import wait_until
from kinerja.webapp import runtime_of
from .tugas_testkit import AGENCY, ATASAN, PEG1, ROSTER, Tugas, roster_event, today_wib
from tugas.entrypoints import consumer as consumer_entry
from tugas.entrypoints.app import create_app
from tugas.entrypoints.migrate import main as migrate

pytestmark = [pytest.mark.integration, pytest.mark.slow]


def test_roster_in_task_approved_out(database_url, kafka_bootstrap, topic_prefix, tmp_path):
    migrate(database_url)
    app = create_app({"database_url": database_url, "kafka_bootstrap": kafka_bootstrap, "topic_prefix": topic_prefix,
                      "evidence_dir": str(tmp_path / "evidence")})
    runtime = runtime_of(app)
    t = Tugas(app=app, client=app.test_client(), runtime=runtime)
    stop = threading.Event()
    producer = make_producer(kafka_bootstrap, client_id="test-roster")
    reader = KafkaConsumer(topics.topic(topics.TUGAS, topic_prefix), bootstrap_servers=kafka_bootstrap,
                           auto_offset_reset="earliest", enable_auto_commit=False, group_id=None,
                           consumer_timeout_ms=200)
    workers = [
        threading.Thread(target=runtime.relay().run, args=(stop,), daemon=True),
        threading.Thread(target=lambda: runtime.consumer([topics.PEGAWAI], consumer_entry.handle)
                         .run(stop, on_idle=consumer_entry.overdue_ticker(runtime)), daemon=True),
    ]
    try:
        for th in workers:
            th.start()
        for row in ROSTER:
            event = roster_event(*row)
            producer.send(topics.topic(topics.PEGAWAI, topic_prefix), key=event.key, value=event.to_bytes())
        producer.flush(timeout=30)
        wait_until(lambda: t.call("POST", "/api/v1/tasks", (ATASAN, "atasan"), {
            "nip": PEG1, "title": "Rekap layanan", "due_date": (today_wib() + timedelta(days=2)).isoformat(),
            "target_quantity": 10}).status_code == 201, timeout_s=60, message="the roster to arrive through pegawai.v1")
        task = t.call("GET", "/api/v1/tasks", (PEG1, "pegawai")).get_json()["items"][0]
        task_id = task["id"]
        new_due = today_wib() + timedelta(days=9)
        assert t.call("PATCH", f"/api/v1/tasks/{task_id}", (ATASAN, "atasan"),
                      {"due_date": new_due.isoformat()}).status_code == 200
        assert t.call("POST", f"/api/v1/tasks/{task_id}/start", (PEG1, "pegawai"), {}).status_code == 200
        content = b"rekap layanan minggu ini\n" * 40
        upload = t.client.post(f"/api/v1/tasks/{task_id}/evidence", headers=t.headers(PEG1, "pegawai"),
                               data={"file": (io.BytesIO(content), "rekap.txt", "text/plain")},
                               content_type="multipart/form-data")
        assert upload.status_code == 201, upload.get_json()
        assert t.call("POST", f"/api/v1/tasks/{task_id}/submit", (PEG1, "pegawai"), {"note": "ok"}).status_code == 200
        resp = t.call("POST", f"/api/v1/tasks/{task_id}/approve", (ATASAN, "atasan"),
                      {"realised_quantity": 8, "quality": 88})
        assert resp.status_code == 200

        seen: list[dict] = []

        def approved_arrived():
            for msg in reader:
                seen.append({"key": msg.key.decode(), **json.loads(msg.value)})
            return [m for m in seen if m["type"] == "tugas.task.approved.v1"]

        approved = wait_until(approved_arrived, timeout_s=30, message="tugas.task.approved.v1 on tugas.v1")[0]
        assert approved["key"] == PEG1 and approved["subject"] == PEG1 and approved["agency"] == AGENCY
        assert approved["data"]["task_id"] == task_id and approved["data"]["quality"] == 88
        assert approved["data"]["realised_quantity"] in ("8", "8.00") and approved["data"]["atasan_nip"] == ATASAN
        mine = [m for m in seen if m["data"]["task_id"] == task_id]
        assert [m["type"] for m in mine] == [
            "tugas.task.assigned.v1", "tugas.task.rescheduled.v1", "tugas.task.submitted.v1", "tugas.task.approved.v1"]
        rescheduled, submitted = mine[1]["data"], mine[2]["data"]
        assert (rescheduled["previous_due_date"], rescheduled["due_date"]) == (task["due_date"], new_due.isoformat())
        assert rescheduled["status"] == "assigned" and rescheduled["rescheduled_by"] == ATASAN
        assert submitted["evidence"] == [{"evidence_id": upload.get_json()["id"], "name": "rekap.txt",
                                          "size": len(content), "sha256": hashlib.sha256(content).hexdigest(),
                                          "content_type": "text/plain"}]
        wait_until(lambda: runtime.relay().pending() == 0, timeout_s=10, message="outbox drained")
    finally:
        stop.set()
        for th in workers:
            th.join(timeout=30)
        reader.close()
        producer.close(timeout=5)
        runtime.dispose()
