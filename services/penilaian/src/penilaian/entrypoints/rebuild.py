"""Rebuild penilaian from the topics into a fresh database and compare it with the live tables.

``penilaian-rebuild`` and ``kinerja scores rebuild`` (``rebuild_cli``) call :func:`rebuild`. It reads
``pegawai.v1``, ``penilaian.v1`` (the facts penilaian recorded itself: ratings, training, dialogs,
policy versions, the organisation's predikat; its score updates are skipped), ``kehadiran.v1`` and
``tugas.v1`` from offset 0 up to the end offsets captured when it starts (``read_to_end``: manual
assignment, nothing committed), scores every touched (ASN, month) once at the end, its quarter and
year folded from its months, month totals and score rows inserted in bulk
(``service_layer.rebuild_scores``; what it keeps to score is one entry per (ASN, month),
``replay.MonthsTouched``), and compares every
score row (values and ledger) and every recorded fact with the live database
(``rebuild_compare``). Scores are a function of the events (DESIGN section 4), so any difference is
a bug, or events that reached the live tables and not the topics (an undrained outbox) or arrived
after the start.

Each record is parsed once: types penilaian passes over are recognised from the envelope's
``type`` (confirmed by the JSON); the rest are decoded by ``adapters.trusted_decode`` (hand checks
for the bulk, the schemas for anything else; a malformed record is counted in ``invalid`` and
named, never applied). Day summaries, task states and innovations are folded in memory per fact
key by the live rules (``service_layer.replay``) and written in bulk once their topic is read;
the other types go through the live path (``scoring.store_event``) in batches.

Duplicates: a record whose id was seen among the last ``dedup_window`` records of its partition is
dropped (a relay's re-send lands soon after the original, in the same partition); beyond that, the
fact rules make a second application change nothing. No set of every id is kept.

Instead of one ``processed_events`` row per event, the rebuild records per (topic, partition) the
offset it read up to (``replayed_offsets``); the live consumer treats every message below it as
applied (``kinerja.messaging.consumer``), so serving from the rebuilt database never applies an
event twice. The ids of the last ``tail_ids`` records of each partition go to ``processed_events``
as well, for a re-send that straddles the end offset.
"""
from __future__ import annotations

import multiprocessing
import tempfile
import time
from collections import deque
from concurrent.futures import ProcessPoolExecutor
from datetime import datetime
from pathlib import Path
from types import SimpleNamespace
from typing import Callable
from zoneinfo import ZoneInfo

from sqlalchemy import func, insert, select

from kinerja.config import load_settings
from kinerja.db import make_engine, make_session_factory
from kinerja.events.kehadiran import DAY_SUMMARIZED
from kinerja.events.pegawai import EMPLOYEE_UPSERTED
from kinerja.events.penilaian import (
    DIALOG_RECORDED,
    MEMBERSHIP_RECORDED,
    ORGANISATION_RATED,
    POLICY_SET,
    RATING_RECORDED,
    TRAINING_RECORDED,
)
from kinerja.messaging import topics
from kinerja.messaging.outbox import add_plumbing_tables, utcnow
from kinerja.messaging.replay import RecentIds, read_to_end, replayed_offsets_table
from kinerja.messaging.topics import topic
from penilaian.adapters.bulk_facts import bulk_insert
from penilaian.adapters.process_memory import own_peak_rss_mb, rss_mb
from penilaian.adapters.orm import ScoreRow, metadata
from penilaian.adapters.trusted_decode import decode_record
from penilaian.entrypoints.migrate import main as migrate
from penilaian.entrypoints.rebuild_compare import SCORE_FIELDS, Report, _facts, _score_rows, compare  # noqa: F401
from penilaian.entrypoints.rebuild_read import Sorter, fold_share, take_share
from penilaian.service_layer import policy_recompute
from penilaian.service_layer.rebuild_scores import insert_rows, rows_in, score_all
from penilaian.service_layer.replay import FactFold, MonthsTouched
from penilaian.service_layer.scoring import (
    FEEDBACK_POSTED,
    INNOVATION_APPROVED,
    SKP_APPROVED,
    TASK_TYPES,
    Batch,
    Policies,
    Touched,
    store_event,
)

# the order the topics are read in: the roster first (as in the live system, where it long precedes
# the facts), then penilaian's own facts, then attendance and tasks. Any order gives the same result.
TOPICS = (topics.PEGAWAI, topics.PENILAIAN, topics.KEHADIRAN, topics.TUGAS)
APPLIED_TYPES = frozenset({EMPLOYEE_UPSERTED, DAY_SUMMARIZED, INNOVATION_APPROVED, RATING_RECORDED,
                           TRAINING_RECORDED, DIALOG_RECORDED, POLICY_SET, ORGANISATION_RATED, SKP_APPROVED,
                           FEEDBACK_POSTED, MEMBERSHIP_RECORDED, *TASK_TYPES})


def fresh_sqlite_url(var_dir: Path | None = None) -> str:
    base = var_dir or Path(tempfile.gettempdir())
    base.mkdir(parents=True, exist_ok=True)
    stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
    path = Path(tempfile.mkdtemp(prefix=f"penilaian-rebuild-{stamp}-", dir=base)) / "penilaian.db"
    return f"sqlite:///{path}"


def rebuild(*, bootstrap: str, prefix: str = "", live_url: str | None, target_url: str | None = None,
            tz: str = "Asia/Jakarta", batch_size: int = 2000, recompute_batch: int = 500,
            dedup_window: int = 10_000, tail_ids: int = 1_000, workers: int = 1,
            progress: Callable[[str], None] | None = None, timeout_s: float = 1800.0) -> Report:
    """Replay the topics into ``target_url`` (a new SQLite file when None; it must hold no scores
    yet) and compare with ``live_url`` (skipped when None). Returns the report; ``differences``
    empty means the live tables are exactly what the events give. ``workers`` > 1 reads
    ``kehadiran.v1`` (most of the records) in that many processes, each a share of its partitions,
    while this one reads ``tugas.v1``; the result is the same."""
    say = progress or (lambda _msg: None)
    target_url = target_url or fresh_sqlite_url()
    migrate(target_url)
    engine = make_engine(target_url)
    sessions = make_session_factory(engine)
    _, processed = add_plumbing_tables(metadata)
    replayed = replayed_offsets_table(metadata)
    report = Report(target_url=target_url, start_rss_mb=rss_mb())
    pool: ProcessPoolExecutor | None = None
    try:
        with sessions() as s:
            if s.execute(select(func.count()).select_from(ScoreRow)).scalar_one():
                raise RuntimeError(f"{target_url} already holds scores; rebuild into an empty database")
        zone = ZoneInfo(tz)
        touched = MonthsTouched()
        fold = FactFold(zone, touched)
        pending: list = []
        tails: dict[tuple[str, int], list[str]] = {}
        ends: dict[tuple[str, int], int] = {}
        began = time.monotonic()

        def flush(into: Touched) -> None:
            if not pending:
                return
            try:
                with sessions() as s, s.begin():
                    _store(s, [event for event, _ in pending], zone, into)
                report.applied += len(pending)
            except Exception:  # noqa: BLE001 - find the one that fails, keep the rest
                for event, msg in pending:
                    try:
                        with sessions() as s, s.begin():
                            _store(s, [event], zone, into)
                        report.applied += 1
                    except Exception as exc:  # noqa: BLE001
                        report.failed.append(f"{msg.topic}[{msg.partition}]@{msg.offset} {event.type} {event.id}: {exc!r}"[:500])
            pending.clear()

        def read(names: list[str], fold: FactFold, into: Touched) -> None:
            """Read ``names`` in this process, topic by topic, folding into ``fold``."""
            recent = RecentIds(dedup_window)

            def store(event, msg) -> None:
                pending.append((event, msg))
                if len(pending) >= batch_size:
                    flush(into)

            sorter = Sorter(report, fold, recent, APPLIED_TYPES, store)
            current = None

            def topic_done(name: str) -> None:
                flush(into)
                with sessions() as s, s.begin():
                    fold.write(s)
                for part in recent.partitions():
                    tails[(name, part)] = recent.last(part, tail_ids)
                recent.clear()
                say(f"read {report.messages} messages ({name})")

            for name, msgs in read_to_end(bootstrap, names, timeout_s=timeout_s, client_id="penilaian-rebuild",
                                          ends_out=ends):
                if name != current:
                    if current is not None:
                        topic_done(current)
                    current = name
                report.read[name] = report.read.get(name, 0) + len(msgs)
                for msg in msgs:
                    sorter.take(msg)
            if current is not None:
                topic_done(current)
            for name in names:
                report.read.setdefault(name, 0)

        names = [topic(t, prefix) for t in TOPICS]
        if workers <= 1:
            read(names, fold, touched)
        else:
            split = topic(topics.KEHADIRAN, prefix)
            later = MonthsTouched()  # tugas.v1's days, noted after kehadiran.v1's as in one process
            later_fold = FactFold(zone, later)
            context = multiprocessing.get_context("spawn")
            pool = ProcessPoolExecutor(max_workers=workers, mp_context=context)  # up to score too, below
            # the workers first: they start (a fresh interpreter each) and read kehadiran.v1 while
            # this process reads the others, the roster and penilaian's own facts included (the
            # live path, the costliest records each); the workers write nothing, so neither
            # waits for the other, and their days are noted after the roster's as in one process
            shares = [pool.submit(fold_share, bootstrap, split, i, workers, tz=tz, applied_types=APPLIED_TYPES,
                                  dedup_window=dedup_window, tail_ids=tail_ids, timeout_s=timeout_s)
                      for i in range(workers)]
            read([n for n in names if n in (topic(topics.PEGAWAI, prefix), topic(topics.PENILAIAN, prefix))],
                 fold, touched)
            read([topic(topics.TUGAS, prefix)], later_fold, later)
            written: set[str] = set()  # ASN whose days a share wrote (shares meet only after partitions were added)
            for i in range(len(shares)):
                share, shares[i] = shares[i].result(), None  # a future holds its result: let it go
                take_share(share, report, touched, tails, ends)
                for t, part, off, raw in share["to_store"]:
                    pending.append((decode_record(raw), SimpleNamespace(topic=t, partition=part, offset=off)))
                flush(touched)
                nips = set(share["touched"][0])
                with sessions() as s, s.begin():  # a chunk at a time, never one share's rows all unpacked
                    fold.write_days(s, share["days"], written & nips)
                written |= nips
                del share
            for nip in sorted(later.days):
                touched.add(nip, later.days[nip], agency=later.agency[nip], cause=later.cause[nip])
            for name, n in fold.written.items():
                later_fold.written[name] += n
            later_fold.peak = max(later_fold.peak, fold.peak)
            fold = later_fold
            say(f"read {report.messages} messages ({split} in {workers} processes)")
        report.folded = dict(fold.written)
        report.fold_peak_rows = max(report.fold_peak_rows, fold.peak)
        report.months_to_score = sum(len(months) for months in touched.days.values())
        report.seconds_read_apply = time.monotonic() - began

        began = time.monotonic()
        nips = sorted(touched.days)
        parts = [{nip: touched.days[nip] for nip in nips[i:i + recompute_batch]}
                 for i in range(0, len(nips), recompute_batch)]
        if pool is None:
            for part in parts:
                with sessions() as s, s.begin():
                    score_all(s, part, touched.agency, policies=Policies(s))
        else:
            # the workers score (read only: every fact is committed by now) while this process
            # inserts the rows of the shares done, in order; a few shares ahead, each let go once
            # inserted, so the rows waiting here stay a few shares' whatever the ASN count
            ahead: deque = deque()
            for part in [*parts, None]:
                if part is not None:
                    ahead.append(pool.submit(rows_in, target_url, part, {nip: touched.agency[nip] for nip in part}))
                while ahead and (part is None or len(ahead) > 2 * workers):
                    totals_rows, score_rows, peak = ahead.popleft().result()
                    with sessions() as s, s.begin():
                        insert_rows(s, totals_rows, score_rows)
                    del totals_rows, score_rows
                    report.worker_peak_rss_mb = max(report.worker_peak_rss_mb, peak)
            pool.shutdown()
            pool = None
        with sessions() as s, s.begin():
            policy_recompute.finish_all(s)  # every ASN was just recomputed under every version
            record_offsets(s, replayed, processed, ends, tails)
        report.partitions = len(ends)
        report.asn_recomputed = len(nips)
        report.seconds_recompute = time.monotonic() - began
        report.peak_rss_mb = own_peak_rss_mb()  # the workers' own: each reported it with its results
        say(f"recomputed {len(nips)} ASN")

        if live_url:
            began = time.monotonic()
            compare(live_url, target_url, report)
            report.seconds_compare = time.monotonic() - began
    finally:
        if pool is not None:
            pool.shutdown(cancel_futures=True)
        engine.dispose()
    return report


def record_offsets(session, replayed, processed, ends: dict[tuple[str, int], int],
                   tails: dict[tuple[str, int], list[str]]) -> None:
    """Per partition the offset read up to (every message below it is in the facts), and the ids
    of each partition's last records (a re-send of one after the end offset is then a duplicate)."""
    now = utcnow()
    if ends:
        session.execute(insert(replayed), [{"topic": t, "partition": p, "next_offset": off, "replayed_at": now}
                                           for (t, p), off in sorted(ends.items())])
    rows: dict[str, dict] = {}
    for (t, p), ids in tails.items():
        for event_id in ids:
            rows[event_id] = {"event_id": event_id, "topic": t, "partition": p, "offset": ends.get((t, p), 0),
                              "processed_at": now}
    bulk_insert(session, processed, rows.values())


def _store(session, events, zone, touched: Touched) -> None:
    """The live path's storing of facts (``scoring.store_event``), a batch in one transaction."""
    policies = Policies(session)
    batch = Batch(session)
    batch.prepare(events)
    for event in events:
        store_event(session, event, zone, touched, policies, batch)
    batch.write_days()
    batch.follow_roster()
    batch.touch_moved(touched, {})


def main_settings():
    return load_settings("penilaian")
