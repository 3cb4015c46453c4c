"""Webhooks against a local HTTP receiver, on SQLite and PostgreSQL: signed deliveries that verify,
retries with backoff that stop at the first success, and an endpoint that keeps failing disabled
with its admin told in their inbox."""
import json
import threading
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
import requests
from sqlalchemy import select

from kinerja.config import load_settings
from kinerja.testing import wait_until
from notifikasi.adapters.orm import WebhookAttempt
from notifikasi.domain.webhooks import verify
from notifikasi.entrypoints.runtime import make_runtime
from notifikasi.service_layer.clock import aware
from kinerja_testkit.notifikasi import AGENCY, ASN, score_event, token

pytestmark = pytest.mark.integration
ADMIN = "197501011999031001"
SECRET = "rahasia-integrasi-simpeg-0123456789"


class Receiver:
    """An agency's endpoint: records every request, answers from a script (then ``default``)."""

    def __init__(self, script=(), default=200):
        self.script, self.default = list(script), default
        self.requests: list[dict] = []
        self.lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers["Content-Length"]))
                with receiver.lock:
                    receiver.requests.append({"headers": dict(self.headers), "body": body, "path": self.path})
                    code = receiver.script.pop(0) if receiver.script else receiver.default
                self.send_response(code)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}/kinerja/hook"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def count(self) -> int:
        with self.lock:
            return len(self.requests)

    def close(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver():
    r = Receiver()
    yield r
    r.close()


@pytest.fixture
def dispatcher_runtime(migrated):
    runtime = make_runtime(load_settings("notifikasi", {
        "database_url": migrated, "webhook_base_delay_s": 0.05, "webhook_max_delay_s": 1,
        "webhook_max_attempts": 5, "webhook_disable_after": 3, "webhook_timeout_s": 5,
        "webhook_allow": "127.0.0.1/32"}))  # the local receivers, allowed as an on-premise one would be
    yield runtime
    runtime.dispose()


def admin_headers(nip=ADMIN, agency=AGENCY, role="admin"):
    return {"Authorization": "Bearer " + token(nip, role=role, agency=agency)}


def register(server, url, **body):
    r = requests.post(server.url + "/api/v1/webhooks", headers=admin_headers(),
                      json={"url": url, "secret": SECRET, **body}, timeout=10)
    assert r.status_code == 201, r.text
    return r.json()


def test_signed_delivery_retried_with_backoff_until_it_succeeds(server, writer, receiver, dispatcher_runtime):
    hook = register(server, receiver.url, event_types=["penilaian.score.updated.v1"])
    assert hook["secret"] == SECRET and hook["active"]
    listed = requests.get(server.url + "/api/v1/webhooks", headers=admin_headers(), timeout=10).json()
    assert [h["id"] for h in listed] == [hook["id"]] and "secret" not in listed[0]

    receiver.script = [500, 503]  # then 200
    writer.roster()
    event = score_event(ASN)
    writer.apply(event)
    dispatcher = dispatcher_runtime.webhook_dispatcher()
    wait_until(lambda: dispatcher.tick() == 0 and receiver.count() == 3, 20, message="third attempt succeeded")
    for _ in range(3):  # nothing is left to send: retries stopped at the success
        assert dispatcher.tick() == 0
    assert receiver.count() == 3

    bodies = {r["body"] for r in receiver.requests}
    assert len(bodies) == 1  # the same bytes on every attempt
    for req in receiver.requests:
        h = req["headers"]
        assert verify(SECRET, h["X-Kinerja-Timestamp"], req["body"], h["X-Kinerja-Signature"])
        assert h["X-Kinerja-Event-Id"] == event.id and h["Content-Type"] == "application/json"
    sent = json.loads(bodies.pop())
    assert (sent["id"], sent["type"], sent["agency"], sent["subject"]) == (event.id, event.type, AGENCY, ASN)
    assert sent["data"]["total"] == 97.5

    deliveries = requests.get(f"{server.url}/api/v1/webhooks/{hook['id']}/deliveries",
                              headers=admin_headers(), timeout=10).json()
    assert [(d["status"], d["attempts"], d["last_status_code"]) for d in deliveries] == [("delivered", 3, 200)]
    with dispatcher_runtime.session() as session:
        log = session.execute(select(WebhookAttempt).order_by(WebhookAttempt.id)).scalars().all()
    assert [(a.attempt, a.status_code) for a in log] == [(1, 500), (2, 503), (3, 200)]
    gaps = [aware(b.at) - aware(a.at) for a, b in zip(log, log[1:])]
    assert gaps[0] >= timedelta(seconds=0.05) and gaps[1] >= timedelta(seconds=0.1)  # backoff doubles


def test_a_consistently_failing_endpoint_is_disabled_and_its_admin_told(server, writer, receiver, dispatcher_runtime):
    receiver.default = 500
    hook = register(server, receiver.url)  # every type
    writer.roster()
    writer.apply(score_event(ASN, total=90.0))
    writer.apply(score_event(ASN, total=91.0))
    dispatcher = dispatcher_runtime.webhook_dispatcher()
    listed = lambda: requests.get(server.url + "/api/v1/webhooks", headers=admin_headers(), timeout=10).json()[0]  # noqa: E731
    wait_until(lambda: dispatcher.tick() == 0 and not listed()["active"], 20, message="webhook disabled")
    state = listed()
    assert state["consecutive_failures"] == 3 and state["disabled_at"] and "HTTP 500" in state["disabled_reason"]
    assert receiver.count() == 3
    for _ in range(3):
        assert dispatcher.tick() == 0
    assert receiver.count() == 3
    # the admin who registered it finds it in their inbox (and so on their stream)
    inbox = requests.get(server.url + "/api/v1/notifications", headers=admin_headers(), timeout=10).json()
    [told] = inbox["items"]
    assert told["kind"] == "webhook.disabled" and told["body"].startswith(f"Webhook {receiver.url} dinonaktifkan")
    # while disabled, new events are not queued for it
    writer.apply(score_event(ASN, total=92.0))
    # fixed and enabled again: what was pending goes out
    receiver.default = 200
    r = requests.post(f"{server.url}/api/v1/webhooks/{hook['id']}/enable", headers=admin_headers(), timeout=10)
    assert r.status_code == 200 and r.json()["active"] and r.json()["consecutive_failures"] == 0
    deliveries = lambda: requests.get(f"{server.url}/api/v1/webhooks/{hook['id']}/deliveries",  # noqa: E731
                                      headers=admin_headers(), timeout=10).json()
    wait_until(lambda: dispatcher.tick() == 0 and all(d["status"] == "delivered" for d in deliveries()), 20,
               message="pending deliveries sent after enabling")
    assert len(deliveries()) == 2


def test_only_admins_of_the_agency_manage_its_webhooks(server, receiver):
    hook = register(server, receiver.url)
    url = server.url + "/api/v1/webhooks"
    body = {"url": receiver.url}
    assert requests.post(url, json=body, timeout=10).status_code == 401
    assert requests.post(url, json=body, headers={"Authorization": "Bearer " + token(ASN)}, timeout=10).status_code == 403
    assert requests.post(url, json={**body, "agency": "dinkes-lain"}, headers=admin_headers(), timeout=10).status_code == 403
    assert requests.post(url, json={"url": "ftp://x"}, headers=admin_headers(), timeout=10).status_code == 422
    other = admin_headers("197601011999031002", agency="dinkes-lain")
    assert requests.get(url, headers=other, timeout=10).json() == []
    assert requests.get(f"{url}/{hook['id']}/deliveries", headers=other, timeout=10).status_code == 404
    assert requests.post(f"{url}/{hook['id']}/enable", headers=other, timeout=10).status_code == 404
    generated = requests.post(url, json=body, headers=admin_headers(), timeout=10).json()["secret"]
    assert len(generated) >= 32
