"""The rebuild holds state per fact key, not per event, on SQLite and PostgreSQL: many versions of
the same few days (out of order, each sent twice) and many states of the same few tasks fold into
one row per day and per task, the rows in memory at once are those fact keys, and what is kept to
score at the end is one entry per (ASN, month), however many events and days there were. The
scores, month totals and facts equal the live path's (``apply_batch``, event by event order)."""
from __future__ import annotations

import random
from datetime import date, timedelta

import pytest

from kinerja.events.tugas import TASK_APPROVED, TASK_ASSIGNED, TASK_SUBMITTED
from kinerja.messaging.topics import KEHADIRAN, PEGAWAI, TUGAS
from kinerja.testing import create_postgres_database
from kinerja_testkit.penilaian import (ATASAN, PEG1, PEG2, PEG3, at, day_event, make_penilaian, publish,
                                       roster_event, task_event, wire)
from penilaian.entrypoints.rebuild import rebuild
from penilaian.service_layer.scoring import apply_batch

pytestmark = [pytest.mark.integration, pytest.mark.slow]

NIPS = (PEG1, PEG2, PEG3)
DAYS = [date(2026, 11, 2) + timedelta(days=k) for k in range(8)]
VERSIONS = 25
TASKS = 2


def the_stream(rng: random.Random):
    events = [(PEGAWAI, roster_event(nip, f"Pegawai {i}", atasan=ATASAN)) for i, nip in enumerate(NIPS)]
    for nip in NIPS:
        summaries = [day_event(nip, d, *([("TL1", "0.5")] if rng.random() < 0.3 else []), version=v)
                     for d in DAYS for v in range(1, VERSIONS + 1)]
        rng.shuffle(summaries)  # versions out of order: the highest wins
        events += [(KEHADIRAN, e) for e in summaries]
        for j in range(TASKS):
            task_id, due = f"{nip}-t{j}", DAYS[3 + j]
            states = [task_event(TASK_ASSIGNED, nip, task_id, "assigned", due, at=at(due - timedelta(days=5)))]
            for k in range(10):  # handed in again and again: the latest state wins
                states.append(task_event(TASK_SUBMITTED, nip, task_id, "submitted", due, at=at(due, 8 + k),
                                         submitted_at=at(due, 8 + k)))
            states.append(task_event(TASK_APPROVED, nip, task_id, "approved", due, at=at(due + timedelta(days=1)),
                                     realised="9", quality=80, submitted_at=at(due, 17),
                                     approved_at=at(due + timedelta(days=1))))
            events += [(TUGAS, e) for e in states]
    return events + [e for e in events if e[0] != PEGAWAI]  # every fact sent twice


@pytest.mark.parametrize("workers", [1, 2])
def test_the_rebuild_holds_one_row_per_fact_key_and_one_entry_per_month(database_url, kafka_bootstrap, topic_prefix,
                                                                       request, tmp_path, workers):
    events = the_stream(random.Random(5))
    distinct = {e.id: e for _, e in events}
    live = make_penilaian(database_url)
    with live.runtime.session() as s, s.begin():  # the live path, a batch at a time
        ordered = [wire(e) for e in distinct.values()]  # as the consumer decodes them
        for i in range(0, len(ordered), 100):
            apply_batch(s, None, ordered[i:i + 100], tz="Asia/Jakarta")
    publish(kafka_bootstrap, topic_prefix, events)

    target = (f"sqlite:///{tmp_path / 'rebuilt.db'}" if database_url.startswith("sqlite")
              else create_postgres_database(request.getfixturevalue("postgres_server")))
    report = rebuild(bootstrap=kafka_bootstrap, prefix=topic_prefix, live_url=live.url, target_url=target,
                     workers=workers)
    print("\n" + report.summary())
    assert report.differences == [] and report.failed == [] and report.invalid_count == 0
    day_keys, task_keys = len(NIPS) * len(DAYS), len(NIPS) * TASKS
    assert report.messages == len(events) >= 20 * (day_keys + task_keys)
    assert report.applied == len(distinct) and report.duplicates == len(events) - len(distinct)
    assert report.folded == {"day_facts": day_keys, "task_facts": task_keys, "innovation_facts": 0,
                             "training_records": 0, "dialogs": 0}
    # in memory: the fact keys of the topic being read, never a row per event
    assert 0 < report.fold_peak_rows <= day_keys
    # to score at the end: one entry per (ASN, month), not one per day or event
    assert report.months_to_score == len(NIPS)
    assert report.rows_compared == 3 * len(NIPS)
    # each process's own memory (a worker's from its results), never the starter's inherited peak
    assert 0 < report.start_rss_mb <= report.peak_rss_mb
    assert (0 < report.worker_start_rss_mb <= report.worker_peak_rss_mb) if workers > 1 else report.worker_peak_rss_mb == 0
    live.runtime.dispose()
