"""An ATTLOG upload on SQLite reads its lines before it takes the file's one write lock (every
other writer of kehadiran waits for that lock: the other uploads, the day worker, the relay
marking rows sent), and answers as before: the good lines kept, the malformed ones and those from
the device's future reported in line order."""
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

import kehadiran.adapters.adms as adms
from kehadiran.entrypoints.app import create_app
from kehadiran.service_layer.roster import apply_roster_event
from kinerja.auth import issue_token
from kinerja.config import DEV_JWT_SECRET
from kinerja.events import make_event
from kinerja.events.pegawai import EMPLOYEE_UPSERTED
from kinerja.migrations import upgrade
from kinerja.testing.counting import sqlite_write_lock_free as write_lock_free
from kinerja.webapp import runtime_of

pytestmark = pytest.mark.integration
MIGRATIONS = Path(__file__).resolve().parents[2] / "migrations"
AGENCY, SN, NIP = "disdik", "0316144680031", "198503122010011001"
WIB = timezone(timedelta(hours=7))
OPERATOR = {"Authorization": "Bearer " + issue_token(DEV_JWT_SECRET, role="operator", agency="*")}


def test_an_attlog_upload_is_parsed_while_the_write_lock_is_free(tmp_path, monkeypatch):
    path = tmp_path / "kehadiran.db"
    url = f"sqlite:///{path}"
    upgrade(MIGRATIONS, url, "heads")
    app = create_app({"database_url": url, "kafka_bootstrap": "127.0.0.1:1"})
    client = app.test_client()
    try:
        r = client.post("/api/v1/devices", json={"sn": SN, "agency": AGENCY, "tz": 7, "name": "Lobi"},
                        headers=OPERATOR)
        assert r.status_code == 201, r.json
        event = make_event(EMPLOYEE_UPSERTED, subject=NIP, agency=AGENCY, source="test",
                           data={"nip": NIP, "nama": "X", "agency": AGENCY, "unit": "Sekretariat", "pin": "100"})
        runtime = runtime_of(app)
        with runtime.session() as s, s.begin():
            apply_roster_event(s, event, agency_tz="Asia/Jakarta")

        lock_free_while_parsing: list[bool] = []
        parse = adms.parse_attlog

        def probed(body, **kw):
            lock_free_while_parsing.append(write_lock_free(path))
            return parse(body, **kw)

        monkeypatch.setattr(adms, "parse_attlog", probed)
        now_local = datetime.now(WIB).replace(microsecond=0, tzinfo=None)
        body = (f"100\t{now_local - timedelta(minutes=1):%Y-%m-%d %H:%M:%S}\t0\t1\t0\t0\t0\n"
                "100\tnot a time\t0\t1\t0\t0\t0\n"
                f"100\t{now_local + timedelta(days=2):%Y-%m-%d %H:%M:%S}\t0\t1\t0\t0\t0\n"
                f"100\t{now_local - timedelta(minutes=2):%Y-%m-%d %H:%M:%S}\t0\t1\t0\t0\t0\n")
        r = client.post(f"/iclock/cdata?SN={SN}&table=ATTLOG", data=body, content_type="text/plain")
        assert (r.status_code, r.get_data(as_text=True)) == (200, "OK:2")
        # before: the lines were parsed inside the request's transaction, holding the lock (a
        # malformed upload is parsed twice: by the lean path, then by the view it leaves it to)
        assert lock_free_while_parsing and all(lock_free_while_parsing), lock_free_while_parsing

        status = client.get(f"/api/v1/devices/{SN}/status", headers=OPERATOR).json
        assert [(e["line"], e["reason"]) for e in status["last_rejected"]] == [
            (2, "TIME must be YYYY-MM-DD HH:MM:SS"), (3, "TIME is more than a day in the future")]
        assert status["received_today"] == 2
    finally:
        runtime_of(app).dispose()
