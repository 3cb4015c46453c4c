"""Helpers of notifikasi's tests: tokens, events, a writer standing in for the consumer process, the app
on a real HTTP server, and an SSE client that reads in a thread."""
from __future__ import annotations

import json
import queue
import threading
from dataclasses import dataclass
from typing import Any

import requests
from flask import Flask
from werkzeug.serving import make_server

from kinerja.auth import issue_token
from kinerja.config import DEV_JWT_SECRET
from kinerja.events import make_event
from kinerja.events.envelope import Event
from kinerja.events.pegawai import EMPLOYEE_UPSERTED
from kinerja.events.penilaian import SCORE_UPDATED
from kinerja.webapp import runtime_of
from notifikasi.adapters.inbox import as_dict
from notifikasi.entrypoints.runtime import NotifikasiRuntime
from notifikasi.service_layer.notifications import handle_event

AGENCY = "lamsel"
ASN = "199001012015031001"
ATASAN = "198001012005011002"
OTHER = "199202022018032003"


def token(nip: str | None = ASN, role: str = "pegawai", agency: str = AGENCY, **kw) -> str:
    return issue_token(DEV_JWT_SECRET, role=role, agency=agency, nip=nip, **kw)


def roster_event(nip: str, nama: str, atasan_nip: str | None = None, agency: str = AGENCY) -> Event:
    return make_event(EMPLOYEE_UPSERTED, subject=nip, agency=agency, source="test",
                      data={"nip": nip, "nama": nama, "agency": agency, "unit": "Sekretariat",
                            "jabatan": "Analis", "atasan_nip": atasan_nip, "pin": None})


def score_event(nip: str = ASN, total: float | None = 97.5, predikat: str = "Baik", agency: str = AGENCY,
                atasan_nip: str | None = None) -> Event:
    return make_event(SCORE_UPDATED, subject=nip, agency=agency, source="test",
                      data={"nip": nip, "period": "2026-11", "disiplin": 99.5, "produktivitas": 96.0,
                            "perilaku": 99.5, "hasil_kerja": 96.0, "total": total, "predikat": predikat,
                            "changes": [{"component": "disiplin", "before": 100.0, "after": 99.5}],
                            "caused_by": ["e-1"], "atasan_nip": atasan_nip})


@dataclass
class Writer:
    runtime: NotifikasiRuntime

    def apply(self, event: Event) -> list[dict[str, Any]]:
        with self.runtime.session() as session, session.begin():
            return [as_dict(r) for r in handle_event(session, event)]

    def roster(self) -> None:
        self.apply(roster_event(ATASAN, "Ir. Budi Santoso"))
        self.apply(roster_event(ASN, "Siti Aminah", atasan_nip=ATASAN))
        self.apply(roster_event(OTHER, "Rahmat Hidayat", atasan_nip=ATASAN))


@dataclass
class Server:
    url: str
    app: Flask

    @property
    def runtime(self) -> NotifikasiRuntime:
        return runtime_of(self.app)


def serve(app: Flask) -> tuple[Any, threading.Thread]:
    srv = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=srv.serve_forever, name="test-http", daemon=True)
    thread.start()
    return srv, thread


class SseClient:
    """Reads a text/event-stream in a thread; events and comments arrive on queues."""

    def __init__(self, url: str, *, token: str | None = None, last_event_id: int | None = None,
                 params: dict | None = None, headers: dict | None = None):
        headers = dict(headers or {})
        if token:
            headers["Authorization"] = f"Bearer {token}"
        if last_event_id is not None:
            headers["Last-Event-ID"] = str(last_event_id)
        self.response = requests.get(url, headers=headers, params=params, stream=True, timeout=(5, 30))
        self.events: "queue.Queue[dict]" = queue.Queue()
        self.comments: "queue.Queue[str]" = queue.Queue()
        self.ended = threading.Event()
        self.thread = threading.Thread(target=self._read, name="sse-client", daemon=True)
        if self.response.status_code == 200:
            self.thread.start()

    def _read(self) -> None:
        event: dict[str, Any] = {}
        try:
            for raw in self.response.iter_lines(chunk_size=1):
                line = raw.decode()
                if line == "":
                    if "data" in event:
                        self.events.put({"id": int(event["id"]) if "id" in event else None,
                                         "event": event.get("event", "message"),
                                         "data": json.loads(event["data"])})
                    event = {}
                elif line.startswith(":"):
                    self.comments.put(line[1:].strip())
                else:
                    name, _, value = line.partition(":")
                    event[name] = value[1:] if value.startswith(" ") else value
        except Exception:  # noqa: BLE001 - closed by the test, or by the server
            pass
        finally:
            self.ended.set()

    def next_event(self, timeout_s: float = 10.0) -> dict:
        try:
            return self.events.get(timeout=timeout_s)
        except queue.Empty:
            raise AssertionError(f"no SSE event within {timeout_s}s") from None

    def next_comment(self, timeout_s: float = 10.0) -> str:
        try:
            return self.comments.get(timeout=timeout_s)
        except queue.Empty:
            raise AssertionError(f"no SSE comment within {timeout_s}s") from None

    def close(self) -> None:
        self.response.close()

    def __enter__(self) -> "SseClient":
        return self

    def __exit__(self, *exc) -> None:
        self.close()
