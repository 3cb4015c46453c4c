"""The whole system as ``kinerja up`` starts it, for a benchmark: fresh topics, ``kinerja.stack.Stack``
on free ports, registered devices, a roster published through ``pegawai.v1`` and waited for."""
from __future__ import annotations

import time
from datetime import date, datetime, timedelta, timezone
from typing import Callable, Iterable

import requests

from kinerja.auth import issue_token
from kinerja.cli.roster import parse_roster, publish
from kinerja.config import DEV_JWT_SECRET
from kinerja.localbroker import free_port
from kinerja.messaging.topics import ensure_topics
from kinerja.stack import SERVICES, Stack

from benchlib.db import db_count

WIB = timezone(timedelta(hours=7))
ROSTER_HEADER = "nip,nama,agency,unit,jabatan,atasan_nip,pin"


def workdays_back(n: int) -> list[date]:
    """The n most recent Monday–Friday dates before today (WIB), newest first."""
    day, out = datetime.now(WIB).date() - timedelta(days=1), []
    while len(out) < n:
        if day.weekday() <= 4:
            out.append(day)
        day -= timedelta(days=1)
    return out


def start_stack(bootstrap: str, prefix: str, *, partitions: int | None = None, **settings) -> Stack:
    """Topics under ``prefix`` (``partitions`` each, else ``KINERJA_PARTITIONS``) and a ``Stack`` with
    ``settings`` on free ports, started and ready."""
    ensure_topics(bootstrap, prefix=prefix, partitions=partitions)
    stack = Stack(kafka_bootstrap=bootstrap, topic_prefix=prefix, ports={svc: free_port() for svc in SERVICES},
                  **settings)
    stack.start()
    stack.wait_ready(120)
    return stack


def register_devices(stack: Stack, serials: Iterable[str], agency: str, operator_agency: str | None = None) -> None:
    """Register each device with kehadiran (as an operator of ``operator_agency``, else ``agency``)."""
    op = issue_token(DEV_JWT_SECRET, role="operator", agency=operator_agency or agency)
    for sn in serials:
        r = requests.post(f"{stack.url('kehadiran')}/api/v1/devices", json={"sn": sn, "agency": agency, "tz": 7},
                          headers={"Authorization": f"Bearer {op}"}, timeout=30)
        assert r.status_code == 201, r.text


def team_roster(n: int, nip_of: Callable[[int], str], agency: str) -> list[str]:
    """``n`` ASN as roster CSV rows, in blocks of 20 under one atasan (the block's first), PIN i + 1."""
    rows = []
    for i in range(n):
        boss = nip_of(i - i % 20) if i % 20 else ""
        rows.append(f"{nip_of(i)},ASN {i},{agency},Unit {i // 200},{'Kepala' if not boss else 'Analis'},{boss},{i + 1}")
    return rows


def publish_roster(rows: list[str], bootstrap: str, prefix: str) -> None:
    parsed = parse_roster("\n".join([ROSTER_HEADER, *rows]) + "\n")
    assert not parsed.errors, parsed.errors[:3]
    publish(parsed.events, bootstrap, prefix)


def wait_for_roster(urls: dict[str, str], n: int, services: Iterable[str] = ("kehadiran", "penilaian", "notifikasi"),
                    timeout_s: float = 600) -> None:
    """Until every one of ``services`` has ``n`` employees (polled every second)."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        counts = {svc: db_count(urls[svc], "employees") for svc in services}
        if all(c >= n for c in counts.values()):
            return
        time.sleep(1)
    raise SystemExit(f"the roster did not reach every service: {counts}")


def wait_for(predicate: Callable[[], bool], timeout_s: float, what: str, poll_s: float = 0.01) -> float:
    """Seconds until ``predicate`` holds, polled every ``poll_s``."""
    started = time.perf_counter()
    while not predicate():
        if time.perf_counter() - started > timeout_s:
            raise SystemExit(f"timed out after {timeout_s}s waiting until {what}")
        time.sleep(poll_s)
    return time.perf_counter() - started
