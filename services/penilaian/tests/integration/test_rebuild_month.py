"""Scores are a function of the events: a realistic month (a few hundred ASN, tens of thousands
of events) goes through the real broker into the live consumer; ratings, training, dialogs and a
policy version are recorded through the service (outbox → relay → penilaian.v1); then
``rebuild`` replays the topics into a fresh database and finds no difference from the live
tables. Also ``kinerja scores rebuild`` on a small month, and a tampered live row is reported."""
import os
import threading
import time
from datetime import date
from zoneinfo import ZoneInfo

import pytest
from click.testing import CliRunner
from sqlalchemy import update

from kinerja.messaging.producer import make_producer
from kinerja.messaging.topics import topic
from kinerja.testing import wait_until
from penilaian.adapters.orm import ScoreRow
from penilaian.domain.periods import parse_period
from penilaian.entrypoints.consumer import SKIPPED_TYPES, make_consumer
from penilaian.entrypoints.rebuild import Report, compare, rebuild
from penilaian.service_layer.scoring import record_dialog, record_rating, record_training, set_policy
from kinerja_testkit.synthetic import generate_month
from kinerja_testkit.penilaian import make_penilaian

pytestmark = [pytest.mark.integration, pytest.mark.slow]

N_ASN = int(os.environ.get("PENILAIAN_REBUILD_ASN", "300"))
ZONE = ZoneInfo("Asia/Jakarta")


def publish(bootstrap, prefix, events) -> None:
    producer = make_producer(bootstrap, client_id="penilaian-month", linger_ms=20, batch_size=256 * 1024)
    try:
        for name, event in events:
            producer.send(topic(name, prefix), key=event.key, value=event.to_bytes())
        producer.flush(timeout=120)
    finally:
        producer.close(timeout=10)


def consume_until(p, total: int, timeout_s: float, batch_size: int = 500, applied_at_least: int = 0):
    """Run the live consumer (batched) until it has dealt with ``total`` messages and applied at least
    ``applied_at_least`` distinct events (a batch redelivered after a rebalance counts as handled twice, so
    the message count alone could stop it before its last batch)."""
    stop = threading.Event()
    consumer = make_consumer(p.runtime, batch_size=batch_size, max_poll_records=batch_size)
    thread = threading.Thread(target=consumer.run, args=(stop,), daemon=True)
    began = time.monotonic()
    thread.start()
    try:
        done = lambda: ((consumer.stats.applied + consumer.stats.duplicates + consumer.skipped  # noqa: E731
                         + consumer.stats.dead_lettered) >= total and consumer.stats.applied >= applied_at_least)
        wait_until(done, timeout_s=timeout_s, interval_s=0.2, message=f"the live consumer to take {total} messages")
    finally:
        stop.set()
        thread.join(timeout=60)
    return consumer, time.monotonic() - began


def record_through_the_service(p, month) -> None:
    """What the API does (row + event in one transaction) for a few ASN; then the relay drains."""
    nov = parse_period("2026-11")
    staff, boss = month.nips[11], month.nips[10]
    with p.runtime.session() as s, s.begin():
        record_rating(s, p.runtime.outbox, nip=staff, period=nov, rater="atasan", rated_by=boss,
                      levels={"akuntabel": "above", "loyal": "below"}, zone=ZONE)
        record_rating(s, p.runtime.outbox, nip=staff, period=nov, rater="self", rated_by=staff,
                      levels={"akuntabel": "above", "loyal": "above"}, zone=ZONE)
    with p.runtime.session() as s, s.begin():
        record_training(s, p.runtime.outbox, nip=staff, title="Manajemen waktu", jp=6, day=date(2026, 11, 20),
                        provider="BKPSDM", recorded_by=staff, zone=ZONE)
        record_dialog(s, p.runtime.outbox, nip=staff, atasan_nip=boss, period=nov, day=date(2026, 11, 27),
                      notes="Beda penilaian loyal", follow_up="Dialog lagi Desember", values=["loyal"],
                      recorded_by=boss, zone=ZONE)
    with p.runtime.session() as s, s.begin():  # a second version from November: the agency recomputes
        set_policy(s, p.runtime.outbox, agency=month.agency, effective_from=date(2026, 11, 1),
                   values={"weight_hasil_kerja": "0.6", "weight_perilaku": "0.4", "above_from": "90",
                           "innovation_points": "5"}, set_by="admin", zone=ZONE)
    assert p.settle(batch_size=50) >= N_ASN // 50  # its recompute, as the consumer's between-polls steps do it
    relay = p.runtime.relay()
    try:
        while relay.publish_batch():
            pass
    finally:
        relay._drop_producer()


def test_the_rebuild_of_a_realistic_month_matches_the_live_tables(database_url, kafka_bootstrap, topic_prefix,
                                                                   tmp_path):
    p = make_penilaian(database_url, kafka_bootstrap=kafka_bootstrap, topic_prefix=topic_prefix)
    month = generate_month(N_ASN, agency="dinkes")
    assert len(month.events) >= 10_000 or N_ASN < 300
    t0 = time.monotonic()
    roster = [e for e in month.events if e[0] == "pegawai.v1"]
    publish(kafka_bootstrap, topic_prefix, roster)
    consume_until(p, len(roster), timeout_s=60)
    publish(kafka_bootstrap, topic_prefix, [e for e in month.events if e[0] != "pegawai.v1"])
    published_s = time.monotonic() - t0
    applied = [e for _, e in month.events if e.type not in SKIPPED_TYPES and e.type != "pegawai.employee.upserted.v1"]
    distinct = len({e.id for e in applied})
    consumer, live_s = consume_until(p, len(month.events) - len(roster), timeout_s=600, applied_at_least=distinct)
    assert consumer.stats.dead_lettered == 0 and consumer.fallbacks == 0
    # every distinct event applied exactly once; the month's own re-sent copies are absorbed, and so is a batch the
    # broker redelivers after a rebalance (then more duplicates than the month carries)
    assert consumer.stats.applied == distinct
    assert consumer.stats.duplicates >= len(applied) - distinct

    record_through_the_service(p, month)
    outbox = p.outbox()
    # the live consumer reads penilaian.v1 too: its own facts are no-ops, its score updates skipped
    again, _ = consume_until(p, len(outbox), timeout_s=300)
    assert again.stats.applied + again.stats.duplicates == len([e for e in outbox
                                                                 if e["type"] != "penilaian.score.updated.v1"])
    assert again.skipped == len(outbox) - again.stats.applied - again.stats.duplicates
    assert len(p.outbox()) == len(outbox)  # nothing new to publish

    target = f"sqlite:///{tmp_path / 'rebuilt.db'}"
    report = rebuild(bootstrap=kafka_bootstrap, prefix=topic_prefix, live_url=p.url, target_url=target)
    print(f"\n{len(month.events)} events ({month.by_topic()}); published in {published_s:.1f} s; live consumer "
          f"{live_s:.1f} s ({(len(month.events) - len(roster)) / live_s:.0f} events/s on {database_url.split(':')[0]});"
          f"\n{report.summary()}")
    assert report.invalid == [] and report.failed == []
    assert report.differences == []
    assert report.rows_compared >= 3 * N_ASN * 0.9 and report.applied > 10_000 * (N_ASN / 300)

    # the comparison does find a difference when there is one
    with p.runtime.session() as s, s.begin():
        s.execute(update(ScoreRow).where(ScoreRow.nip == month.nips[11], ScoreRow.period == "2026-11")
                  .values(total=1))
    tampered = Report(target_url=target)
    compare(p.url, target, tampered)
    assert [d for d in tampered.differences if month.nips[11] in d and "2026-11" in d and "total" in d]
    p.runtime.dispose()


def test_kinerja_scores_rebuild_on_a_small_month(sqlite_url, kafka_bootstrap, topic_prefix, tmp_path, monkeypatch):
    from kinerja.cli.main import cli

    p = make_penilaian(sqlite_url, kafka_bootstrap=kafka_bootstrap, topic_prefix=topic_prefix)
    month = generate_month(12, agency="dinkes", seed=7)
    publish(kafka_bootstrap, topic_prefix, month.events)
    consume_until(p, len(month.events), timeout_s=120)
    for k, v in {"KINERJA_KAFKA_BOOTSTRAP": kafka_bootstrap, "KINERJA_TOPIC_PREFIX": topic_prefix,
                 "PENILAIAN_DATABASE_URL": sqlite_url, "KINERJA_VAR_DIR": str(tmp_path / "var")}.items():
        monkeypatch.setenv(k, v)
    result = CliRunner().invoke(cli, ["scores", "rebuild"])
    assert result.exit_code == 0, result.output
    assert "no differences" in result.output and str(tmp_path / "var" / "rebuild") in result.output
    with p.runtime.session() as s, s.begin():
        s.execute(update(ScoreRow).where(ScoreRow.nip == month.nips[3], ScoreRow.period == "2026-11")
                  .values(predikat="Sangat Baik", disiplin=0))
    result = CliRunner().invoke(cli, ["scores", "rebuild", "--into", f"sqlite:///{tmp_path / 'again.db'}"])
    assert result.exit_code == 1, result.output
    assert f"score {month.nips[3]} 2026-11: live vs rebuild" in result.output
    p.runtime.dispose()
