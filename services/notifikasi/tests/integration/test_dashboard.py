"""The dashboard's files: public, served with a strict CSP, and config.js naming the services."""
from __future__ import annotations

import json
import re

import pytest

from notifikasi.entrypoints.app import create_app
from kinerja.webapp import runtime_of

pytestmark = pytest.mark.integration


@pytest.fixture
def client(sqlite_url, monkeypatch):
    monkeypatch.setenv("KEHADIRAN_URL", "http://10.0.0.5:8001/")
    monkeypatch.setenv("PENILAIAN_URL", "https://penilaian.kinerja.lampungselatankab.go.id")
    app = create_app({"database_url": sqlite_url, "kafka_bootstrap": "127.0.0.1:9"})
    yield app.test_client()
    runtime_of(app).dispose()


def test_the_pages_need_no_token_and_carry_a_strict_csp(client):
    r = client.get("/dashboard/")
    assert r.status_code == 200 and b"Mengapa skor saya berubah?" in r.data
    csp = r.headers["Content-Security-Policy"]
    assert "script-src 'self'" in csp and "http://10.0.0.5:8001" in csp and "unsafe-inline" not in csp
    assert r.headers["Referrer-Policy"] == "no-referrer"
    page = client.get("/dashboard/").get_data(as_text=True)
    scripts = re.findall(r'<script src="/dashboard/([^"]+)"', page)
    assert "app.js" in scripts and "config.js" in scripts
    for name, kind in [(s, "javascript") for s in scripts] + [("style.css", "css")]:
        r = client.get(f"/dashboard/{name}")
        assert r.status_code == 200 and kind in r.headers["Content-Type"], name
    assert client.get("/dashboard/../entrypoints/app.py").status_code == 404
    assert client.get("/dashboard/secrets.txt").status_code == 404
    assert client.get("/").headers["Location"].endswith("/dashboard/")


def test_config_js_names_the_services_from_the_environment(client):
    r = client.get("/dashboard/config.js")
    assert r.status_code == 200 and "javascript" in r.headers["Content-Type"]
    body = r.get_data(as_text=True)
    config = json.loads(body.split("=", 1)[1].strip().rstrip(";"))
    assert config == {"kehadiran": "http://10.0.0.5:8001", "tugas": "http://127.0.0.1:8002",
                      "penilaian": "https://penilaian.kinerja.lampungselatankab.go.id", "notifikasi": "",
                      "timezone": "Asia/Jakarta", "oidc": None}


def test_the_api_still_needs_a_token(client):
    assert client.get("/api/v1/notifications").status_code == 401


@pytest.fixture
def provider():
    """An OpenID provider's discovery document on 127.0.0.1 (the sign-in itself runs against a real
    Keycloak in tests/e2e/test_oidc_signin.py)."""
    import threading
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    hits = []

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802
            hits.append(self.path)
            base = f"http://127.0.0.1:{self.server.server_address[1]}/realms/asn"
            body = json.dumps({"issuer": base, "authorization_endpoint": f"{base}/protocol/openid-connect/auth",
                               "token_endpoint": f"{base}/protocol/openid-connect/token",
                               "end_session_endpoint": f"{base}/protocol/openid-connect/logout",
                               "jwks_uri": f"{base}/protocol/openid-connect/certs"}).encode()
            self.send_response(200 if self.path == "/realms/asn/.well-known/openid-configuration" else 404)
            self.send_header("Content-Type", "application/json")
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}", hits
    server.shutdown()


def test_with_an_oidc_client_config_js_carries_the_providers_endpoints(sqlite_url, monkeypatch, provider):
    url, hits = provider
    issuer = f"{url}/realms/asn"
    monkeypatch.setenv("KINERJA_OIDC_ISSUER", issuer)
    monkeypatch.setenv("KINERJA_OIDC_JWKS_URL", f"{issuer}/protocol/openid-connect/certs")
    monkeypatch.setenv("KINERJA_OIDC_CLIENT_ID", "kinerja-dashboard")
    app = create_app({"database_url": sqlite_url, "kafka_bootstrap": "127.0.0.1:9"})
    try:
        client = app.test_client()
        body = client.get("/dashboard/config.js").get_data(as_text=True)
        oidc = json.loads(body.split("=", 1)[1].strip().rstrip(";"))["oidc"]
        assert oidc == {"issuer": issuer, "client_id": "kinerja-dashboard", "scope": "openid",
                        "authorization_endpoint": f"{issuer}/protocol/openid-connect/auth",
                        "token_endpoint": f"{issuer}/protocol/openid-connect/token",
                        "end_session_endpoint": f"{issuer}/protocol/openid-connect/logout"}
        # the page exchanges the code with the provider: its origin may be reached, and only it
        csp = client.get("/dashboard/").headers["Content-Security-Policy"]
        connect = next(d for d in csp.split("; ") if d.startswith("connect-src")).split()[1:]
        assert url in connect and "http://127.0.0.1:8001" in connect and "'self'" in connect
        client.get("/dashboard/config.js")
        assert hits.count("/realms/asn/.well-known/openid-configuration") == 1  # read once, then kept
    finally:
        runtime_of(app).dispose()


def test_a_provider_naming_another_issuer_is_not_offered(sqlite_url, monkeypatch, provider):
    url, _ = provider
    monkeypatch.setenv("KINERJA_OIDC_ISSUER", f"{url}/realms/asn/")  # not the document's own issuer
    monkeypatch.setenv("KINERJA_OIDC_JWKS_URL", f"{url}/realms/asn/protocol/openid-connect/certs")
    monkeypatch.setenv("KINERJA_OIDC_CLIENT_ID", "kinerja-dashboard")
    app = create_app({"database_url": sqlite_url, "kafka_bootstrap": "127.0.0.1:9"})
    try:
        body = app.test_client().get("/dashboard/config.js").get_data(as_text=True)
        assert json.loads(body.split("=", 1)[1].strip().rstrip(";"))["oidc"] is None
    finally:
        runtime_of(app).dispose()


def test_me_says_who_the_token_is(client):
    from kinerja.auth import issue_token
    from kinerja.config import DEV_JWT_SECRET

    tok = issue_token(DEV_JWT_SECRET, role="atasan", agency="disdik", nip="197910022009031002")
    r = client.get("/api/v1/me", headers={"Authorization": f"Bearer {tok}"})
    assert r.status_code == 200 and r.json == {"sub": "197910022009031002", "role": "atasan", "agency": "disdik",
                                               "nip": "197910022009031002"}
    assert client.get("/api/v1/me").status_code == 401
    device = issue_token(DEV_JWT_SECRET, role="device", agency="disdik", device_sn="SN1")
    assert client.get("/api/v1/me", headers={"Authorization": f"Bearer {device}"}).status_code == 403
