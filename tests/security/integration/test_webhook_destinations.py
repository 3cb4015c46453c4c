"""Issue 15, item 2: webhooks cannot be turned on ourselves (server-side request forgery).

Every route that takes a URL the server will later call refuses, at registration, each spelling of
an address that is not public; a destination that became private after registration (a stored row,
a name that now resolves inwards) is refused again at delivery, before any connection, so the
delivery log says why and never what answered; an operator's allow-list lets an on-premise
receiver through; and the secrets that sign deliveries are not stored in clear."""
from __future__ import annotations

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from sqlalchemy import select, update

from notifikasi.adapters.orm import Webhook, WebhookDelivery
from notifikasi.domain.webhooks import verify

from .routes import PROTECTED
from .world import ADMIN, AGENCY, VICTIM, bearer, build, token

pytestmark = pytest.mark.integration

INWARD = [
    "http://127.0.0.1:8001/api/v1/devices", "http://localhost:8004/", "http://LOCALHOST./x", "http://api.localhost/",
    "http://[::1]:8002/", "http://[::ffff:127.0.0.1]/", "http://169.254.169.254/latest/meta-data/",
    "http://10.0.0.5/", "http://172.16.3.4/", "http://192.168.1.1/", "http://100.64.0.1/", "http://0.0.0.0:8003/",
    "http://2130706433/", "http://0x7f000001/", "http://017700000001/", "http://127.1/", "http://0x7f.1/",
    "http://[fe80::1]/", "http://[fd00::1]/", "http://[64:ff9b::7f00:1]/", "http://user:pw@example.org/",
]

# routes that store a URL the server calls later: found by the body's schema, not listed by hand
URL_ROUTES = [r for r in PROTECTED if r.service == "notifikasi" and r.method == "POST" and r.has_body
              and r.rule.endswith("/webhooks")]


class Receiver:
    def __init__(self):
        self.hits = []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                receiver.hits.append((dict(self.headers), self.rfile.read(int(self.headers["Content-Length"]))))
                self.send_response(200)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.server.server_port
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver():
    r = Receiver()
    yield r
    r.close()


@pytest.fixture
def notifikasi(world_of):
    return world_of("notifikasi")


def test_the_webhook_routes_were_found():
    assert [r.rule for r in URL_ROUTES] == ["/api/v1/webhooks"]


@pytest.mark.parametrize("url", INWARD)
def test_an_inward_url_is_refused_at_registration(url, notifikasi, security_report):
    w = notifikasi
    before = w.row_counts()["webhooks"]
    for route in URL_ROUTES:
        resp = w.client.post(route.rule, json={"url": url}, headers=bearer(token("admin", AGENCY, ADMIN)))
        stored = w.row_counts()["webhooks"] != before
        got = resp.status_code < 400 or stored
        security_report.attempt("webhook to an inward address", "notifikasi", "POST", route.rule,
                                status=resp.status_code, got_through=f"{url}: {resp.status_code}" if got else None)
        assert resp.status_code == 422 and resp.get_json()["message"], (url, resp.status_code, resp.get_json())
        assert not stored


def test_a_name_resolving_inwards_is_refused_at_registration_and_at_delivery():
    """DNS decides at the moment of use: a name public at registration and private at delivery
    (rebinding) is refused when it is sent, before any connection."""
    from notifikasi.adapters.egress import EgressPolicy
    from notifikasi.adapters.webhook_client import WebhookClient

    answers = {"hook.example": ["93.184.216.34"]}
    policy = EgressPolicy(resolve=lambda host, port: answers[host])
    assert policy.refusal("https://hook.example/x") is None
    answers["hook.example"] = ["93.184.216.34", "127.0.0.1"]
    assert "not a public address" in policy.refusal("https://hook.example/x")
    client = WebhookClient(timeout_s=2, egress=policy)
    result = client.post("http://hook.example/x", b"{}", {})
    assert result.status_code is None and result.error.startswith("destination refused")


def test_a_stored_inward_destination_is_refused_at_delivery_and_logs_no_status(notifikasi, receiver, security_report):
    """A row whose URL points at us (registered before the check existed, or written some other
    way): the dispatcher connects to nothing and the log says why."""
    w = notifikasi
    with w.runtime.session() as s, s.begin():
        s.execute(update(Webhook).values(url=f"http://127.0.0.1:{receiver.port}/hook"))
    _queue_a_delivery(w)
    dispatcher = w.runtime.webhook_dispatcher()
    assert dispatcher.tick() >= 1
    with w.runtime.session() as s:
        delivery = s.execute(select(WebhookDelivery)).scalars().first()
    got = bool(receiver.hits) or delivery.last_status_code is not None
    security_report.attempt("webhook delivery to an inward address", "notifikasi", "DISPATCH", "webhooks",
                            got_through=f"hits {len(receiver.hits)}, status {delivery.last_status_code}" if got else None)
    assert not receiver.hits and delivery.last_status_code is None
    assert delivery.last_error.startswith("destination refused")


def test_an_allowed_on_premise_receiver_gets_signed_deliveries_and_the_secret_is_not_stored_in_clear(
        tmp_path, receiver):
    w = build("notifikasi", f"sqlite:///{tmp_path / 'allow.db'}", tmp_path, max_body_bytes=65536,
              webhook_allow="127.0.0.1/32")
    try:
        secret = "rahasia-penerima-on-premise-0123456789"
        resp = w.client.post("/api/v1/webhooks", json={"url": f"http://127.0.0.1:{receiver.port}/h", "secret": secret},
                             headers=bearer(token("admin", AGENCY, ADMIN)))
        assert resp.status_code == 201 and resp.get_json()["secret"] == secret
        with w.runtime.session() as s:
            stored = [h.secret for h in s.execute(select(Webhook)).scalars()]
        assert stored and all(secret not in v and v.startswith("fernet:") for v in stored)
        _queue_a_delivery(w)
        w.runtime.webhook_dispatcher().tick()
        assert receiver.hits
        headers, body = receiver.hits[-1]
        assert verify(secret, headers["X-Kinerja-Timestamp"], body, headers["X-Kinerja-Signature"])
    finally:
        w.runtime.dispose()


def _queue_a_delivery(w):
    from kinerja.events import decode_event, make_event
    from kinerja.events.penilaian import SCORE_UPDATED
    from notifikasi.service_layer.notifications import handle_event

    event = make_event(SCORE_UPDATED, subject=VICTIM, agency=AGENCY, source="test/security",
                       data={"nip": VICTIM, "period": "2026-11", "disiplin": 99.0, "produktivitas": 90.0,
                             "perilaku": 90.0, "hasil_kerja": 90.0, "total": 90.0, "predikat": "Baik",
                             "changes": [], "caused_by": ["x"], "atasan_nip": None})
    with w.runtime.session() as s, s.begin():
        handle_event(s, decode_event(event.to_bytes()))
