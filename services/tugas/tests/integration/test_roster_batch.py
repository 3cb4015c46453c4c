"""tugas's consumer applies a poll of roster events in one transaction and leaves the rows the
events leave one at a time (``handle``, the path it falls back to): a NIP's last event in the log
wins, a repeated id is applied once, an invalid record is dead-lettered and the rest applied, a
redelivered poll changes nothing. One transaction and the same driver calls for 10 ASN as for 100
(one at a time: a transaction and four statements an event). On SQLite and PostgreSQL."""
from __future__ import annotations

import json
import threading

import pytest
from sqlalchemy import event as sa_event, select

from kinerja.config import load_settings
from kinerja.testing import consumer_record
from kinerja.testing.consumer_records import RecordingProducer
from tugas.adapters.orm import Employee
from tugas.entrypoints import consumer as consumer_entry
from tugas.entrypoints.migrate import main as migrate
from tugas.entrypoints.runtime import make_runtime
from .tugas_testkit import AGENCY, ATASAN, KEPALA, PEG1, PEG2, roster_event

pytestmark = pytest.mark.integration


def the_log() -> list:
    """PEG1 under ATASAN, PEG2 new, PEG1's event again (the same id), PEG1 moved under KEPALA,
    a record that fails its schema, PEG2 turned inactive."""
    peg1 = roster_event(PEG1, "Pegawai Satu", AGENCY, ATASAN)
    invalid = json.loads(roster_event(PEG2, "x", AGENCY, None).to_bytes())
    del invalid["data"]["unit"]
    return [peg1, roster_event(PEG2, "Pegawai Dua", AGENCY, ATASAN), peg1,
            roster_event(PEG1, "Pegawai Satu (pindah)", AGENCY, KEPALA), json.dumps(invalid).encode(),
            roster_event(PEG2, "Pegawai Dua", AGENCY, ATASAN, active=False)]


def records(log: list, first_offset: int = 0) -> list:
    return [consumer_record(ev, first_offset + i, "t.pegawai.v1") for i, ev in enumerate(log)]


def runtime_on(url: str):
    migrate(url)
    return make_runtime(load_settings("tugas", {"database_url": url}))


def employees(runtime) -> list[tuple]:
    with runtime.session() as s:
        return sorted((e.nip, e.nama, e.agency, e.atasan_nip, e.active) for e in s.execute(select(Employee)).scalars())


def test_a_poll_in_one_transaction_leaves_the_rows_of_one_event_at_a_time(database_url, tmp_path):
    log = the_log()
    reference = runtime_on(f"sqlite:///{tmp_path}/one-at-a-time.db")
    seen: set[str] = set()
    for ev in log:
        if not isinstance(ev, bytes) and ev.id not in seen:
            seen.add(ev.id)
            with reference.session() as s, s.begin():
                consumer_entry.handle(s, ev)
    expected = employees(reference)
    reference.dispose()

    runtime = runtime_on(database_url)
    consumer = consumer_entry.make_consumer(runtime)
    consumer._dlq_producer = dlq = RecordingProducer()
    commits = []
    sa_event.listen(runtime.engine, "commit", commits.append)
    assert consumer.process_batch(records(log), threading.Event())
    assert len(commits) == 1 and (consumer.stats.batches, consumer.stats.fallbacks) == (1, 0)
    assert (consumer.stats.applied, consumer.stats.duplicates, consumer.stats.dead_lettered, len(dlq.sent)) == (4, 1, 1, 1)
    got = employees(runtime)
    assert got == expected == [(PEG1, "Pegawai Satu (pindah)", AGENCY, KEPALA, True),
                               (PEG2, "Pegawai Dua", AGENCY, ATASAN, False)]
    assert consumer.process_batch(records(log), threading.Event())  # redelivered before the offsets' commit
    assert consumer.stats.applied == 4 and employees(runtime) == got
    runtime.dispose()


def test_a_poll_costs_one_transaction_and_the_same_calls_for_10_asn_and_for_100(database_url):
    runtime = runtime_on(database_url)
    consumer = consumer_entry.make_consumer(runtime)
    calls = [0, 0]

    def call(*_args) -> None:
        calls[0] += 1

    def commit(_conn) -> None:
        calls[1] += 1

    sa_event.listen(runtime.engine, "do_execute", call)
    sa_event.listen(runtime.engine, "do_executemany", call)
    sa_event.listen(runtime.engine, "commit", commit)

    def poll(first: int, n: int) -> tuple[int, int]:
        calls[:] = [0, 0]
        log = [roster_event(f"1990010120150{first + i:05d}", "ASN", AGENCY, ATASAN) for i in range(n)]
        assert consumer.process_batch(records(log, first), threading.Event())
        return tuple(calls)

    poll(0, 1)  # the first connection's own queries (PostgreSQL's version, settings) left out
    ten, hundred = poll(100, 10), poll(200, 100)
    # the ids claimed, the rows read, the new rows inserted: one transaction
    assert ten == hundred == (3, 1), (ten, hundred)
    runtime.dispose()
