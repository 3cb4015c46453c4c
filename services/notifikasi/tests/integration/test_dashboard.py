"""The dashboard's files: public, served with a strict CSP, and config.js naming the services."""
from __future__ import annotations

import json

import pytest

from notifikasi.entrypoints.app import create_app

pytestmark = pytest.mark.integration


@pytest.fixture
def client(sqlite_url, monkeypatch):
    monkeypatch.setenv("KEHADIRAN_URL", "http://10.0.0.5:8001/")
    monkeypatch.setenv("PENILAIAN_URL", "https://penilaian.kinerja.lampungselatankab.go.id")
    app = create_app({"database_url": sqlite_url, "kafka_bootstrap": "127.0.0.1:9"})
    yield app.test_client()
    app.extensions["kinerja_runtime"].dispose()


def test_the_pages_need_no_token_and_carry_a_strict_csp(client):
    r = client.get("/dashboard/")
    assert r.status_code == 200 and b"Mengapa skor saya berubah?" in r.data
    csp = r.headers["Content-Security-Policy"]
    assert "script-src 'self'" in csp and "http://10.0.0.5:8001" in csp and "unsafe-inline" not in csp
    assert r.headers["Referrer-Policy"] == "no-referrer"
    for name, kind in (("app.js", "javascript"), ("style.css", "css")):
        r = client.get(f"/dashboard/{name}")
        assert r.status_code == 200 and kind in r.headers["Content-Type"]
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
                      "timezone": "Asia/Jakarta"}


def test_the_api_still_needs_a_token(client):
    assert client.get("/api/v1/notifications").status_code == 401
