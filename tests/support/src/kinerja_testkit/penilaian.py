"""Helpers of penilaian's integration tests: a migrated database, event builders, a handler that
applies events the way the consumer does (one transaction per event), tokens."""
from __future__ import annotations

import json
import threading
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal
from typing import Any

from sqlalchemy import select

from kinerja.auth import issue_token
from kinerja.config import load_settings
from kinerja.events import make_event
from kinerja.events.envelope import Event
from kinerja.events.kehadiran import DAY_SUMMARIZED
from kinerja.events.pegawai import EMPLOYEE_UPSERTED
from kinerja.events.tugas import INNOVATION_APPROVED
from penilaian.adapters.orm import ScoreRow
from penilaian.entrypoints.migrate import main as migrate
from penilaian.entrypoints.runtime import make_runtime
from penilaian.service_layer.scoring import apply_event
from penilaian.service_layer.views import detail_of

AGENCY, FOREIGN = "dinkes", "disdik"
WIB = timezone(timedelta(hours=7))
KEPALA = "197001012000011001"
ATASAN = "198501012010011002"
PEG1 = "199501012020011003"
PEG2 = "199601012020011004"
OTHER_ATASAN = "198601012010011005"
PEG3 = "199701012020011006"
FOREIGN_PEG = "199801012020011008"

ROSTER = [
    (KEPALA, "Kepala Dinas", AGENCY, None),
    (ATASAN, "Atasan Satu", AGENCY, KEPALA),
    (PEG1, "Pegawai Satu", AGENCY, ATASAN),
    (PEG2, "Pegawai Dua", AGENCY, ATASAN),
    (OTHER_ATASAN, "Atasan Dua", AGENCY, KEPALA),
    (PEG3, "Pegawai Tiga", AGENCY, OTHER_ATASAN),
    (FOREIGN_PEG, "Pegawai Lain", FOREIGN, None),
]


def roster_event(nip: str, nama: str, agency: str = AGENCY, atasan: str | None = ATASAN, unit: str = "Sekretariat"):
    return make_event(EMPLOYEE_UPSERTED, subject=nip, agency=agency, source="test/roster",
                      data={"nip": nip, "nama": nama, "agency": agency, "unit": unit, "atasan_nip": atasan})


def day_event(nip: str, day: date, *deductions: tuple[str, str], version: int = 1,
              punch_ids: tuple[str, ...] = (), workday: bool = True, agency: str = AGENCY,
              event_id: str | None = None) -> Event:
    return make_event(DAY_SUMMARIZED, subject=nip, agency=agency, source="test/kehadiran", event_id=event_id,
                      data={"nip": nip, "date": day, "version": version, "final": False, "workday": workday,
                            "deductions": [{"code": c, "percent": Decimal(p), "minutes": None} for c, p in deductions],
                            "punch_event_ids": list(punch_ids)})


def task_event(event_type: str, nip: str, task_id: str, status: str, due: date, *, at: datetime,
               realised: str | None = None, quality: int | None = None, submitted_at: datetime | None = None,
               approved_at: datetime | None = None, target: str = "10", atasan: str | None = ATASAN,
               category: str | None = None, rhk_id: str | None = None) -> Event:
    return make_event(event_type, subject=nip, agency=AGENCY, source="test/tugas", time=at,
                      data={"task_id": task_id, "nip": nip, "atasan_nip": atasan, "title": f"Laporan {task_id}",
                            "status": status, "due_date": due, "target_quantity": Decimal(target),
                            "realised_quantity": Decimal(realised) if realised is not None else None,
                            "quality": quality, "submitted_at": submitted_at, "approved_at": approved_at,
                            "category": category, "rhk_id": rhk_id})


def innovation_event(nip: str, innovation_id: str, at: datetime) -> Event:
    return make_event(INNOVATION_APPROVED, subject=nip, agency=AGENCY, source="test/tugas", time=at,
                      data={"innovation_id": innovation_id, "nip": nip, "title": f"Inovasi {innovation_id}",
                            "approved_at": at})


def wire(event: Event) -> Event:
    """The event as a consumer sees it: encoded to bytes and decoded with its schema."""
    from kinerja.events import decode_event

    return decode_event(event.to_bytes())


@dataclass
class Penilaian:
    runtime: Any
    url: str

    def apply(self, *events: Event) -> None:
        for event in events:
            with self.runtime.session() as session, session.begin():
                apply_event(session, self.runtime.outbox, wire(event), tz=self.runtime.settings.timezone)

    def settle(self, batch_size: int = 200) -> int:
        """Work through the queued policy recomputes as the consumer does between polls (one
        transaction per batch of ASN); returns the batches it took."""
        from zoneinfo import ZoneInfo

        from penilaian.service_layer.policy_recompute import step

        batches = 0
        while True:
            with self.runtime.session() as session, session.begin():
                done = step(session, self.runtime.outbox, zone=ZoneInfo(self.runtime.settings.timezone),
                            batch_size=batch_size)
            if done is None:
                return batches
            batches += 1

    def seed_roster(self) -> None:
        self.apply(*[roster_event(nip, nama, agency, atasan) for nip, nama, agency, atasan in ROSTER])

    def score(self, nip: str, period: str) -> ScoreRow | None:
        """The stored row, its ``detail`` the ledger as the API shows it (assembled from the facts)."""
        with self.runtime.session() as session:
            row = session.get(ScoreRow, (nip, period))
            if row is not None:
                detail = detail_of(session, row)
                session.expunge(row)
                row.detail = detail
            return row

    def scores(self, nip: str | None = None) -> dict[tuple[str, str], tuple]:
        """Every stored score with its values and ledger, for comparing two databases. A row with
        nothing rated equals no row at all (the API computes that from the facts alike)."""
        with self.runtime.session() as session:
            query = select(ScoreRow).order_by(ScoreRow.nip, ScoreRow.period)
            if nip:
                query = query.where(ScoreRow.nip == nip)
            out = {}
            for r in session.execute(query).scalars().all():
                detail = detail_of(session, r)
                if detail["ledger"] or r.total is not None or r.total_partial is not None or r.disiplin is not None:
                    out[(r.nip, r.period)] = (r.disiplin, r.produktivitas, r.perilaku, r.hasil_kerja, r.total,
                                              r.total_partial, r.predikat, json.dumps(detail, sort_keys=True))
            return out

    def outbox(self) -> list[dict]:
        t = self.runtime.outbox_table
        with self.runtime.engine.connect() as conn:
            return [json.loads(v) for v in conn.execute(select(t.c.value).order_by(t.c.id)).scalars()]

    def token(self, nip: str | None, role: str, agency: str = AGENCY) -> str:
        return issue_token(self.runtime.settings.jwt_secret, role=role, agency=agency, nip=nip)


def make_penilaian(database_url: str, **overrides) -> Penilaian:
    migrate(database_url)
    runtime = make_runtime(load_settings("penilaian", {"database_url": database_url, **overrides}))
    return Penilaian(runtime, database_url)


def at(day: date, hh: int = 9) -> datetime:
    return datetime(day.year, day.month, day.day, hh, tzinfo=WIB)


class RunningConsumer:
    """penilaian's consumer process as a thread of the test, on the real broker."""

    def __init__(self, runtime, group_id=None, **kw):
        from penilaian.entrypoints.consumer import make_consumer

        self.stop = threading.Event()
        self.consumer = make_consumer(runtime, group_id=group_id, **kw)
        self.decoded: list[str] = []  # the types that went through the schema
        real_decode = self.consumer.decode
        self.consumer.decode = lambda raw: self._noted(real_decode(raw))
        self.thread = threading.Thread(target=self.consumer.run, args=(self.stop,), daemon=True)
        self.thread.start()

    def _noted(self, event):
        self.decoded.append(event.type)
        return event

    def close(self):
        self.stop.set()
        self.thread.join(timeout=30)
        assert not self.thread.is_alive(), "consumer did not stop"


def publish(kafka_bootstrap: str, prefix: str, events) -> None:
    """(topic name, event) pairs onto the broker, keyed as the services key them."""
    from kinerja.messaging.producer import make_producer
    from kinerja.messaging.topics import topic

    producer = make_producer(kafka_bootstrap, client_id="penilaian-test")
    try:
        for name, event in events:
            producer.send(topic(name, prefix), key=event.key, value=event.to_bytes())
        producer.flush(timeout=30)
    finally:
        producer.close(timeout=5)
