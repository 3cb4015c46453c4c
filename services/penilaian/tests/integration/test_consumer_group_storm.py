"""Three penilaian consumer processes in one group, on PostgreSQL and the real broker, through a
storm made to cross them: tasks approved for another ASN (whose partition another consumer holds,
so each batch must lock the task's previous owner), a new policy version and ASN moved to another
agency with its own policy (recomputed between polls), re-sent copies. Mid-run one consumer is
SIGKILLed (its batch rolled back, its partitions handed out again) and a fourth joins (another
rebalance). At the end every score row and ledger equals a single-consumer rebuild of the same
topics, every event is recorded applied exactly once, and PostgreSQL saw no deadlock: every
batch takes its locks in one order (``service_layer.locks``)."""
from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from kinerja.db import normalise_url
from kinerja.events import make_event
from kinerja.events.pegawai import EMPLOYEE_UPSERTED
from kinerja.events.penilaian import POLICY_SET
from kinerja.events.tugas import TASK_APPROVED
from kinerja.messaging.topics import PEGAWAI, PENILAIAN, TUGAS
from kinerja.testing import wait_until
from penilaian.entrypoints.consumer import SKIPPED_TYPES
from penilaian.entrypoints.rebuild import rebuild
from kinerja_testkit.synthetic import generate_month
from kinerja_testkit.penilaian import make_penilaian, publish

pytestmark = [pytest.mark.integration, pytest.mark.slow]

WIB = timezone(timedelta(hours=7))
N_ASN = 24
AGENCY, OTHER = "dinkes", "disdik"


def policy_event(agency: str, version: int, effective_from: date, at: datetime, hasil_kerja: str):
    return make_event(POLICY_SET, subject=agency, agency=agency, source="storm", time=at,
                      data={"policy_id": f"storm-{agency}-{version}", "agency": agency, "version": version,
                            "effective_from": effective_from, "weight_hasil_kerja": Decimal(hasil_kerja),
                            "weight_perilaku": 1 - Decimal(hasil_kerja), "above_from": Decimal("90"),
                            "meets_from": Decimal("70"), "innovation_points": Decimal("5"),
                            "innovation_cap": Decimal("10"), "timeliness_penalty_per_day": Decimal("5"),
                            "distribution_curve": None, "set_by": "storm", "set_at": at})


def storm() -> list:
    month = generate_month(N_ASN, agency=AGENCY, punches=False, seed=13, duplicates=0.03)
    nips, events = month.nips, list(month.events)
    late = datetime(2026, 11, 29, 10, tzinfo=WIB)
    # tasks cross: in pairs of ASN each one's task is approved (later, so the approval wins) for the
    # other, so two batches on different partitions each name one ASN and must lock the other
    moves = []
    for gap, k in ((1, 1), (3, 2), (5, 3)):
        for i in range(0, len(nips) - gap, 2 * gap):
            for a, b in ((nips[i], nips[i + gap]), (nips[i + gap], nips[i])):
                moves.append((TUGAS, make_event(
                    TASK_APPROVED, subject=b, agency=AGENCY, source="storm", time=late + timedelta(minutes=i),
                    data={"task_id": f"{a}-t{k}", "nip": b, "atasan_nip": nips[0], "title": f"Dialihkan {k}",
                          "status": "approved", "due_date": date(2026, 11, 20), "target_quantity": Decimal("5"),
                          "realised_quantity": Decimal("5"), "quality": 80, "submitted_at": late - timedelta(days=1),
                          "approved_at": late + timedelta(minutes=i)})))
    events.append((PENILAIAN, policy_event(AGENCY, 2, date(2026, 11, 1), late, "0.6")))
    events.append((PENILAIAN, policy_event(OTHER, 1, date(2026, 10, 1), late, "0.8")))
    for nip in nips[5:8]:  # moved to the other agency from November
        events.append((PEGAWAI, make_event(
            EMPLOYEE_UPSERTED, subject=nip, agency=OTHER, source="storm", time=datetime(2026, 11, 1, 8, tzinfo=WIB),
            data={"nip": nip, "nama": f"Pindah {nip[-4:]}", "agency": OTHER, "unit": "Bidang 1",
                  "atasan_nip": None, "jabatan": "Staf"})))
    roster = [e for e in events if e[0] == PEGAWAI and e[1].source != "storm"]
    rest = [e for e in events if e not in roster]
    random.Random(5).shuffle(rest)
    return roster + rest + moves  # the moves last, in a burst the whole group takes at once


class Consumers:
    """penilaian's consumer as real processes (``python -m penilaian.entrypoints.consumer``)."""

    def __init__(self, env: dict, logs: Path):
        self.env, self.logs, self.procs = env, logs, []

    def start(self) -> subprocess.Popen:
        n = len(self.procs)
        err = open(self.logs / f"consumer-{n}.log", "wb")
        proc = subprocess.Popen([sys.executable, "-m", "penilaian.entrypoints.consumer"], env=self.env,
                                stdout=subprocess.DEVNULL, stderr=err)
        err.close()
        self.procs.append(proc)
        return proc

    def stop_all(self) -> None:
        for p in self.procs:
            if p.poll() is None:
                p.send_signal(signal.SIGTERM)
        for p in self.procs:
            try:
                p.wait(timeout=60)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()

    def log_text(self) -> str:
        return "\n".join(f.read_text(errors="replace") for f in sorted(self.logs.glob("consumer-*.log")))


def test_three_consumers_through_a_storm_with_rebalances_equal_one_rebuild(postgres_url, kafka_bootstrap,
                                                                          topic_prefix, tmp_path):
    p = make_penilaian(postgres_url, kafka_bootstrap=kafka_bootstrap, topic_prefix=topic_prefix)
    p.runtime.dispose()
    events = storm()
    expected = {e.id for _, e in events if e.type not in SKIPPED_TYPES}
    versions = len({e.id for _, e in events if e.type == POLICY_SET})
    engine = create_engine(normalise_url(postgres_url))

    def scalar(sql: str):
        with engine.connect() as conn:
            return conn.execute(text(sql)).scalar()

    def applied() -> int:
        return scalar("SELECT count(*) FROM processed_events")

    env = {**os.environ, "PENILAIAN_DATABASE_URL": postgres_url, "KINERJA_KAFKA_BOOTSTRAP": kafka_bootstrap,
           "KINERJA_TOPIC_PREFIX": topic_prefix, "PENILAIAN_APPLY_BATCH": "15",
           "PENILAIAN_POLICY_RECOMPUTE_BATCH": "4", "KINERJA_LOG_LEVEL": "INFO",
           "PENILAIAN_CONSUMER_METRICS_PORT": "0"}  # several processes on one host: no metrics port
    group = Consumers(env, tmp_path)
    try:
        roster = [e for e in events if e[0] == PEGAWAI and e[1].source != "storm"]
        publish(kafka_bootstrap, topic_prefix, roster)
        first = [group.start() for _ in range(3)]
        publish(kafka_bootstrap, topic_prefix, events[len(roster):])
        wait_until(lambda: applied() >= len(expected) // 3, 180, interval_s=0.05,
                   message="the group working through the storm")
        first[0].send_signal(signal.SIGKILL)  # in the middle of its work: its open batch rolls back
        first[0].wait(timeout=30)
        killed_at = applied()
        group.start()  # a fourth joins: another rebalance
        wait_until(lambda: applied() == len(expected), 300, interval_s=0.2,
                   message=f"every event applied (of {len(expected)})")
        wait_until(lambda: scalar("SELECT count(*) FROM policy_recomputes WHERE done_at IS NULL") == 0
                   and scalar("SELECT count(*) FROM policy_recomputes") == versions, 120,
                   message="the policy versions recomputed between polls")
    finally:
        group.stop_all()
    assert killed_at < len(expected), "the storm was over before the kill"

    # no event missing, none recorded twice (the ids are the storm's, each once)
    with engine.connect() as conn:
        ids = [r[0] for r in conn.execute(text("SELECT event_id FROM processed_events"))]
        deadlocks = conn.execute(text("SELECT deadlocks FROM pg_stat_database WHERE datname = current_database()")).scalar()
    assert len(ids) == len(set(ids)) and set(ids) == expected
    logs = group.log_text()
    assert "deadlock detected" not in logs.lower() and "LockOrderError" not in logs
    assert deadlocks == 0

    report = rebuild(bootstrap=kafka_bootstrap, prefix=topic_prefix, live_url=postgres_url,
                     target_url=f"sqlite:///{tmp_path / 'rebuilt.db'}")
    assert not report.failed and not report.invalid, report.summary()
    assert report.rows_compared >= N_ASN * 3
    assert report.differences == [], report.summary()
    engine.dispose()
