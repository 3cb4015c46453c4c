"""Issue 15, item 3: no access log of any service holds a token. Each web process is started the
way ``kinerja up`` (``make run``) starts it, under gunicorn, and asked with a token in the query
string (the stream's way, and refused elsewhere) and in the Authorization header; its log is read."""
from __future__ import annotations

import pytest
import requests

from kinerja.localbroker import free_port
from kinerja.stack import Stack
from kinerja.testing import wait_until

from .world import ADMIN, AGENCY, VICTIM, token

pytestmark = [pytest.mark.integration, pytest.mark.slow]

SERVICES = ("kehadiran", "tugas", "penilaian", "notifikasi")
# a protected GET of each service
PATHS = {"kehadiran": "/api/v1/devices", "tugas": "/api/v1/tasks", "penilaian": f"/api/v1/scores/{VICTIM}",
         "notifikasi": "/api/v1/stream"}


@pytest.fixture(scope="module")
def stack(tmp_path_factory):
    var = tmp_path_factory.mktemp("logs-stack")
    ports = {svc: free_port() for svc in SERVICES}
    st = Stack(var_dir=var, kafka_bootstrap="127.0.0.1:1", ports=ports,
               database_urls={svc: f"sqlite:///{var / (svc + '.db')}" for svc in SERVICES},
               extra_env={"NOTIFIKASI_SSE_HEARTBEAT_S": "0.2"})  # a closed stream is noticed (and logged) at once
    # the requests below are refused before any database is read, except the stream's
    st.services = ("notifikasi",)
    st.migrate()
    st.services = SERVICES
    for svc in SERVICES:
        st.start_process(svc, "web")
    try:
        for svc in SERVICES:
            wait_until(lambda svc=svc: _healthy(st, svc), 60, message=f"{svc} web answering")
        yield st
    finally:
        st.stop()


def _healthy(st, svc) -> bool:
    proc = st.process(f"{svc}-web")
    assert proc.popen.poll() is None, st.tail(proc)
    try:
        return requests.get(st.url(svc) + "/healthz", timeout=2).status_code == 200
    except requests.RequestException:
        return False


@pytest.mark.parametrize("service", SERVICES)
def test_no_access_log_holds_a_token(stack, service, security_report):
    query_token = token("admin", AGENCY, ADMIN) if service != "notifikasi" else token("pegawai", AGENCY, VICTIM)
    header_token = token("admin", AGENCY, ADMIN)
    url = stack.url(service) + PATHS[service]
    with requests.get(url, params={"access_token": query_token}, stream=True, timeout=10) as resp:
        first = resp.status_code
    requests.get(url.replace("/stream", "/notifications"), headers={"Authorization": f"Bearer {header_token}"},
                 timeout=10).close()
    # the name spelt with an escape is the same parameter to the app, and to the log's redaction
    requests.get(stack.url(service) + "/healthz?access%5Ftoken=" + query_token, timeout=10).close()
    log_path = stack.process(f"{service}-web").log
    wait_until(lambda: log_path.read_text(errors="replace").count(PATHS[service].split("/")[3]) >= 1, 10,
               message="the request logged")
    wait_until(lambda: "/healthz" in log_path.read_text(errors="replace"), 10, message="the last request logged")
    log = log_path.read_text(errors="replace")
    leaked = query_token in log or header_token in log
    security_report.attempt("token in an access log", service, "GET", PATHS[service], status=first,
                            got_through="token written to the access log" if leaked else None)
    assert not leaked, [line for line in log.splitlines() if query_token in line or header_token in line][:3]
    assert (first == 200) == (service == "notifikasi"), first  # the stream alone takes it
