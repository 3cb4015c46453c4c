"""What follows an ingest run, timed from its last answer: every ASN-day of the run summarised in
kehadiran's outbox (the day worker's work: the issue's "day summaries after the last punch of a
20,000-line upload"), then applied by penilaian (relay, broker, penilaian's consumer), so the
pipeline behind the ingest is held to account too; and each punch's arrival to its day's record."""
from __future__ import annotations

from datetime import date, datetime, timedelta, timezone

from sqlalchemy import text

from benchlib.db import Db
from benchlib.system import wait_for

# the newest marker, through the primary key: one index probe while the queue is not empty (the
# worker takes the oldest first, so the newest stays until the end)
QUEUE_LEFT = "SELECT id FROM dirty_days ORDER BY id DESC LIMIT 1"


def summarised(db: Db, day: date, n: int) -> bool:
    """Every ASN-day of ``day`` has its record (the worker writes it with its outbox row) and no
    marker is left: the same condition as before, asked in the cheap order. The queue is asked
    first and the records are counted only once it is empty: ``day_summaries`` has no index on
    ``day``, so the count reads the whole table, every earlier run's days too: backend CPU a poll
    1.0 ms at 20,000 records, 3.6 ms at 60,000, 23 ms at 120,000 (the JSON runs come after three
    ADMS runs), against 0.05 ms for the queue's probe (a probe on a loaded machine). Asked every
    10 ms all through the wait, it took from ~10 % of a core (first run) to ~70 % (a sixth run's
    table) from the day worker whose pace the figure measures."""
    return (db.scalar(QUEUE_LEFT) is None
            and db.scalar("SELECT count(*) FROM day_summaries WHERE day = :d", d=day) >= n)


def until_summarised_and_applied(dbs: dict[str, Db], day: date, n: int, what: str) -> tuple[float, float]:
    """Seconds from now until the ``n`` ASN-days of ``day`` are summarised in kehadiran's outbox,
    and until penilaian's ``day_facts`` hold them all (600 s at most each)."""
    summaries_s = wait_for(lambda: summarised(dbs["kehadiran"], day, n), 600, f"{what}: day summaries")
    applied_s = summaries_s + wait_for(lambda: dbs["penilaian"].scalar(
        "SELECT count(*) FROM day_facts WHERE day = :d", d=day) >= n, 600, f"{what}: applied by penilaian")
    return summaries_s, applied_s


def punch_to_summary(db: Db, day: date) -> dict:
    """Per punch, from its arrival (``received_at``) to its day's record being written (the day
    worker's round, just before it commits): percentiles in ms, over the ASN-days of ``day``."""
    def instant(v):
        v = datetime.fromisoformat(v) if isinstance(v, str) else v
        return v if v.tzinfo else v.replace(tzinfo=timezone.utc)

    with db.engine.connect() as conn:
        rows = conn.execute(text(
            "SELECT s.updated_at, max(p.received_at) FROM day_summaries s JOIN punches p ON p.nip = s.nip "
            "WHERE s.day = :d AND p.device_time >= :a AND p.device_time < :b GROUP BY s.nip, s.updated_at"),
            {"d": day, "a": datetime.combine(day, datetime.min.time()),
             "b": datetime.combine(day + timedelta(days=1), datetime.min.time())}).all()
    ms = sorted((instant(s) - instant(p)).total_seconds() * 1000 for s, p in rows)
    return {k: round(ms[min(len(ms) - 1, int(q * len(ms)))], 1) if ms else None
            for k, q in (("p50", 0.5), ("p95", 0.95), ("p99", 0.99), ("max", 1.0))}
