"""Kafka down does not stop ingest: devices keep getting ``OK:`` while the broker is stopped, and
when it is back every punch reaches penilaian exactly once (the outbox drains, nothing doubles)."""
from __future__ import annotations

import shutil
import tempfile
from datetime import date, timedelta
from pathlib import Path

import pytest
import requests

from kinerja.auth import issue_token
from kinerja.cli.roster import parse_roster, publish
from kinerja.config import DEV_JWT_SECRET
from kinerja.localbroker import LocalBroker, find_kafka_home, free_port
from kinerja.testing import wait_until

pytestmark = pytest.mark.e2e
AGENCY = "disdik-outage"
ATASAN = "197910022009031002"
STAFF = [f"19850312201001{i:04d}" for i in range(1, 6)]


def previous_month_workdays(n: int) -> list[date]:
    first_of_this = date.today().replace(day=1)
    d = first_of_this - timedelta(days=1)
    out = []
    while len(out) < n:
        if d.weekday() <= 3:
            out.append(d)
        d -= timedelta(days=1)
    return sorted(out)


@pytest.fixture
def own_broker():
    """A broker of this test's own, since the test stops it."""
    data = Path(tempfile.mkdtemp(prefix="kinerja-outage-"))
    broker = LocalBroker(home=find_kafka_home(), data_dir=data, port=free_port(), controller_port=free_port())
    broker.start()
    yield broker
    broker.stop()
    shutil.rmtree(data, ignore_errors=True)


@pytest.fixture
def stack(own_broker, running_stack):
    return running_stack(kafka_bootstrap=own_broker.bootstrap, services=("kehadiran", "penilaian"))


def test_devices_get_ok_while_kafka_is_down_and_every_punch_is_scored_once(own_broker, stack):
    operator = {"Authorization": "Bearer " + issue_token(DEV_JWT_SECRET, role="operator", agency="*")}
    r = requests.post(f"{stack.url('kehadiran')}/api/v1/devices", json={"sn": "ZK0001", "agency": AGENCY, "tz": 7},
                      headers=operator, timeout=10)
    assert r.status_code == 201
    csv = "nip,nama,agency,unit,jabatan,atasan_nip,pin\n" + f"{ATASAN},Kepala,{AGENCY},Umum,Kepala,,900\n" + "".join(
        f"{nip},ASN {i},{AGENCY},Umum,Staf,{ATASAN},{i + 1}\n" for i, nip in enumerate(STAFF))
    publish(parse_roster(csv).events, own_broker.bootstrap)
    days = previous_month_workdays(3)
    period = days[0].strftime("%Y-%m")

    own_broker.stop()
    # a storm of uploads from the terminal while the broker is away: each answered OK
    lines = [f"{i + 1}\t{day:%Y-%m-%d} 07:45:00\t0\t1\t0\t0\t0" for i in range(len(STAFF)) for day in days]
    for chunk in (lines[:5], lines[5:], lines):  # the last one re-sends everything
        r = requests.post(f"{stack.url('kehadiran')}/iclock/cdata", params={"SN": "ZK0001", "table": "ATTLOG"},
                          data="\n".join(chunk), timeout=15)
        assert r.status_code == 200 and r.text == f"OK:{len(chunk)}"
    # readiness caches its Kafka probe for a moment: poll until it has noticed
    ready = wait_until(lambda: (lambda r: r if r.json()["status"] == "degraded" else None)(
        requests.get(f"{stack.url('kehadiran')}/readyz", timeout=5)), 15, interval_s=0.2,
        message="kehadiran's readiness to notice Kafka is away")
    assert ready.status_code == 200 and "kafka" in ready.json()["problems"]
    assert requests.get(f"{stack.url('kehadiran')}/readyz?strict=1", timeout=5).status_code == 503

    own_broker.start()
    mine = {nip: {"Authorization": "Bearer " + issue_token(DEV_JWT_SECRET, role="pegawai", agency=AGENCY, nip=nip)}
            for nip in STAFF}

    def all_scored():
        for nip in STAFF:
            r = requests.get(f"{stack.url('penilaian')}/api/v1/scores/{nip}", params={"period": period},
                             headers=mine[nip], timeout=10)
            if r.status_code != 200 or r.json()["disiplin"]["score"] != 100 - 3 * 2.5:
                return False
        return True

    # before restart the punches may have been quarantined (roster not yet read): either way
    wait_until(all_scored, 120, interval_s=0.5, message="every ASN scored 92.5 after the broker returned")
    for nip in STAFF:
        s = requests.get(f"{stack.url('penilaian')}/api/v1/scores/{nip}", params={"period": period},
                         headers=mine[nip], timeout=10).json()
        entries = sorted((d["date"], d["code"]) for d in s["disiplin"]["deductions"])
        assert entries == sorted([(d.isoformat(), "TL1") for d in days] + [(d.isoformat(), "PSW4") for d in days])
