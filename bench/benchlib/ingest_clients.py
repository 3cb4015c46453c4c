"""bench_ingest's clients, and day_drain's: terminals that upload ADMS ``ATTLOG`` batches and
device clients that post JSON batches of punches, each on one keep-alive connection of its own
(``benchlib.keepalive``), threads in parallel. A run returns the punches the server accepted
(new, duplicates and quarantined alike: each was stored or known), so the caller can check them
against the rows stored. Every punch is an arrival on a Monday-morning rush: PIN ``n`` at
07:10-07:49 local time, spread by its number."""
from __future__ import annotations

import json
from concurrent.futures import ThreadPoolExecutor
from datetime import date, datetime, timedelta

from kinerja.auth import issue_token
from kinerja.config import DEV_JWT_SECRET

from benchlib.keepalive import KeepAlive

AGENCY = "bench"


def sn(c: int) -> str:
    return f"BENCH{c:04d}"


def chunks(seq: list, size: int):
    for i in range(0, len(seq), size):
        yield seq[i:i + size]


def arrival(pin: int, day: date) -> datetime:
    return datetime.combine(day, datetime.min.time()) + timedelta(hours=7, minutes=10 + pin % 40, seconds=pin % 60)


def adms_run(url: str, day: date, people: range, devices: int, batch: int) -> int:
    def device(c: int) -> int:
        lines = [f"{pin}\t{arrival(pin, day):%Y-%m-%d %H:%M:%S}\t0\t1\t0\t0\t0" for pin in people[c::devices]]
        accepted = 0
        with KeepAlive(url, {"User-Agent": "iClock Proxy/1.09"}) as http:
            for part in chunks(lines, batch):
                status, body = http.post(f"/iclock/cdata?SN={sn(c)}&table=ATTLOG&Stamp=1",
                                         ("\n".join(part) + "\n").encode(), "text/plain")
                assert status == 200 and body.startswith(b"OK:"), body
                accepted += int(body[3:])
        return accepted

    with ThreadPoolExecutor(devices) as pool:
        return sum(pool.map(device, range(devices)))


def json_run(url: str, day: date, people: range, clients: int, batch: int) -> int:
    def client(c: int) -> int:
        token = issue_token(DEV_JWT_SECRET, role="device", agency=AGENCY, device_sn=sn(c))
        items = [{"pin": str(pin), "time": arrival(pin, day).isoformat() + "+07:00"} for pin in people[c::clients]]
        accepted = 0
        with KeepAlive(url, {"Authorization": f"Bearer {token}"}) as http:
            for part in chunks(items, batch):
                status, raw = http.post("/api/v1/punches", json.dumps({"punches": part}).encode(), "application/json")
                assert status == 200, raw
                body = json.loads(raw)
                accepted += body["accepted"] + body["duplicates"] + body["quarantined"]
        return accepted

    with ThreadPoolExecutor(clients) as pool:
        return sum(pool.map(client, range(clients)))
