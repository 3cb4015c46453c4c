"""The web process as it is deployed: gunicorn, gthread workers, two of them, each with its own
inbox tailer; every stream gets its notification whichever worker holds it."""
import os
import signal
import subprocess
import sys

import pytest
import requests

from kinerja.localbroker import free_port
from kinerja.testing import wait_until
from kinerja_testkit.notifikasi import ASN, ATASAN, SseClient, score_event, token

pytestmark = [pytest.mark.integration, pytest.mark.slow]


@pytest.fixture
def gunicorn(migrated, tmp_path):
    port = free_port()
    env = {**os.environ, "NOTIFIKASI_DATABASE_URL": migrated, "NOTIFIKASI_BIND": f"127.0.0.1:{port}",
           "NOTIFIKASI_WORKERS": "2", "NOTIFIKASI_THREADS": "16", "NOTIFIKASI_SSE_HEARTBEAT_S": "0.3",
           "NOTIFIKASI_SSE_POLL_S": "0.05", "NOTIFIKASI_GRACEFUL_TIMEOUT": "30"}
    log = open(tmp_path / "gunicorn.log", "wb")
    proc = subprocess.Popen([sys.executable, "-m", "gunicorn", "-c", "python:notifikasi.entrypoints.gunicorn_conf",
                             "notifikasi.entrypoints.app:create_app()"], env=env, stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"

    def healthy():
        assert proc.poll() is None, (tmp_path / "gunicorn.log").read_text()
        return requests.get(url + "/healthz", timeout=2).status_code == 200

    try:
        wait_until(healthy, 30, message="gunicorn answering")
        yield url, proc
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(20)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(10)
        log.close()


def test_streams_under_gunicorn_gthread(gunicorn, writer, tmp_path):
    url, proc = gunicorn
    writer.roster()
    clients = [SseClient(url + "/api/v1/stream", token=token(ASN)) for _ in range(6)]
    secret_token = token(ATASAN, role="atasan")
    clients.append(SseClient(url + "/api/v1/stream", params={"access_token": secret_token}))
    try:
        assert all(c.response.status_code == 200 for c in clients)
        rows = writer.apply(score_event(ASN))
        for c in clients[:6]:
            assert c.next_event(timeout_s=15)["id"] == rows[0]["id"]
        assert clients[6].next_event(timeout_s=15)["id"] == rows[1]["id"]
        assert clients[0].next_comment() == "terhubung"
        assert clients[0].next_comment(timeout_s=5) == "heartbeat"
    finally:
        for c in clients[1:]:
            c.close()
    # SIGTERM with a stream still open: the worker ends its streams at once instead of sitting
    # out the graceful timeout (30 s here)
    proc.send_signal(signal.SIGTERM)
    assert clients[0].ended.wait(10)
    assert proc.wait(10) == 0
    clients[0].close()
    log = (tmp_path / "gunicorn.log").read_text()
    assert "GET /api/v1/stream HTTP/1.1\" 200" in log and secret_token not in log
