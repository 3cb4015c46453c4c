"""A small fixture world per service, built in-process through each service's own entry points:
the roster applied through the consumer's handler, objects made through the API as their rightful
owners. Two agencies; in agency A a supervisor (ATASAN) with a team (VICTIM, PEER) and another
supervisor (OTHER_ATASAN) with their own; in agency B an admin, a supervisor and an ASN.

The attacks target VICTIM's objects; ``markers`` are strings only VICTIM's (or agency A's) data
contains, so a response or a database row that carries one is recognisable.
"""
from __future__ import annotations

import hashlib
import importlib
import io
import json
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any, Callable
from zoneinfo import ZoneInfo

from sqlalchemy import select

from kinerja.auth import PUBLIC_BLUEPRINTS, ROLES, issue_token
from kinerja.config import DEV_JWT_SECRET
from kinerja.events import decode_event, make_event
from kinerja.events.pegawai import EMPLOYEE_UPSERTED
from kinerja.webapp import runtime_of

SERVICES = ("kehadiran", "tugas", "penilaian", "notifikasi")
AGENCY, OTHER_AGENCY = "dinkes", "disdik"
UNIT = "Sekretariat"

KEPALA = "197001012000011001"
ATASAN = "198501012010011002"
VICTIM = "199501012020011003"
PEER = "199601012020011004"
OTHER_ATASAN = "198601012010011005"
OTHER_TEAM = "199701012020011006"
ADMIN = "198001012005011009"
B_ADMIN = "198101012006011010"
B_ATASAN = "198701012010011007"
B_PEG = "199801012020011008"

ROSTER = [  # nip, nama, agency, atasan, pin
    (KEPALA, "Kepala Dinas", AGENCY, None, "1"),
    (ATASAN, "Atasan Satu", AGENCY, KEPALA, "2"),
    (VICTIM, "Korban Rahasia", AGENCY, ATASAN, "3"),
    (PEER, "Rekan Setim", AGENCY, ATASAN, "4"),
    (OTHER_ATASAN, "Atasan Dua", AGENCY, KEPALA, "5"),
    (OTHER_TEAM, "Pegawai Tim Lain", AGENCY, OTHER_ATASAN, "6"),
    (ADMIN, "Admin OPD", AGENCY, KEPALA, "7"),
    (B_ADMIN, "Admin Lain", OTHER_AGENCY, None, "1"),
    (B_ATASAN, "Atasan Lain", OTHER_AGENCY, None, "2"),
    (B_PEG, "Pegawai Lain", OTHER_AGENCY, B_ATASAN, "3"),
]
A_DEVICE, B_DEVICE = "SECA0001", "SECB0001"
TZ = ZoneInfo("Asia/Jakarta")

# who attacks VICTIM's objects, and which markers they must never see or change
ATTACKERS = {
    "other-agency admin": (B_ADMIN, "admin", OTHER_AGENCY, "agency"),
    "other-agency atasan": (B_ATASAN, "atasan", OTHER_AGENCY, "agency"),
    "other-agency pegawai": (B_PEG, "pegawai", OTHER_AGENCY, "agency"),
    "other-agency device": (None, "device", OTHER_AGENCY, "agency"),
    "peer pegawai": (PEER, "pegawai", AGENCY, "victim"),
    "other-team atasan": (OTHER_ATASAN, "atasan", AGENCY, "victim"),
}
# a token of each role in agency A that is NOT allowed to see VICTIM's data only by role
OWN_AGENCY = {"pegawai": VICTIM, "atasan": ATASAN, "admin": ADMIN, "operator": None, "device": None}


def today() -> date:
    return datetime.now(TZ).date()


def last_workday() -> date:
    day = today() - timedelta(days=1)
    while day.weekday() > 3:
        day -= timedelta(days=1)
    return day


def token(role: str, agency: str = AGENCY, nip: str | None = None, *, secret: str = DEV_JWT_SECRET, **kw) -> str:
    if role == "device":
        return issue_token(secret, role="device", agency=agency,
                           device_sn=A_DEVICE if agency == AGENCY else B_DEVICE, **kw)
    if role == "operator":
        return issue_token(secret, role="operator", agency="*", nip=nip, **kw)
    return issue_token(secret, role=role, agency=agency, nip=nip, **kw)


def bearer(tok: str) -> dict:
    return {"Authorization": f"Bearer {tok}"}


def retarget(body: Any, agency: str) -> Any:
    """``body`` with every ``agency`` field naming agency A naming ``agency`` instead."""
    if isinstance(body, dict):
        return {k: (agency if k == "agency" and v == AGENCY else retarget(v, agency)) for k, v in body.items()}
    if isinstance(body, list):
        return [retarget(v, agency) for v in body]
    return body


# -- routes ------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Route:
    service: str
    rule: str
    method: str
    endpoint: str
    blueprint: str
    arguments: tuple[str, ...]
    roles: tuple[str, ...] | None  # from require_auth; None: no require_auth on the view
    has_body: bool = False  # the OpenAPI document gives it a request body

    @property
    def public(self) -> bool:
        return self.blueprint in PUBLIC_BLUEPRINTS or self.endpoint == "static"

    @property
    def id(self) -> str:
        return f"{self.service} {self.method} {self.rule}"


def _openapi_path(rule: str) -> str:
    import re

    return re.sub(r"<(?:[a-z]+:)?([a-z_]+)>", r"{\1}", rule)


def routes_of(service: str, app) -> list[Route]:
    spec = app.test_client().get("/openapi.json").get_json() or {}
    out = []
    for rule in app.url_map.iter_rules():
        view = app.view_functions[rule.endpoint]
        cls = getattr(view, "view_class", None)
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            fn = getattr(cls, method.lower(), None) if cls is not None else view
            roles = getattr(fn, "_kinerja_roles", None)
            out.append(Route(service, rule.rule, method, rule.endpoint, rule.endpoint.rpartition(".")[0] or rule.endpoint,
                             tuple(sorted(rule.arguments)), tuple(roles) if roles is not None else None,
                             "requestBody" in spec.get("paths", {}).get(_openapi_path(rule.rule), {})
                             .get(method.lower(), {})))
    return sorted(out, key=lambda r: (r.rule, r.method))


def route_params(service: str) -> list[Route]:
    """The routes of a freshly built app (no database needed), for parametrising tests."""
    import tempfile

    app = build_app(service, f"sqlite:///{tempfile.mkdtemp(prefix='kinerja-sec-')}/routes.db", migrate=False)
    try:
        return routes_of(service, app)
    finally:
        runtime_of(app).dispose()


def build_app(service: str, database_url: str, *, migrate: bool = True, **config):
    if migrate:
        importlib.import_module(f"{service}.entrypoints.migrate").main(database_url)
    create_app = importlib.import_module(f"{service}.entrypoints.app").create_app
    return create_app({"database_url": database_url, "kafka_bootstrap": "127.0.0.1:1", **config})


# -- the world ---------------------------------------------------------------------------------
@dataclass
class World:
    service: str
    app: Any
    runtime: Any
    path: dict[str, Any] = field(default_factory=dict)        # url argument -> VICTIM's object
    path_by_rule: dict[str, dict[str, Any]] = field(default_factory=dict)
    query: dict[str, Any] = field(default_factory=dict)        # query parameter -> value aimed at VICTIM
    bodies: dict[tuple[str, str], Callable[[], Any]] = field(default_factory=dict)
    agency_markers: set[str] = field(default_factory=set)      # only agency A's data has these
    victim_markers: set[str] = field(default_factory=set)      # only VICTIM's data has these
    # requests that act on the caller's own things (their own SKP draft, proposal, e-mail address):
    # success is fine for anyone allowed by role, as long as VICTIM's rows stay as they were
    self_service: set[tuple[str, str]] = field(default_factory=set)
    # rows that may carry a marker without being VICTIM's (e.g. a punch quarantined in agency B)
    ignore_row: Callable[[str, Any], bool] = lambda table, row: False

    @property
    def client(self):
        return self.app.test_client()

    def url(self, route: Route, **override) -> str:
        import re

        values = {**self.path, **self.path_by_rule.get(f"{route.method} {route.rule}", {}), **override}
        url = route.rule
        for arg in route.arguments:
            value = values.get(arg, "1" if "id" in arg else "x")
            # <arg>, <int:arg>, <path:arg>, <uuid:arg> ...
            url = re.sub(rf"<(?:[a-z]+(?:\([^)]*\))?:)?{arg}>", lambda _: str(value), url)
        return url

    def call(self, route: Route, headers: dict | None = None, *, with_query: bool = True, body: Any = None, **kw):
        kwargs: dict[str, Any] = dict(headers=headers or {}, **kw)
        if with_query and route.method == "GET":
            kwargs["query_string"] = self.query
        if route.method in ("POST", "PUT", "PATCH") and "data" not in kw:
            make = self.bodies.get((route.method, route.rule))
            payload = body if body is not None else (make() if make else {})
            if isinstance(payload, dict) and payload.get("__multipart__"):
                kwargs["data"] = {k: v for k, v in payload.items() if k != "__multipart__"}
                kwargs["content_type"] = "multipart/form-data"
            else:
                kwargs["json"] = payload
        return self.client.open(self.url(route), method=route.method, buffered=False, **kwargs)

    def digest(self, markers: set[str]) -> str:
        """A hash of every row, in every table of the service, that carries one of ``markers``."""
        h = hashlib.sha256()
        with self.runtime.engine.connect() as conn:
            for table in self.runtime.metadata.sorted_tables if hasattr(self.runtime, "metadata") else []:
                for row in conn.execute(select(table)).all():
                    if self.ignore_row(table.name, row._mapping):
                        continue
                    text = json.dumps([str(v) for v in row], ensure_ascii=False)
                    if any(m in text for m in markers):
                        h.update(table.name.encode() + text.encode())
        return h.hexdigest()

    def row_counts(self) -> dict[str, int]:
        from sqlalchemy import func

        with self.runtime.engine.connect() as conn:
            return {t.name: conn.execute(select(func.count()).select_from(t)).scalar()
                    for t in self.runtime.metadata.sorted_tables}


def read_body(response, limit_s: float = 2.0) -> bytes:
    """The body; for an event stream, what arrives before its first heartbeat (the backlog)."""
    import time

    if response.mimetype != "text/event-stream":
        data = response.get_data()
        response.close()
        return data
    chunks, deadline = [], time.monotonic() + limit_s
    try:
        for chunk in response.response:
            chunks.append(chunk if isinstance(chunk, bytes) else chunk.encode())
            if b"heartbeat" in chunks[-1] or time.monotonic() > deadline:
                break
    finally:
        response.close()
    return b"".join(chunks)


def roster_events(roster=ROSTER):
    return [make_event(EMPLOYEE_UPSERTED, subject=nip, agency=agency, source="test/security",
                       data={"nip": nip, "nama": nama, "agency": agency, "unit": UNIT, "jabatan": "Analis",
                             "atasan_nip": atasan, "pin": pin, "active": True})
            for nip, nama, agency, atasan, pin in roster]


def apply_roster(w: "World", roster) -> None:
    """Roster rows applied to a built world as its consumer applies ``pegawai.v1``."""
    rt = w.runtime
    for ev in roster_events(roster):
        with rt.session() as s, s.begin():
            if w.service == "kehadiran":
                from kehadiran.service_layer.roster import apply_roster_event

                apply_roster_event(s, _wire(ev), agency_tz="Asia/Jakarta")
            elif w.service == "tugas":
                from tugas.entrypoints import consumer

                consumer.handle(s, _wire(ev))
            elif w.service == "penilaian":
                from penilaian.service_layer.scoring import apply_event

                apply_event(s, rt.outbox, _wire(ev), tz=rt.settings.timezone)
            else:
                from notifikasi.service_layer.notifications import handle_event

                handle_event(s, _wire(ev))


def _ok(resp, *codes):
    assert resp.status_code in (codes or (200, 201)), (resp.status_code, resp.get_data(as_text=True)[:500])
    return resp.get_json()


def _wire(event):
    return decode_event(event.to_bytes())


def _as(role, nip=None, agency=AGENCY):
    return bearer(token(role, agency, nip))


# -- per service -------------------------------------------------------------------------------
def build_kehadiran(database_url: str, **config) -> World:
    from kehadiran.service_layer.roster import apply_roster_event

    app = build_app("kehadiran", database_url, **config)
    rt = runtime_of(app)
    for ev in roster_events():
        with rt.session() as s, s.begin():
            apply_roster_event(s, _wire(ev), agency_tz="Asia/Jakarta")
    c = app.test_client()
    op = _as("operator")
    _ok(c.post("/api/v1/devices", json={"sn": A_DEVICE, "agency": AGENCY, "tz": 7, "name": "Pintu A"}, headers=op))
    _ok(c.post("/api/v1/devices", json={"sn": B_DEVICE, "agency": OTHER_AGENCY, "tz": 7}, headers=op))
    day = last_workday()
    _ok(c.post("/api/v1/punches", json={"punches": [{"pin": "3", "time": f"{day}T07:45:00+07:00"}]},
               headers=_as("device")))
    leave_day = day - timedelta(days=7)
    _ok(c.post("/api/v1/leave", json={"nip": VICTIM, "start_date": str(leave_day), "end_date": str(leave_day),
                                      "kind": "sakit", "note": "catatan-korban"}, headers=_as("atasan", ATASAN)))
    _ok(c.post("/api/v1/calendar/holidays", json={"csv": f"{today().year}-12-30,Libur Rahasia Dinkes\n"},
               headers=_as("admin", ADMIN)))
    _ok(c.post(f"/api/v1/devices/{A_DEVICE}/commands", json={"kind": "check"}, headers=_as("admin", ADMIN)))
    correction = _ok(c.post("/api/v1/corrections", headers=_as("pegawai", VICTIM), json={
        "date": str(day), "reason": "lupa-absen-korban", "punches": [{"time": f"{day}T07:25:00+07:00", "status": "in"}]}))
    # the victim's unit has an office location: phones check in within it (the body below does)
    _ok(c.put(f"/api/v1/units/{UNIT}/location", json={"lat": -6.2, "lon": 106.8, "radius_m": 200},
              headers=_as("admin", ADMIN)))
    leave_request = _ok(c.post("/api/v1/leave-requests", headers=_as("pegawai", VICTIM), json={
        "kind": "cuti", "start_date": str(today() + timedelta(days=14)), "end_date": str(today() + timedelta(days=14)),
        "reason": "cuti-korban"}))
    period = day.strftime("%Y-%m")
    d = str(today() + timedelta(days=30))
    hours = {"mon": {"start": "07:30", "end": "16:00"}}
    w = World("kehadiran", app, rt)
    w.path = {"sn": A_DEVICE, "unit": UNIT, "request_id": correction["id"]}
    w.path_by_rule = {f"{m} /api/v1/leave-requests/<uuid:request_id>{tail}": {"request_id": leave_request["id"]}
                      for m, tail in (("GET", ""), ("POST", "/approve"), ("POST", "/reject"), ("POST", "/withdraw"))}
    w.query = {"nip": VICTIM, "period": period, "year": today().year, "agency": AGENCY, "date": str(day)}
    w.bodies = {
        ("POST", "/api/v1/punches"): lambda: {"punches": [{"nip": VICTIM, "time": f"{day}T16:30:00+07:00",
                                                           "lat": -6.2, "lon": 106.8}]},
        ("POST", "/api/v1/devices"): lambda: {"sn": A_DEVICE, "agency": AGENCY, "tz": 9, "name": "diambil"},
        ("POST", "/api/v1/calendar/holidays"): lambda: {"agency": AGENCY, "csv": f"{d},Libur Palsu\n"},
        ("POST", "/api/v1/calendar/ramadan"): lambda: {"agency": AGENCY, "start_date": d, "end_date": d, "days": hours},
        ("PUT", "/api/v1/schedules/units/<unit>"): lambda: {"agency": AGENCY, "days": hours},
        ("POST", "/api/v1/shifts"): lambda: {"shifts": [{"nip": VICTIM, "date": d, "start": "22:00", "end": "07:00"}]},
        ("POST", "/api/v1/leave"): lambda: {"nip": VICTIM, "start_date": d, "end_date": d, "kind": "cuti"},
        ("POST", "/api/v1/leave/cancel"): lambda: {"nip": VICTIM, "start_date": str(leave_day), "end_date": str(leave_day)},
        ("PUT", "/api/v1/units/<unit>/location"): lambda: {"agency": AGENCY, "lat": -5.7, "lon": 105.6, "radius_m": 100},
        ("POST", "/api/v1/days/close"): lambda: {"agency": AGENCY, "start_date": str(day), "end_date": str(day)},
        ("POST", "/api/v1/devices/<sn>/commands"): lambda: {"kind": "info"},
        ("PUT", "/api/v1/agency-settings"): lambda: {"agency": AGENCY, "ignore_pin_zeros": True, "burst_window_s": 0},
        ("POST", "/api/v1/corrections"): lambda: {"nip": VICTIM, "date": str(day), "reason": "diajukan orang lain",
                                                  "punches": [{"time": f"{day}T16:05:00+07:00", "status": "out"}]},
        ("POST", "/api/v1/corrections/<uuid:request_id>/approve"): lambda: {"note": "disetujui penyerang"},
        ("POST", "/api/v1/corrections/<uuid:request_id>/reject"): lambda: {"note": "ditolak penyerang"},
        ("POST", "/api/v1/leave-requests"): lambda: {"nip": VICTIM, "kind": "sakit", "start_date": d, "end_date": d,
                                                     "reason": "diajukan orang lain"},
        ("POST", "/api/v1/leave-requests/<uuid:request_id>/approve"): lambda: {"note": "disetujui penyerang"},
        ("POST", "/api/v1/leave-requests/<uuid:request_id>/reject"): lambda: {"note": "ditolak penyerang"},
    }
    w.agency_markers = {AGENCY, A_DEVICE, *(n for n, _, a, _, _ in ROSTER if a == AGENCY)}
    w.victim_markers = {VICTIM}
    w.self_service = {("POST", "/api/v1/leave-requests")}  # the caller's own (another's nip is refused)
    # another agency's device naming VICTIM's NIP: kept in quarantine in that agency, never VICTIM's
    # and the device audit log records attempts on agency A's devices for A to see: an entry, not a change
    w.ignore_row = lambda table, row: ((table == "punches" and row["nip"] is None and row["agency"] != AGENCY)
                                       or table == "device_audit")
    return w


def build_tugas(database_url: str, tmp_dir, **config) -> World:
    from tugas.entrypoints import consumer

    app = build_app("tugas", database_url, evidence_dir=str(tmp_dir / "evidence"), max_evidence_bytes=2000, **config)
    rt = runtime_of(app)
    for ev in roster_events():
        with rt.session() as s, s.begin():
            consumer.handle(s, _wire(ev))
    c = app.test_client()
    boss, me = _as("atasan", ATASAN), _as("pegawai", VICTIM)
    due = str(today() + timedelta(days=5))

    def assign(title):
        return _ok(c.post("/api/v1/tasks", json={"nip": VICTIM, "title": title, "due_date": due, "target_quantity": 4},
                          headers=boss))

    assigned = assign("Tugas Rahasia Korban A")
    started = assign("Tugas Rahasia Korban B")
    _ok(c.post(f"/api/v1/tasks/{started['id']}/start", json={}, headers=me))
    submitted = assign("Tugas Rahasia Korban C")
    _ok(c.post(f"/api/v1/tasks/{submitted['id']}/start", json={}, headers=me))
    evidence = _ok(c.post(f"/api/v1/tasks/{submitted['id']}/evidence", headers=me, content_type="multipart/form-data",
                          data={"file": (io.BytesIO(b"%PDF rahasia"), "bukti-korban.pdf", "application/pdf")}))
    _ok(c.post(f"/api/v1/tasks/{submitted['id']}/submit", json={"note": "selesai"}, headers=me))
    proposed = _ok(c.post("/api/v1/tasks", json={"nip": VICTIM, "title": "Usulan Rahasia Korban", "due_date": due,
                                                  "target_quantity": 1}, headers=me))
    rhk = {"kind": "main", "text": "RHK Rahasia Korban", "parent_rhk_id": None,
           "indicators": [{"indicator": "Jumlah laporan", "target_quantity": 12, "unit": "laporan",
                           "quality_target": 90, "time_target": "12 bulan"}]}
    skp = _ok(c.post("/api/v1/skp", json={"year": today().year, "rhk": [rhk]}, headers=me))
    _ok(c.post(f"/api/v1/skp/{skp['id']}/submit", json={}, headers=me))
    innovation = _ok(c.post("/api/v1/innovations", json={"title": "Inovasi Rahasia Korban", "description": "d"},
                            headers=me))
    _ok(c.post("/api/v1/feedback", json={"task_id": assigned["id"], "text": "umpan balik rahasia"}, headers=boss))
    w = World("tugas", app, rt)
    w.path = {"task_id": assigned["id"], "skp_id": skp["id"], "innovation_id": innovation["id"],
              "evidence_id": evidence["id"]}
    w.path_by_rule = {
        "POST /api/v1/tasks/<task_id>/submit": {"task_id": started["id"]},
        "POST /api/v1/tasks/<task_id>/approve": {"task_id": submitted["id"]},
        "POST /api/v1/tasks/<task_id>/return": {"task_id": submitted["id"]},
        "POST /api/v1/tasks/<task_id>/accept": {"task_id": proposed["id"]},
        "POST /api/v1/tasks/<task_id>/reject": {"task_id": proposed["id"]},
        "GET /api/v1/tasks/<task_id>/evidence": {"task_id": submitted["id"]},
        "GET /api/v1/tasks/<task_id>/evidence/<evidence_id>": {"task_id": submitted["id"]},
        "POST /api/v1/tasks/<task_id>/evidence": {"task_id": started["id"]},
    }
    w.query = {"assignee": VICTIM, "nip": VICTIM, "task_id": assigned["id"]}
    w.bodies = {
        ("POST", "/api/v1/tasks"): lambda: {"nip": VICTIM, "title": "disisipkan", "due_date": due, "target_quantity": 1},
        ("PATCH", "/api/v1/tasks/<task_id>"): lambda: {"title": "diubah penyerang"},
        ("POST", "/api/v1/tasks/<task_id>/start"): lambda: {},
        ("POST", "/api/v1/tasks/<task_id>/submit"): lambda: {"note": "x"},
        ("POST", "/api/v1/tasks/<task_id>/approve"): lambda: {"realised_quantity": 4, "quality": 100},
        ("POST", "/api/v1/tasks/<task_id>/return"): lambda: {"feedback": "ulang"},
        ("POST", "/api/v1/tasks/<task_id>/cancel"): lambda: {"reason": "batal"},
        ("POST", "/api/v1/tasks/<task_id>/accept"): lambda: {},
        ("POST", "/api/v1/tasks/<task_id>/reject"): lambda: {"reason": "tolak"},
        ("POST", "/api/v1/tasks/<task_id>/evidence"): lambda: {
            "__multipart__": True, "file": (io.BytesIO(b"palsu"), "palsu.pdf", "application/pdf")},
        ("POST", "/api/v1/skp"): lambda: {"year": today().year + 1, "rhk": []},
        ("PUT", "/api/v1/skp/<skp_id>/rhk"): lambda: {"rhk": [rhk]},
        ("POST", "/api/v1/skp/<skp_id>/submit"): lambda: {},
        ("POST", "/api/v1/skp/<skp_id>/approve"): lambda: {"note": "ok"},
        ("POST", "/api/v1/skp/<skp_id>/return"): lambda: {"note": "ulang"},
        ("POST", "/api/v1/feedback"): lambda: {"task_id": assigned["id"], "text": "disusupkan"},
        ("POST", "/api/v1/innovations"): lambda: {"title": "x", "description": "y"},  # self-service
        ("POST", "/api/v1/innovations/<innovation_id>/approve"): lambda: {"note": "ok"},
        ("POST", "/api/v1/innovations/<innovation_id>/reject"): lambda: {"note": "tidak"},
    }
    ids = {assigned["id"], started["id"], submitted["id"], proposed["id"], skp["id"], innovation["id"], evidence["id"]}
    w.self_service = {("POST", "/api/v1/skp"), ("POST", "/api/v1/innovations")}
    w.agency_markers = {AGENCY, *ids, *(n for n, _, a, _, _ in ROSTER if a == AGENCY)}
    w.victim_markers = {VICTIM, *ids}
    return w


def build_penilaian(database_url: str, **config) -> World:
    from kinerja.events.kehadiran import DAY_SUMMARIZED
    from penilaian.service_layer.scoring import apply_event

    app = build_app("penilaian", database_url, **config)
    rt = runtime_of(app)
    day = last_workday()
    day_ev = make_event(DAY_SUMMARIZED, subject=VICTIM, agency=AGENCY, source="test/security",
                        data={"nip": VICTIM, "date": day, "version": 1, "final": True, "workday": True,
                              "deductions": [{"code": "TL1", "percent": Decimal("0.50"), "minutes": 15}],
                              "punch_event_ids": ["punch-rahasia-korban"]})
    for ev in [*roster_events(), day_ev]:
        with rt.session() as s, s.begin():
            apply_event(s, rt.outbox, _wire(ev), tz=rt.settings.timezone)
    c = app.test_client()
    period = day.strftime("%Y-%m")
    levels = {"berorientasi_pelayanan": "above", "akuntabel": "meets"}
    _ok(c.put(f"/api/v1/ratings/{VICTIM}?period={period}", json={"levels": levels}, headers=_as("atasan", ATASAN)))
    w = World("penilaian", app, rt)
    w.path = {"nip": VICTIM, "atasan_nip": ATASAN}
    w.query = {"period": period, "year": today().year}
    w.bodies = {("PUT", "/api/v1/ratings/<nip>"): lambda: {"levels": {"loyal": "below"}},
                ("POST", "/api/v1/training/<nip>"): lambda: {"title": "Pelatihan palsu", "jp": 40,
                                                             "date": str(today())},
                ("POST", "/api/v1/dialogs/<nip>"): lambda: {"date": str(today()), "notes": "palsu",
                                                            "follow_up": "palsu"},
                # agency-wide settings: an admin sets their own agency's (self-service below)
                ("PUT", "/api/v1/policy"): lambda: {"effective_from": period},
                ("PUT", "/api/v1/organisation-rating"): lambda: {"predikat": "Kurang"}}
    w.self_service = {("PUT", "/api/v1/policy"), ("PUT", "/api/v1/organisation-rating")}
    w.agency_markers = {AGENCY, "punch-rahasia-korban", *(n for n, _, a, _, _ in ROSTER if a == AGENCY)}
    w.victim_markers = {VICTIM, "punch-rahasia-korban"}
    return w


def build_notifikasi(database_url: str, **config) -> World:
    from kinerja.events.penilaian import SCORE_UPDATED
    from notifikasi.service_layer.notifications import handle_event

    app = build_app("notifikasi", database_url, sse_heartbeat_s=0.2, sse_poll_s=0.05, **config)
    rt = runtime_of(app)
    score = make_event(SCORE_UPDATED, subject=VICTIM, agency=AGENCY, source="test/security",
                       data={"nip": VICTIM, "period": today().strftime("%Y-%m"), "disiplin": 99.5,
                             "produktivitas": 96.0, "perilaku": 99.5, "hasil_kerja": 96.0, "total": 97.5,
                             "predikat": "Baik", "changes": [{"component": "disiplin", "before": 100.0, "after": 99.5}],
                             "caused_by": ["sebab-rahasia-korban"], "atasan_nip": ATASAN})
    c = app.test_client()
    hook = _ok(c.post("/api/v1/webhooks", json={"url": "https://rahasia-dinkes.example/hook"},
                      headers=_as("admin", ADMIN)), 201)
    _ok(c.put("/api/v1/notifications/email", json={"email": "korban.rahasia@dinkes.example", "mode": "immediate"},
              headers=_as("pegawai", VICTIM)))
    rows = []
    for ev in [*roster_events(), score]:
        with rt.session() as s, s.begin():
            rows += [r.id for r in handle_event(s, _wire(ev))]
    victim_row = _ok(c.get("/api/v1/notifications", headers=_as("pegawai", VICTIM)))["items"][0]
    w = World("notifikasi", app, rt)
    w.path = {"notification_id": victim_row["id"], "hook_id": hook["id"]}
    w.bodies = {
        ("POST", "/api/v1/webhooks"): lambda: {"url": "https://penyerang.example/hook", "agency": AGENCY},
        ("PUT", "/api/v1/notifications/email"): lambda: {"email": "penyerang@example.org", "mode": "immediate"},
        ("POST", "/api/v1/notifications/read-all"): lambda: {},  # the caller's own inbox
    }
    w.query = {"last_event_id": 0, "nip": VICTIM}
    w.self_service = {("PUT", "/api/v1/notifications/email"), ("POST", "/api/v1/notifications/read-all")}
    w.agency_markers = {AGENCY, "rahasia-dinkes", "korban.rahasia", "sebab-rahasia-korban",
                        *(n for n, _, a, _, _ in ROSTER if a == AGENCY)}
    w.victim_markers = {VICTIM, "korban.rahasia", "sebab-rahasia-korban"}
    return w


def build(service: str, database_url: str, tmp_dir, **config) -> World:
    if service == "tugas":
        return build_tugas(database_url, tmp_dir, **config)
    return {"kehadiran": build_kehadiran, "penilaian": build_penilaian,
            "notifikasi": build_notifikasi}[service](database_url, **config)

