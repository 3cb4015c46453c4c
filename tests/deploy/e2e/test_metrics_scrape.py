"""Every running process's Prometheus metrics, scraped while events flow: the four web apps'
/metrics (request latency by route, open streams) and the consumers', relays' and webhook
dispatcher's own metrics ports (events applied by type, duplicates, DLQ, lag per partition,
published, outbox depth and age)."""
from __future__ import annotations

import time
from datetime import datetime, timedelta, timezone

import pytest
import requests
from kafka import KafkaProducer

from kinerja.auth import issue_token
from kinerja.cli.roster import parse_roster, publish
from kinerja.config import DEV_JWT_SECRET
from kinerja.localbroker import free_port
from kinerja.stack import ROLES, Stack
from kinerja.testing import test_failed, wait_until

pytestmark = [pytest.mark.e2e, pytest.mark.slow]
AGENCY = "disdik-metrics"
ATASAN, ASN = "197910022009031002", "198102082004121003"
WIB = timezone(timedelta(hours=7))
SERVICES = ("kehadiran", "tugas", "penilaian", "notifikasi")
PROCESS_ROLES = ("consumer", "relay", "webhooks")


def scrape(url: str) -> dict[tuple[str, frozenset], float]:
    """{(name, labels): value} of a Prometheus text exposition."""
    out = {}
    for line in requests.get(url, timeout=5).text.splitlines():
        if not line or line.startswith("#"):
            continue
        head, value = line.rsplit(" ", 1)
        name, _, rest = head.partition("{")
        labels = frozenset(tuple(kv.split("=", 1)) for kv in rest.rstrip("}").replace('"', "").split(",") if kv)
        out[(name, labels)] = float(value)
    return out


def total(samples, name, **labels) -> float:
    want = {(k, str(v)) for k, v in labels.items()}
    return sum(v for (n, lbl), v in samples.items() if n == name and want <= lbl)


def present(samples, name) -> bool:
    return any(n == name for n, _ in samples)


@pytest.fixture
def stack(kafka_bootstrap, topic_prefix, tmp_path, request):
    metrics_ports = {f"{svc}-{role}": free_port() for svc in SERVICES for role in ROLES[svc] if role in PROCESS_ROLES}
    s = Stack(var_dir=tmp_path / "var", kafka_bootstrap=kafka_bootstrap, topic_prefix=topic_prefix,
              ports={svc: free_port() for svc in SERVICES},
              extra_env={**{f"{name.replace('-', '_').upper()}_METRICS_PORT": str(port)
                            for name, port in metrics_ports.items()},
                         "NOTIFIKASI_SSE_HEARTBEAT_S": "1"})
    s.metrics_ports = metrics_ports
    s.start()
    try:
        s.wait_ready(90)
        yield s
    finally:
        if test_failed(request):
            for p in s.procs:
                print(f"--- {p.name}\n{s.tail(p, 40)}")
        s.stop()


def token(role, nip=None, **kw):
    return issue_token(DEV_JWT_SECRET, role=role, agency=AGENCY, nip=nip, **kw)


def scrape_all(stack):
    out = {f"{svc}-web": scrape(f"{stack.url(svc)}/metrics") for svc in SERVICES}
    for name, port in stack.metrics_ports.items():
        out[name] = scrape(f"http://127.0.0.1:{port}/metrics")
    return out


def test_every_process_exposes_its_metrics_and_they_move_while_events_flow(stack):
    group = lambda svc: f"{stack.topic_prefix}.{svc}"  # noqa: E731 - consumer groups carry the prefix
    wait_until(lambda: scrape_all(stack), 30, message="every metrics endpoint answers")
    before = scrape_all(stack)
    assert set(before) == {f"{s}-web" for s in SERVICES} | set(stack.metrics_ports)

    # the roster twice (the second time every consumer sees duplicates), a device, a punch
    csv = ("nip,nama,agency,unit,jabatan,atasan_nip,pin\n"
           f"{ATASAN},Citra,{AGENCY},Bidang GTK,Kepala Bidang,,2\n"
           f"{ASN},Taufik,{AGENCY},Bidang GTK,Analis,{ATASAN},3\n")
    roster = parse_roster(csv).events
    publish(roster, stack.kafka_bootstrap, stack.topic_prefix)
    publish(roster, stack.kafka_bootstrap, stack.topic_prefix)
    # an undecodable message on kehadiran.v1: penilaian and notifikasi send it to the DLQ
    producer = KafkaProducer(bootstrap_servers=stack.kafka_bootstrap)
    producer.send(f"{stack.topic_prefix}.kehadiran.v1", key=ASN.encode(), value=b"not an event").get(timeout=30)
    producer.close()
    r = requests.post(f"{stack.url('kehadiran')}/api/v1/devices", json={"sn": "MET01", "agency": AGENCY, "tz": 7},
                      headers={"Authorization": f"Bearer {token('operator')}"}, timeout=10)
    assert r.status_code == 201, r.text
    stream = requests.get(f"{stack.url('notifikasi')}/api/v1/stream", stream=True, timeout=(5, 60),
                          headers={"Authorization": f"Bearer {token('pegawai', ASN)}"})
    try:
        assert stream.status_code == 200
        day = datetime.now(WIB).date() - timedelta(days=1)
        while day.weekday() > 3:  # a Monday-Thursday that is over, as in tests/e2e/test_thin_slice.py
            day -= timedelta(days=1)
        when = datetime(day.year, day.month, day.day, 7, 45, tzinfo=WIB)
        r = requests.post(f"{stack.url('kehadiran')}/api/v1/punches", timeout=10,
                          headers={"Authorization": f"Bearer {token('device', device_sn='MET01')}"},
                          json={"punches": [{"pin": "3", "time": when.isoformat()}]})
        assert r.status_code == 200, r.text

        def moved():
            now = scrape_all(stack)
            checks = {
                "punch latency by route": total(now["kehadiran-web"], "kinerja_http_request_duration_seconds_count",
                                                route="/api/v1/punches", method="POST", status=200) >= 1,
                "penilaian applied a day summary": total(now["penilaian-consumer"], "kinerja_consumer_events_applied_total",
                                                         group=group("penilaian"), type="kehadiran.day.summarized.v1") >= 1,
                "notifikasi applied a score": total(now["notifikasi-consumer"], "kinerja_consumer_events_applied_total",
                                                    type="penilaian.score.updated.v1") >= 1,
                "kehadiran relay published": total(now["kehadiran-relay"], "kinerja_relay_published_total",
                                                   service="kehadiran") >= 2,
                "penilaian relay published": total(now["penilaian-relay"], "kinerja_relay_published_total",
                                                   service="penilaian") >= 1,
                "dead-lettered": total(now["penilaian-consumer"], "kinerja_consumer_dead_lettered_total") >= 1,
                "open streams": total(now["notifikasi-web"], "kinerja_sse_streams_open") >= 1,
            }
            for svc in SERVICES:
                checks[f"{svc} duplicates"] = total(now[f"{svc}-consumer"], "kinerja_consumer_duplicates_total",
                                                    group=group(svc), topic=f"{stack.topic_prefix}.pegawai.v1") >= 2
                checks[f"{svc} lag per partition"] = present(now[f"{svc}-consumer"], "kinerja_consumer_lag")
            for svc in ("kehadiran", "tugas", "penilaian"):
                checks[f"{svc} outbox gauges"] = (present(now[f"{svc}-relay"], "kinerja_outbox_pending")
                                                  and present(now[f"{svc}-relay"], "kinerja_outbox_oldest_age_seconds"))
            moved.last = {k: v for k, v in checks.items() if not v}
            return now if all(checks.values()) else None

        moved.last = {}
        try:
            after = wait_until(moved, 45, interval_s=0.5, message="every named metric to move")
        except AssertionError as exc:
            raise AssertionError(f"{exc}; not moved: {sorted(moved.last)}") from None
    finally:
        stream.close()
    # counters only go up, and the ones that moved started lower
    assert total(after["kehadiran-web"], "kinerja_http_request_duration_seconds_count") > \
        total(before["kehadiran-web"], "kinerja_http_request_duration_seconds_count")
    assert total(after["kehadiran-relay"], "kinerja_relay_published_total") > \
        total(before["kehadiran-relay"], "kinerja_relay_published_total")
    # lag is per partition of every topic a consumer reads, and drained (0) once it has caught up
    lag = {lbl for (n, lbl) in after["penilaian-consumer"] if n == "kinerja_consumer_lag"}
    assert {dict(lbl)["topic"] for lbl in lag} == {f"{stack.topic_prefix}.{t}" for t in ("kehadiran.v1", "tugas.v1", "pegawai.v1",
                                                                                       "penilaian.v1")}

    def drained():
        samples = scrape(f"http://127.0.0.1:{stack.metrics_ports['penilaian-consumer']}/metrics")
        return total(samples, "kinerja_consumer_lag") == 0

    wait_until(drained, 20, interval_s=0.5, message="penilaian's lag back to 0")
    # the stream closed: the gauge comes back down
    wait_until(lambda: total(scrape(f"{stack.url('notifikasi')}/metrics"), "kinerja_sse_streams_open") == 0, 20,
               interval_s=0.2, message="no open streams")
