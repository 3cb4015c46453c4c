"""kehadiran's own code around a test's app: a registered device and a roster, as an operator's
request and the pegawai consumer would leave them; the past workdays a test's punches fall on;
ATTLOG lines posted as a device does, and the day summaries' versions the outbox then holds."""
from __future__ import annotations

import json
from collections import defaultdict
from contextlib import contextmanager
from datetime import date, datetime, timedelta, timezone

from sqlalchemy import select

from kehadiran.entrypoints.app import create_app
from kehadiran.entrypoints.migrate import main as migrate
from kehadiran.entrypoints.runtime import settle_days
from kehadiran.service_layer.roster import apply_roster_event
from kinerja.events import make_event
from kinerja.events.pegawai import EMPLOYEE_UPSERTED
from kinerja.webapp import runtime_of


def device_and_roster(app, staff, *, sn: str, agency: str, operator: dict, unit: str = "Umum") -> None:
    """Register device ``sn`` (UTC+7) for ``agency`` and put ``staff`` — (NIP, PIN) pairs — on the roster."""
    r = app.test_client().post("/api/v1/devices", json={"sn": sn, "agency": agency, "tz": 7}, headers=operator)
    assert r.status_code == 201, r.json
    runtime = runtime_of(app)
    for nip, pin in staff:
        ev = make_event(EMPLOYEE_UPSERTED, subject=nip, agency=agency, source="test",
                        data={"nip": nip, "nama": "X", "agency": agency, "unit": unit, "pin": pin})
        with runtime.session() as s, s.begin():
            apply_roster_event(s, ev, agency_tz="Asia/Jakarta")


@contextmanager
def app_with_roster(database_url: str, staff, *, sn: str, agency: str, operator: dict):
    """A kehadiran app on a migrated ``database_url`` (no broker) with ``device_and_roster`` done and
    the roster's days settled; its runtime disposed at the end."""
    migrate(database_url)
    app = create_app({"database_url": database_url, "kafka_bootstrap": "127.0.0.1:1"})
    runtime = runtime_of(app)
    device_and_roster(app, staff, sn=sn, agency=agency, operator=operator)
    settle_days(runtime)
    try:
        yield app
    finally:
        runtime.dispose()


WIB = timezone(timedelta(hours=7))


def past_workdays(n: int) -> list[date]:
    """The ``n`` latest Monday–Thursday workdays (WIB) ending two days ago, oldest first: closed
    days whatever the hour the test runs, all with the same working hours (no Friday, no weekend)."""
    day, out = datetime.now(WIB).date() - timedelta(days=2), []
    while len(out) < n:
        if day.weekday() <= 3:
            out.append(day)
        day -= timedelta(days=1)
    return sorted(out)


def attlog_line(pin, day, hh: int, mm: int, status: int = 0) -> str:
    """One ATTLOG line of ``pin`` at ``day`` hh:mm (device time), as a terminal sends it."""
    return f"{pin}\t{day} {hh:02d}:{mm:02d}:00\t{status}\t1\t0\t0\t0"


def post_attlog(client, lines: list[str], *, sn: str) -> None:
    """``lines`` posted by device ``sn``, every one accepted."""
    r = client.post(f"/iclock/cdata?SN={sn}&table=ATTLOG", data="\n".join(lines).encode(), content_type="text/plain")
    assert r.status_code == 200 and r.text == f"OK:{len(lines)}", r.text


def day_event_versions(runtime) -> dict[tuple[str, str], list[int]]:
    """(NIP, date) -> the versions of its ``kehadiran.day.summarized.v1`` events in the outbox, in id order."""
    table = runtime.outbox_table
    with runtime.engine.connect() as c:
        values = c.execute(select(table.c.value).order_by(table.c.id)).scalars().all()
    versions = defaultdict(list)
    for v in map(json.loads, values):
        if v["type"] == "kehadiran.day.summarized.v1":
            versions[(v["data"]["nip"], v["data"]["date"])].append(v["data"]["version"])
    return versions
