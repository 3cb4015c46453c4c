"""kehadiran's web app with two gunicorn workers, as ``KEHADIRAN_WEB_WORKERS=2 kinerja up`` starts
it, on SQLite and on PostgreSQL: single-punch ADMS requests from many devices at once are served by
both worker processes (each made its own engine after the fork; on SQLite they take the write lock
in turns across processes), every punch is stored once however often it is sent, and ``/metrics``
counts the requests of both workers, not only those of the worker that answers the scrape."""
from __future__ import annotations

import re
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import date, timedelta
from pathlib import Path

import pytest
import requests
from prometheus_client.multiprocess import MultiProcessCollector
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import create_engine, text

from kinerja.auth import issue_token
from kinerja.config import DEV_JWT_SECRET
from kinerja.db import normalise_url
from kinerja.testing import wait_until

pytestmark = pytest.mark.e2e

DEVICES = 8
ROUND = 24  # punches sent at once, each on a connection of its own (either worker may accept it)
DAY = date.today() - timedelta(days=1)


def worker_pids(log: Path) -> set[str]:
    return set(re.findall(r"Booting worker with pid: (\d+)", log.read_text(errors="replace")))


def cdata_count(families) -> float:
    return sum(sample.value for family in families for sample in family.samples
               if sample.name == "kinerja_http_request_duration_seconds_count"
               and sample.labels["route"] == "/iclock/cdata")


def served_by(metrics_dir: Path, pid: str) -> float:
    """``/iclock/cdata`` requests worker ``pid`` has counted (its own file, multiprocess mode)."""
    files = [str(f) for f in metrics_dir.glob(f"histogram_{pid}.db")]
    return cdata_count(MultiProcessCollector.merge(files)) if files else 0


def test_two_web_workers_share_the_punches_store_each_once_and_metrics_count_both(running_stack, database_url):
    # database_url: kinerja.testing's fixture, a fresh database on SQLite, then on PostgreSQL
    stack = running_stack(services=("kehadiran",), database_urls={"kehadiran": database_url},
                          extra_env={"KEHADIRAN_WEB_WORKERS": "2", "KEHADIRAN_WEB_THREADS": "4"})
    url = stack.url("kehadiran")
    operator = issue_token(DEV_JWT_SECRET, role="operator", agency="ww")
    for c in range(DEVICES):
        r = requests.post(f"{url}/api/v1/devices", json={"sn": f"WW{c:04d}", "agency": "ww", "tz": 7},
                          headers={"Authorization": f"Bearer {operator}"}, timeout=30)
        assert r.status_code == 201, r.text

    def punch(i: int) -> str:
        line = f"{100 + i}\t{DAY} 07:{i % 60:02d}:{i // 60:02d}\t0\t1\t0\t0\t0\n"
        r = requests.post(f"{url}/iclock/cdata?SN=WW{i % DEVICES:04d}&table=ATTLOG&Stamp=1", data=line,
                          headers={"User-Agent": "iClock Proxy/1.09", "Connection": "close"}, timeout=60)
        assert r.status_code == 200, r.text
        return r.text

    log = stack.process("kehadiran-web").log
    pids = wait_until(lambda: len(worker_pids(log)) == 2 and worker_pids(log), 60, message="two workers booted")
    metrics_dir = stack.var_dir / "metrics" / "kehadiran"
    sent = 0
    deadline = time.monotonic() + 120
    # rounds until each worker has served punches (the kernel hands each new connection to either)
    while not all(served_by(metrics_dir, pid) for pid in pids):
        assert time.monotonic() < deadline, f"one worker served every punch: {sorted(metrics_dir.glob('*'))}"
        with ThreadPoolExecutor(8) as pool:
            assert set(pool.map(punch, range(sent, sent + ROUND))) == {"OK:1"}
        sent += ROUND
    with ThreadPoolExecutor(8) as pool:  # every punch again: each is a duplicate now, wherever it lands
        assert set(pool.map(punch, range(sent))) == {"OK:1"}

    engine = create_engine(normalise_url(database_url))
    try:
        with engine.connect() as conn:
            stored = conn.execute(text("SELECT count(*), count(DISTINCT person_key) FROM punches")).one()
    finally:
        engine.dispose()
    assert tuple(stored) == (sent, sent)
    # whichever worker answers the scrape, it counts both workers' requests
    for _ in range(4):
        assert cdata_count(text_string_to_metric_families(requests.get(url + "/metrics", timeout=30).text)) == 2 * sent
