"""The consumer's handler on SQLite and PostgreSQL: inbox rows for the ASN and their supervisor,
applied once, roster kept, kehadiran's punches ignored without a transaction."""
from datetime import date, datetime, timezone

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import func, select

from kinerja.events import make_event
from kinerja.events.kehadiran import DISCIPLINE_ALERT, DISCIPLINE_ALERT_WITHDRAWN, PUNCH_RECORDED
from kinerja.events.tugas import TASK_APPROVED, TASK_SUBMITTED
from notifikasi.adapters.orm import Employee, Notification, metadata
from notifikasi.entrypoints.consumer import TOPICS, handle
from notifikasi.service_layer.notifications import store, wants
from notifikasi.domain.messages import Draft
from kinerja_testkit.notifikasi import AGENCY, ASN, ATASAN, OTHER, score_event

pytestmark = pytest.mark.integration


def count(runtime, **where) -> int:
    with runtime.session() as session:
        q = select(func.count()).select_from(Notification)
        for k, v in where.items():
            q = q.where(getattr(Notification, k) == v)
        return session.execute(q).scalar_one()


def test_migrations_match_the_models(migrated, writer):
    with writer.runtime.engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), metadata)
    assert diff == []


def test_roster_then_score_update_notifies_asn_and_supervisor(writer):
    writer.roster()
    with writer.runtime.session() as session:
        assert session.get(Employee, ASN).atasan_nip == ATASAN
    rows = writer.apply(score_event())
    assert [(r["recipient_nip"], r["audience"], r["kind"]) for r in rows] == [
        (ASN, "asn", "score.updated"), (ATASAN, "atasan", "score.updated")]
    mine, boss = rows
    assert mine["body"] == "Skor kinerja Anda berubah: 97.5 (Baik). Perubahan: Disiplin 100 → 99.5."
    assert boss["body"].startswith("Skor kinerja Siti Aminah berubah: 97.5 (Baik).")
    assert mine["title"] == "Skor kinerja November 2026"
    assert mine["agency"] == AGENCY and mine["subject_nip"] == ASN
    assert mine["payload"]["total"] == 97.5 and mine["payload"]["predikat"] == "Baik"
    assert mine["event_type"] == "penilaian.score.updated.v1" and mine["read_at"] is None
    assert mine["id"] < boss["id"]
    assert datetime.fromisoformat(mine["created_at"]).tzinfo is not None


def test_an_event_is_applied_once(writer):
    writer.roster()
    consumer = writer.runtime.consumer(TOPICS, handle)
    event = score_event()
    assert consumer.apply_once(event, "penilaian.v1", 0, 10) is True
    assert consumer.apply_once(event, "penilaian.v1", 0, 10) is False
    assert count(writer.runtime, event_id=event.id) == 2
    # and the (event, recipient) constraint guards even a handler called again directly
    with writer.runtime.session() as session, session.begin():
        again = store(session, event, [Draft(ASN, "asn", "score.updated", "t", "b"),
                                       Draft(OTHER, "asn", "score.updated", "t", "b")], subject_nip=ASN)
    assert [r.recipient_nip for r in again] == [OTHER]
    assert count(writer.runtime, event_id=event.id) == 3


def test_team_task_events(writer):
    writer.roster()
    base = {"task_id": "t-1", "nip": ASN, "atasan_nip": ATASAN, "title": "Laporan realisasi anggaran",
            "due_date": date(2026, 12, 1), "target_quantity": "1"}
    submitted = make_event(TASK_SUBMITTED, subject=ASN, agency=AGENCY, source="test",
                           data={**base, "status": "submitted", "submitted_at": datetime.now(timezone.utc)})
    approved = make_event(TASK_APPROVED, subject=ASN, agency=AGENCY, source="test",
                          data={**base, "status": "approved", "realised_quantity": "1", "quality": 90})
    [sub] = writer.apply(submitted)
    assert (sub["recipient_nip"], sub["kind"]) == (ATASAN, "task.submitted")
    assert sub["body"] == "Siti Aminah mengirim hasil tugas: Laporan realisasi anggaran. Mohon diperiksa."
    [ok] = writer.apply(approved)
    assert (ok["recipient_nip"], ok["kind"]) == (ASN, "task.approved")
    assert ok["payload"]["quality"] == 90 and ok["payload"]["due_date"] == "2026-12-01"


def test_discipline_alert_and_ignored_kehadiran_events(writer):
    writer.roster()
    alert = make_event(DISCIPLINE_ALERT, subject=ASN, agency=AGENCY, source="test",
                       data={"nip": ASN, "year": 2026, "kind": "cumulative", "days": 3, "threshold": 3,
                             "date": date(2026, 11, 27)})
    assert [r["recipient_nip"] for r in writer.apply(alert)] == [ASN, ATASAN]
    punch = make_event(PUNCH_RECORDED, subject=ASN, agency=AGENCY, source="test",
                       data={"punch_id": "p1", "nip": ASN, "device_sn": "SN1", "time": datetime.now(timezone.utc)})
    assert not wants(punch.type) and wants(alert.type)
    consumer = writer.runtime.consumer(TOPICS, handle)
    assert consumer.apply_once(punch, "kehadiran.v1", 0, 1) is True
    with writer.runtime.session() as session:
        recorded = session.execute(select(writer.runtime.processed_table.c.event_id)).scalars().all()
    assert punch.id not in recorded  # skipped: no transaction, no processed_events row
    assert count(writer.runtime) == 2


def test_a_withdrawn_alert_is_told_to_the_asn_and_the_supervisor_once(writer):
    writer.roster()
    withdrawn = make_event(DISCIPLINE_ALERT_WITHDRAWN, subject=ASN, agency=AGENCY, source="test",
                           data={"nip": ASN, "year": 2026, "kind": "cumulative", "days": 2, "threshold": 3,
                                 "raised_on": date(2026, 11, 27), "date": date(2026, 12, 2)})
    assert wants(withdrawn.type)
    rows = writer.apply(withdrawn)
    assert [(r["recipient_nip"], r["kind"]) for r in rows] == [(ASN, "discipline.withdrawn"),
                                                               (ATASAN, "discipline.withdrawn")]
    assert rows[0]["payload"]["raised_on"] == "2026-11-27"
    assert writer.apply(withdrawn) == []  # once
    assert count(writer.runtime, kind="discipline.withdrawn") == 2


def test_a_score_before_the_roster_still_reaches_the_events_supervisor(writer):
    rows = writer.apply(score_event(atasan_nip=ATASAN))
    assert [r["recipient_nip"] for r in rows] == [ASN, ATASAN]
    assert rows[1]["body"].startswith(f"Skor kinerja {ASN} berubah")
