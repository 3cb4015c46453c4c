"""Helpers of tugas's integration tests: a migrated database (SQLite and PostgreSQL), a seeded roster,
tokens. Imported by the test modules relatively (``from .tugas_testkit import ...``)."""
from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

from sqlalchemy import select

from kinerja.auth import issue_token
from kinerja.events import make_event
from kinerja.events.pegawai import EMPLOYEE_UPSERTED
from kinerja.webapp import runtime_of
from tugas.entrypoints import consumer
from tugas.entrypoints.app import create_app
from tugas.entrypoints.migrate import main as migrate

AGENCY, FOREIGN = "dinkes", "disdik"
KEPALA = "197001012000011001"
ATASAN = "198501012010011002"
PEG1 = "199501012020011003"
PEG2 = "199601012020011004"
OTHER_ATASAN = "198601012010011005"
PEG3 = "199701012020011006"
ADMIN = "198001012005011009"
FOREIGN_ATASAN = "198701012010011007"
FOREIGN_PEG = "199801012020011008"

ROSTER = [
    (KEPALA, "Kepala Dinas", AGENCY, None),
    (ATASAN, "Atasan Satu", AGENCY, KEPALA),
    (PEG1, "Pegawai Satu", AGENCY, ATASAN),
    (PEG2, "Pegawai Dua", AGENCY, ATASAN),
    (OTHER_ATASAN, "Atasan Dua", AGENCY, KEPALA),
    (PEG3, "Pegawai Tiga", AGENCY, OTHER_ATASAN),
    (ADMIN, "Admin OPD", AGENCY, KEPALA),
    (FOREIGN_ATASAN, "Atasan Lain", FOREIGN, None),
    (FOREIGN_PEG, "Pegawai Lain", FOREIGN, FOREIGN_ATASAN),
]


def roster_event(nip: str, nama: str, agency: str, atasan: str | None, active: bool = True):
    return make_event(EMPLOYEE_UPSERTED, subject=nip, agency=agency, source="test/roster",
                      data={"nip": nip, "nama": nama, "agency": agency, "unit": "Sekretariat",
                            "atasan_nip": atasan, "active": active})


def today_wib() -> date:
    return datetime.now(timezone.utc).astimezone(ZoneInfo("Asia/Jakarta")).date()


@dataclass
class Tugas:
    app: object
    client: object
    runtime: object

    def token(self, nip: str | None, role: str, agency: str = AGENCY) -> str:
        return issue_token(self.runtime.settings.jwt_secret, role=role, agency=agency, nip=nip)

    def headers(self, nip: str | None, role: str, agency: str = AGENCY) -> dict:
        return {"Authorization": f"Bearer {self.token(nip, role, agency)}"}

    def call(self, method: str, path: str, who: tuple, json_body=None, **kw):
        # the rules' reasons as they are written (English); the APIs answer in Bahasa Indonesia unless
        # a client asks like this (issue 19 item 10: tests/security/integration/test_error_language.py)
        headers = {**self.headers(*who), "Accept-Language": "en", **kw.pop("headers", {})}
        return self.client.open(path, method=method, json=json_body, headers=headers, **kw)

    def apply(self, event) -> None:
        """Through the consumer's handler, as the consumer loop would (one transaction)."""
        with self.runtime.session() as session, session.begin():
            consumer.handle(session, event)

    def outbox(self) -> list[dict]:
        t = self.runtime.outbox_table
        with self.runtime.engine.connect() as conn:
            rows = conn.execute(select(t.c.topic, t.c.key, t.c.value).order_by(t.c.id)).all()
        return [{"topic": r.topic, "key": r.key, **json.loads(r.value)} for r in rows]

    def assign(self, nip: str = PEG1, due: date | None = None, who=None, **body) -> dict:
        payload = {"nip": nip, "title": "Menyusun laporan", "due_date": (due or today_wib() + timedelta(days=3)).isoformat(),
                   "target_quantity": 4}
        payload.update(body)
        resp = self.call("POST", "/api/v1/tasks", who or (ATASAN, "atasan"), payload)
        assert resp.status_code == 201, resp.get_json()
        return resp.get_json()


def make_tugas(database_url: str, **config) -> Tugas:
    migrate(database_url)
    app = create_app({"database_url": database_url, "kafka_bootstrap": "127.0.0.1:1", **config})
    runtime = runtime_of(app)
    t = Tugas(app=app, client=app.test_client(), runtime=runtime)
    for row in ROSTER:
        t.apply(roster_event(*row))
    return t
