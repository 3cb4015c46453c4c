"""SQLite: a batch's look-up of the punches its device stored already (``punch_store.stored_keys``)
probes the punch identity's index once a key, counted in SQLite's virtual-machine steps (a count,
not a time). ``person_key IN (...) AND device_time IN (...)`` probed every pair of the two lists'
product: a 200-punch JSON request took 1,777 steps a punch in all, 176 with the keys joined as a
VALUES list (a 100-line ADMS upload 977 -> 176)."""
from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from kehadiran.adapters.punch_store import stored_keys
from kehadiran.service_layer.ingest import DeviceRef, PunchInput, record_punches
from kinerja.auth import issue_token
from kinerja.config import DEV_JWT_SECRET
from kinerja.webapp import runtime_of

pytestmark = pytest.mark.integration
AGENCY = "disdik"
SN = "LMS0001"
OPERATOR = {"Authorization": "Bearer " + issue_token(DEV_JWT_SECRET, role="operator", agency="*")}
STAFF = [(f"19850312201001{k:04d}", str(100 + k)) for k in range(200)]
# steps a key of this 200-key look-up: 15.6 measured (3,112); the product of the lists took 822 (164,313)
STEPS_A_KEY = 20


def test_a_batch_look_up_probes_each_key_once(sqlite_app):
    engine = runtime_of(sqlite_app).engine
    start = datetime(2026, 11, 2, 7, 0)
    keys = [(pin, start + timedelta(seconds=k)) for k, (_nip, pin) in enumerate(STAFF)]
    device = DeviceRef(SN, AGENCY, 7 * 60)
    with engine.connect() as conn:
        record_punches(conn, device, [PunchInput(pin, when) for pin, when in keys[::2]], channel="adms",
                       agency_tz="Asia/Jakarta")
        conn.commit()
    steps = [0]

    def step() -> int:
        steps[0] += 1
        return 0

    with engine.connect() as conn:
        dbapi_conn = conn.connection.dbapi_connection
        dbapi_conn.set_progress_handler(step, 1)
        try:
            found = stored_keys(conn, SN, keys)
        finally:
            dbapi_conn.set_progress_handler(None, 1)
        assert stored_keys(conn, "OTHER", keys) == set()
    assert found == set(keys[::2])
    assert steps[0] <= STEPS_A_KEY * len(keys), steps[0]
