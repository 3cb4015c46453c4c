"""A rebuild of a mixed stream gives exactly the live consumer's scores and ledgers, on SQLite and
PostgreSQL (the rebuild writes into a fresh database of the same kind: COPY on PostgreSQL; it reads
kehadiran.v1 in two processes):
duplicates, day summaries out of order and corrected late, tasks whose events arrive out of order,
a reschedule into another month, an overdue task, a cancellation, a re-approved innovation, a
policy version and ratings recorded through the service (outbox → relay → penilaian.v1), an ASN
moving agency, and one malformed record (dead-lettered live, counted and named by the rebuild).

Then the live consumer serves from the rebuilt database with a new group (from offset 0): every
message below the rebuild's recorded offsets is a duplicate, none applied twice; events published
after it (and a re-send of one from before) are applied once, and the two databases still agree."""
from __future__ import annotations

from datetime import date, datetime, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import select

from kinerja.events import make_event
from kinerja.events.kehadiran import DAY_SUMMARIZED
from kinerja.events.pegawai import EMPLOYEE_UPSERTED
from kinerja.events.tugas import (INNOVATION_APPROVED, TASK_APPROVED, TASK_ASSIGNED, TASK_CANCELLED, TASK_OVERDUE,
                                  TASK_RESCHEDULED, TASK_SUBMITTED)
from kinerja.messaging.producer import make_producer
from kinerja.messaging.replay import replayed_offsets_table
from kinerja.messaging.topics import KEHADIRAN, PEGAWAI, TUGAS, topic
from kinerja.testing import create_postgres_database, wait_until
from penilaian.adapters.orm import DayFactRow, TaskFactRow, metadata
from penilaian.domain.periods import parse_period
from penilaian.entrypoints.rebuild import rebuild
from penilaian.service_layer.scoring import record_rating, set_policy
from kinerja_testkit.penilaian import (AGENCY, ATASAN, FOREIGN, KEPALA, PEG1, PEG2, PEG3, WIB, RunningConsumer, day_event,
                               make_penilaian, publish, task_event)
from zoneinfo import ZoneInfo

pytestmark = [pytest.mark.integration, pytest.mark.slow]
ZONE = ZoneInfo("Asia/Jakarta")


def at(d: date, hh: int = 9) -> datetime:
    return datetime(d.year, d.month, d.day, hh, tzinfo=WIB)


def roster(nip, nama, agency=AGENCY, atasan=ATASAN, *, tmt=None, when=datetime(2026, 9, 1, 8, tzinfo=WIB)):
    return make_event(EMPLOYEE_UPSERTED, subject=nip, agency=agency, source="test/roster", time=when,
                      data={"nip": nip, "nama": nama, "agency": agency, "unit": "Sekretariat", "atasan_nip": atasan,
                            "tmt": tmt})


def rescheduled(task_id, nip, due, previous, when):
    return make_event(TASK_RESCHEDULED, subject=nip, agency=AGENCY, source="test/tugas", time=when,
                      data={"task_id": task_id, "nip": nip, "atasan_nip": ATASAN, "title": f"Laporan {task_id}",
                            "status": "assigned", "due_date": due, "target_quantity": Decimal("10"),
                            "previous_due_date": previous, "previous_title": f"Laporan {task_id}",
                            "previous_target_quantity": Decimal("10"), "rescheduled_by": ATASAN})


def innovation(nip, innovation_id, when, title="Inovasi"):
    return make_event(INNOVATION_APPROVED, subject=nip, agency=AGENCY, source="test/tugas", time=when,
                      data={"innovation_id": innovation_id, "nip": nip, "title": title, "approved_at": when})


def the_stream():
    """(topic, event) in publishing order: the first part, then the part after the policy."""
    first, second = [], []
    first += [(PEGAWAI, roster(n, f"ASN {n[-3:]}", atasan=a)) for n, a in
              ((KEPALA, None), (ATASAN, KEPALA), (PEG1, ATASAN), (PEG2, ATASAN), (PEG3, ATASAN))]
    workdays = [date(2026, m, d) for m in (10, 11, 12) for d in (2, 9, 16, 23)]
    for i, d in enumerate(workdays):
        for nip in (PEG1, PEG2, PEG3):
            late = (("TL1", "0.5"),) if (i + len(nip)) % 3 == 0 else ()
            v1 = day_event(nip, d, *late, punch_ids=(f"p-{nip}-{d}",))
            target = first if d.month < 12 else second
            if i % 4 == 0:  # corrected later: v2 clears the lateness (a correction), v1 arrives after it
                v2 = day_event(nip, d, version=2, punch_ids=(f"p-{nip}-{d}", f"c-{nip}-{d}"))
                target += [(KEHADIRAN, v2), (KEHADIRAN, v1)]
            elif i % 4 == 1:  # re-sent at once (a relay's duplicate) and again a little later
                target += [(KEHADIRAN, v1), (KEHADIRAN, v1)]
                second.append((KEHADIRAN, v1))
            else:
                target.append((KEHADIRAN, v1))
    # a tie: the same version of a day stated twice, the greater event id wins
    tie = [day_event(PEG1, date(2026, 11, 30), ("TK", "4"), event_id="ffff-tie"),
           day_event(PEG1, date(2026, 11, 30), event_id="0000-tie")]
    first += [(KEHADIRAN, e) for e in tie]
    d1, d2 = date(2026, 11, 20), date(2026, 12, 18)
    t1 = [task_event(TASK_ASSIGNED, PEG1, "t-1", "assigned", d1, at=at(date(2026, 11, 2))),
          task_event(TASK_SUBMITTED, PEG1, "t-1", "submitted", d1, at=at(date(2026, 11, 19)), realised="10",
                     submitted_at=at(date(2026, 11, 19))),
          task_event(TASK_APPROVED, PEG1, "t-1", "approved", d1, at=at(date(2026, 11, 21)), realised="10", quality=90,
                     submitted_at=at(date(2026, 11, 19)), approved_at=at(date(2026, 11, 21)))]
    first += [(TUGAS, t1[2]), (TUGAS, t1[0]), (TUGAS, t1[1]), (TUGAS, t1[2])]  # out of order, re-sent
    t2 = [task_event(TASK_ASSIGNED, PEG2, "t-2", "assigned", d1, at=at(date(2026, 11, 3))),
          rescheduled("t-2", PEG2, d2, d1, at(date(2026, 11, 10))),
          task_event(TASK_SUBMITTED, PEG2, "t-2", "submitted", d2, at=at(date(2026, 12, 17)), realised="8",
                     submitted_at=at(date(2026, 12, 17)))]
    first += [(TUGAS, t2[0]), (TUGAS, t2[1])]
    second += [(TUGAS, t2[2])]
    t3 = [task_event(TASK_ASSIGNED, PEG3, "t-3", "assigned", date(2026, 10, 15), at=at(date(2026, 10, 1))),
          task_event(TASK_OVERDUE, PEG3, "t-3", "assigned", date(2026, 10, 15), at=at(date(2026, 10, 16)))]
    t4 = [task_event(TASK_ASSIGNED, PEG3, "t-4", "assigned", date(2026, 11, 25), at=at(date(2026, 11, 1))),
          task_event(TASK_CANCELLED, PEG3, "t-4", "cancelled", date(2026, 11, 25), at=at(date(2026, 11, 5)))]
    first += [(TUGAS, t3[1]), (TUGAS, t3[0]), (TUGAS, t4[1]), (TUGAS, t4[0])]
    i1 = innovation(PEG1, "i-1", at(date(2026, 10, 20)))
    i1_again = innovation(PEG1, "i-1", at(date(2026, 11, 20)), title="Inovasi (diperbaiki)")
    first += [(TUGAS, i1), (TUGAS, i1_again), (TUGAS, i1)]
    # PEG2 moves agency from December (the new agency's roster names the TMT)
    second.append((PEGAWAI, roster(PEG2, "ASN 004", FOREIGN, None, tmt=date(2026, 12, 1),
                                   when=datetime(2026, 12, 2, 8, tzinfo=WIB))))
    return first, second


def send_raw(bootstrap, prefix, name, value: bytes, key: bytes) -> None:
    producer = make_producer(bootstrap, client_id="penilaian-test-raw")
    try:
        producer.send(topic(name, prefix), key=key, value=value).get(timeout=30)
    finally:
        producer.close(timeout=5)


def handled(consumer):
    s = consumer.consumer.stats
    return s.applied + s.duplicates + s.skipped + s.dead_lettered


def taken(consumer):
    """Messages applied, found applied already, or dead-lettered: not the score updates it skips."""
    s = consumer.consumer.stats
    return s.applied + s.duplicates + s.dead_lettered


def drain(p) -> None:
    relay = p.runtime.relay()
    try:
        while relay.publish_batch():
            pass
    finally:
        relay._drop_producer()


def fresh_target(database_url, request, tmp_path) -> str:
    if database_url.startswith("sqlite"):
        return f"sqlite:///{tmp_path / 'rebuilt.db'}"
    return create_postgres_database(request.getfixturevalue("postgres_server"))


def facts(p):
    with p.runtime.session() as s:
        days = {(r.nip, r.day): (r.version, r.event_id, r.deductions, r.corrected)
                for r in s.execute(select(DayFactRow)).scalars()}
        tasks = {r.task_id: (r.nip, r.status, r.due_date, r.event_id, r.last_open_on)
                 for r in s.execute(select(TaskFactRow)).scalars()}
    return days, tasks


def test_a_rebuild_of_a_mixed_stream_equals_the_live_consumer(database_url, kafka_bootstrap, topic_prefix,
                                                               request, tmp_path):
    live = make_penilaian(database_url, kafka_bootstrap=kafka_bootstrap, topic_prefix=topic_prefix)
    first, second = the_stream()
    consumer = RunningConsumer(live.runtime, batch_size=50, max_poll_records=50)
    try:
        publish(kafka_bootstrap, topic_prefix, first)
        send_raw(kafka_bootstrap, topic_prefix, KEHADIRAN, b'{"type": "kehadiran.day.summarized.v1", "id": "x"}',
                 PEG1.encode())
        wait_until(lambda: taken(consumer) >= len(first) + 1, timeout_s=120, message="the first part applied")
        with live.runtime.session() as s, s.begin():  # what the API does: fact + outbox, then the relay
            set_policy(s, live.runtime.outbox, agency=AGENCY, effective_from=date(2026, 11, 1),
                       values={"weight_hasil_kerja": "0.6", "weight_perilaku": "0.4", "innovation_points": "5"},
                       set_by="admin", zone=ZONE)
            for nip in (PEG1, PEG2):
                record_rating(s, live.runtime.outbox, nip=nip, period=parse_period("2026-11"), rater="atasan",
                              rated_by=ATASAN, levels={"akuntabel": "above", "loyal": "below"}, zone=ZONE)
        outbox_before = len(live.outbox())
        drain(live)
        publish(kafka_bootstrap, topic_prefix, second)
        own = [e for e in live.outbox()[:outbox_before] if e["type"] != "penilaian.score.updated.v1"]
        wait_until(lambda: taken(consumer) >= len(first) + 1 + len(second) + len(own), timeout_s=120,
                   message="the second part applied")
        wait_until(lambda: live.settle() == 0, timeout_s=60, message="the policy's recompute done")
    finally:
        consumer.close()
    assert consumer.consumer.stats.dead_lettered == 1
    drain(live)  # the score updates too: the rebuild reads past them

    target = fresh_target(database_url, request, tmp_path)
    report = rebuild(bootstrap=kafka_bootstrap, prefix=topic_prefix, live_url=live.url, target_url=target,
                     workers=2)  # kehadiran.v1 in two processes, a share of its partitions each
    print("\n" + report.summary())
    assert report.differences == [] and report.failed == []
    assert report.invalid_count == len(report.invalid) == 1 and "kehadiran.v1" in report.invalid[0] and "bad envelope" in report.invalid[0]
    assert report.duplicates >= 12 and report.folded["day_facts"] == 3 * 12 + 1 and report.folded["task_facts"] == 4
    rebuilt = make_penilaian(target, kafka_bootstrap=kafka_bootstrap, topic_prefix=topic_prefix)
    scores = live.scores()
    assert len(scores) >= 3 * 5 and rebuilt.scores() == scores  # values and ledgers, row for row
    assert facts(rebuilt) == facts(live)
    with rebuilt.runtime.session() as s:
        offsets = {(r.topic, r.partition): r.next_offset
                   for r in s.execute(select(replayed_offsets_table(metadata))).all()}
    assert sum(offsets.values()) == report.messages  # every partition's end, nothing more

    # serving from the rebuilt database: a new group reads from offset 0
    again = RunningConsumer(rebuilt.runtime, group_id=f"{topic_prefix}rebuilt", batch_size=50, max_poll_records=50)
    followers = RunningConsumer(live.runtime, batch_size=50, max_poll_records=50)
    try:
        wait_until(lambda: again.consumer.stats.duplicates >= report.messages, timeout_s=120,
                   message="the replayed messages passed over")
        assert again.consumer.stats.applied == 0 and again.consumer.stats.dead_lettered == 0
        later = [(KEHADIRAN, day_event(PEG1, date(2026, 12, 30), ("TL2", "1"))),
                 (TUGAS, task_event(TASK_APPROVED, PEG2, "t-2", "approved", date(2026, 12, 18),
                                    at=at(date(2026, 12, 19)), realised="8", quality=80,
                                    submitted_at=at(date(2026, 12, 17)), approved_at=at(date(2026, 12, 19))))]
        resent = [e for e in second if e[0] == KEHADIRAN][-1]  # a re-send of a replayed event
        publish(kafka_bootstrap, topic_prefix, later + [resent])
        wait_until(lambda: handled(again) >= report.messages + 3, timeout_s=60, message="the later events")
        wait_until(lambda: followers.consumer.stats.applied + followers.consumer.stats.duplicates >= 3, timeout_s=60,
                   message="the live consumer took them too")
    finally:
        again.close()
        followers.close()
    assert again.consumer.stats.applied == 2 and again.consumer.stats.duplicates == report.messages + 1
    assert rebuilt.scores() == live.scores() and facts(rebuilt) == facts(live)
    live.runtime.dispose()
    rebuilt.runtime.dispose()
