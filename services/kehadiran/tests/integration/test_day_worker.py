"""The write path split in two: a request stores punches, their events and dirty markers in a few
statements and recomputes nothing; day workers (several at once) recompute each marked day from
the stored facts. A punch that commits while its day is being recomputed marks it again, so
nothing is lost and the records end as if everything had come in order."""
from __future__ import annotations

import logging
import threading
from collections import Counter
from datetime import datetime, timedelta, timezone
from functools import partial

import pytest
from sqlalchemy import event, func, select, text

from kehadiran.adapters.orm import DaySummaryRow, PunchRow
from kehadiran.entrypoints.runtime import day_worker, settle_days
from kehadiran.service_layer.day_recompute import recompute
from kehadiran.service_layer.day_worker import fixed_zone
from kehadiran.service_layer.roster import apply_roster_event
from kehadiran.adapters import markers
from kinerja.auth import issue_token
from kinerja.config import DEV_JWT_SECRET
from kinerja.events import make_event
from kinerja.events.pegawai import EMPLOYEE_UPSERTED
from kinerja.testing import wait_until
from kinerja.webapp import runtime_of
from kinerja_testkit.kehadiran import (app_with_roster, attlog_line, day_event_versions as day_events,
                                     past_workdays, post_attlog)

pytestmark = pytest.mark.integration
AGENCY = "disdik"
SN = "LMS0001"
WIB = timezone(timedelta(hours=7))
OPERATOR = {"Authorization": "Bearer " + issue_token(DEV_JWT_SECRET, role="operator", agency="*")}
DEVICE = {"Authorization": "Bearer " + issue_token(DEV_JWT_SECRET, role="device", agency=AGENCY, device_sn=SN)}
STAFF = [(f"19850312201001{k:04d}", str(100 + k)) for k in range(12)]


@pytest.fixture
def app(database_url):
    with app_with_roster(database_url, STAFF, sn=SN, agency=AGENCY, operator=OPERATOR) as app:
        yield app


line = attlog_line
post = partial(post_attlog, sn=SN)


def statements_to_settle(runtime, client, lines, expected: int) -> int:
    """The statements the day worker runs to settle the days ``lines`` mark (``expected`` of them)."""
    post(client, lines)
    statements = []

    def count(conn, cursor, statement, *args):
        statements.append(statement)

    event.listen(runtime.engine, "before_cursor_execute", count)
    try:
        done = settle_days(runtime)
    finally:
        event.remove(runtime.engine, "before_cursor_execute", count)
    assert (done.days, done.published) == (expected, expected)
    return len(statements)


def records(runtime) -> dict:
    with runtime.session() as s:
        return {(r.nip, r.day.isoformat()): (r.version, {k: v for k, v in r.payload.items() if k != "version"})
                for r in s.execute(select(DaySummaryRow)).scalars()}


def assert_a_fixed_point(runtime):
    """Every day marked again and recomputed from the stored facts: nothing changes, so the
    records are what the facts make of them, whatever order they came in."""
    before = records(runtime)
    with runtime.session() as s, s.begin():
        markers.mark_days(s, [(nip, __import__("datetime").date.fromisoformat(d)) for nip, d in before])
    assert settle_days(runtime).published == 0
    assert records(runtime) == before


def test_a_request_writes_punches_events_and_markers_in_a_few_statements_and_recomputes_nothing(app, database_url):
    runtime = runtime_of(app)
    day = past_workdays(1)[0]
    lines = [line(pin, day, 7, 20 + k % 30) for k, (_, pin) in enumerate(STAFF)]
    lines += [line(pin, day, 16, 5 + k % 30) for k, (_, pin) in enumerate(STAFF)]
    post(app.test_client(), [])  # the device's first call: the registry notes the address it calls from
    statements = []
    if database_url.startswith("sqlite"):
        # every statement SQLite runs, the request's hand-written ones included
        runtime.engine.dispose()
        trace = lambda conn, record: conn.set_trace_callback(  # noqa: E731
            lambda sql: statements.append(sql.split(None, 1)[0].upper()))
        event.listen(runtime.engine, "connect", trace)
    try:
        post(app.test_client(), lines)
    finally:
        if database_url.startswith("sqlite"):
            event.remove(runtime.engine, "connect", trace)
            runtime.engine.dispose()
    if database_url.startswith("sqlite"):
        # the reads (the device, stored keys, the PINs; each a statement of its own), then the write lock (BEGIN IMMEDIATE) for the punches, their events, the
        # markers, the device's contact, COMMIT: never a statement per punch, no day read or written
        assert len(statements) <= 12, statements
        assert statements.count("INSERT") == 3, statements
        write = statements[len(statements) - 1 - statements[::-1].index("BEGIN"):]
        assert set(write[1:-1]) <= {"INSERT", "UPDATE"} and write[-1] == "COMMIT", statements
    with runtime.session() as s:
        assert s.execute(select(func.count()).select_from(DaySummaryRow)).scalar_one() == 0
        assert s.execute(text("SELECT count(*) FROM dirty_days")).scalar_one() == len(STAFF)
    done = settle_days(runtime)
    assert (done.days, done.published) == (len(STAFF), len(STAFF))
    assert all(v == [1] for v in day_events(runtime).values())


def test_a_punch_committing_while_its_day_is_recomputed_marks_it_again(app, database_url):
    """The worker's round is held open (its days read and written, not committed) while a
    departure for one of its days is posted: the request does not wait for the worker, and
    its marker brings the day back, so the record ends with both punches."""
    if not database_url.startswith("postgresql"):
        pytest.skip("SQLite serialises the request behind the worker's transaction (BEGIN IMMEDIATE)")
    runtime = runtime_of(app)
    client = app.test_client()
    day = past_workdays(1)[0]
    nip, pin = STAFF[0]
    post(client, [line(pin, day, 7, 40)])
    session = runtime.session()
    session.begin()
    keys = markers.claim_days(session.connection(), 100)
    assert keys == [(nip, day)]
    outcome = recompute(session, keys, zone_of=fixed_zone("Asia/Jakarta"), now=datetime.now(timezone.utc))
    assert outcome.published == 1
    answer = {}
    t = threading.Thread(target=lambda: answer.update(r=app.test_client().post(
        f"/iclock/cdata?SN={SN}&table=ATTLOG", data=line(pin, day, 16, 10, status=1).encode(),
        content_type="text/plain")))
    t.start()
    t.join(20)
    assert not t.is_alive(), "the request waited for the day worker"
    assert answer["r"].text == "OK:1"
    session.commit()
    session.close()
    [(version, record)] = [v for k, v in records(runtime).items() if k == (nip, day.isoformat())]
    assert version == 1 and [d["code"] for d in record["deductions"]] == ["TL1", "PSW4"]  # the arrival only
    settle_days(runtime)
    [(version, record)] = [v for k, v in records(runtime).items() if k == (nip, day.isoformat())]
    assert version == 2 and [d["code"] for d in record["deductions"]] == ["TL1"]
    assert len(record["punch_event_ids"]) == 2
    assert_a_fixed_point(runtime)


def test_several_workers_at_once_while_punches_keep_coming(app):
    """Three workers run rounds of a few markers each while four threads post a week of punches
    (arrivals and departures split over batches, each batch sent twice): every punch is in its
    day's record, every version of a day is published once and in order, and recomputing
    everything again changes nothing. The three share one ``DayWorker``, as a process's lanes
    (``KEHADIRAN_DAY_WORKER_LANES``) do."""
    runtime = runtime_of(app)
    days = past_workdays(5)
    batches = []
    for day in days:
        for k, (nip, pin) in enumerate(STAFF):
            batches.append([line(pin, day, 7, 10 + (k * 7 + day.day) % 50)])
            batches.append([line(pin, day, 15 + k % 2, (k * 11) % 60, status=1)])
    stop = threading.Event()
    errors, worked = [], Counter()
    w = day_worker(runtime, chunk=7)

    def worker():
        try:
            while not stop.is_set():
                done = w.run_round()
                worked[threading.get_ident()] += done.days
                if not done.worked:
                    stop.wait(0.005)
        except Exception as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    def poster(part):
        client = app.test_client()
        try:
            for batch in part:
                post(client, batch)
                post(client, batch)  # sent again: a lost OK
        except Exception as exc:  # noqa: BLE001
            errors.append(exc)

    workers = [threading.Thread(target=worker) for _ in range(3)]
    posters = [threading.Thread(target=poster, args=(batches[i::4],)) for i in range(4)]
    for t in workers + posters:
        t.start()
    for t in posters:
        t.join(120)
    stop.set()
    for t in workers:
        t.join(60)
    assert errors == []
    assert len(worked) == 3 and sum(worked.values()) > 0
    settle_days(runtime)
    with runtime.session() as s:
        punches = Counter(s.execute(select(PunchRow.event_id)).scalars())
    assert len(punches) == len(batches) and set(punches.values()) == {1}
    got = records(runtime)
    assert len(got) == len(STAFF) * len(days)
    in_records = Counter(i for _, record in got.values() for i in record["punch_event_ids"])
    assert in_records == punches
    for key, versions in day_events(runtime).items():
        assert versions == list(range(1, len(versions) + 1)), (key, versions)
        assert got[key][0] == versions[-1]
    assert_a_fixed_point(runtime)


def test_a_rounds_statements_do_not_grow_with_its_days(app):
    """The worker reads and writes a round's days a few statements at a time, its alerts
    included: settling the arrivals of all the staff takes as many statements as settling a
    third of them (a statement per ASN would show here)."""
    runtime = runtime_of(app)
    client = app.test_client()
    post(client, [])  # the device's first call: the registry notes the address it calls from
    def settle(day, staff) -> int:
        return statements_to_settle(runtime, client,
                                    [line(pin, day, 7, 20 + k) for k, (_, pin) in enumerate(staff)], len(staff))

    first, second = past_workdays(2)
    few = settle(first, STAFF[:4])
    assert settle(second, STAFF) == few
    assert all(v == [1] for v in day_events(runtime).values())


def test_two_workers_share_no_asn_and_never_wait_for_each_other(app, database_url):
    """A round holds its ASN (its transaction open) while their days are marked again and other
    ASN's days are marked: a second worker's round claims only the other ASN's markers and ends
    without waiting for the first. Then every day has one record per marking, as one worker
    alone makes them."""
    if not database_url.startswith("postgresql"):
        pytest.skip("SQLite has one writer: its day worker is one claimer")
    runtime = runtime_of(app)
    client = app.test_client()
    first, second = past_workdays(2)
    held, others = STAFF[:6], STAFF[6:]
    post(client, [line(pin, first, 7, 20) for _, pin in held])
    a = day_worker(runtime)
    session = runtime.session()
    session.begin()
    try:
        keys = markers.claim_days(session.connection(), 100)
        assert keys == sorted((nip, first) for nip, _ in held)
        outcome = recompute(session, keys, zone_of=a.zone_of, now=datetime.now(timezone.utc))
        assert outcome.published == len(held)
        # while A has them in hand: the same ASN's departures, and the other ASN's arrivals
        post(client, [line(pin, first, 16, 10, status=1) for _, pin in held])
        post(client, [line(pin, second, 7, 25) for _, pin in others])
        b = day_worker(runtime)
        answer = {}
        t = threading.Thread(target=lambda: answer.update(done=b.run_round()))
        t.start()
        t.join(120)
        assert not t.is_alive(), "the second worker waited for the first one's ASN"
        assert (answer["done"].days, answer["done"].published) == (len(others), len(others))
        with runtime.session() as s:
            left = s.execute(text("SELECT nip, day FROM dirty_days ORDER BY nip")).all()
        # A's claimed markers (deleted, not committed) and the departures' new ones, which wait for A
        assert sorted(nip for nip, _ in left) == sorted(nip for nip, _ in held + held)
        session.commit()
    finally:
        session.close()
    settle_days(runtime)
    versions = day_events(runtime)
    assert {k: v for k, v in versions.items() if k[0] in {nip for nip, _ in held}} == {
        (nip, first.isoformat()): [1, 2] for nip, _ in held}
    assert {k: v for k, v in versions.items() if k[0] in {nip for nip, _ in others}} == {
        (nip, second.isoformat()): [1] for nip, _ in others}
    got = records(runtime)
    assert all([d["code"] for d in got[(nip, first.isoformat())][1]["deductions"]] == []
               for nip, _ in held)  # arrival 07:20 and departure 16:10: nothing deducted
    assert_a_fixed_point(runtime)


def test_workers_in_parallel_make_what_one_worker_makes(app, database_url):
    """Two workers in their own threads work a backlog of markers (several per ASN, small rounds)
    at once: each marked day is summarized once, the claims add up to the markers, and the
    records are those one worker makes from the same facts."""
    runtime = runtime_of(app)
    client = app.test_client()
    days = past_workdays(3)
    for day in days:
        post(client, [line(pin, day, 7, 10 + k) for k, (_, pin) in enumerate(STAFF)])
        post(client, [line(pin, day, 16, 5 + k, status=1) for k, (_, pin) in enumerate(STAFF)])
    with runtime.session() as s:
        marked = s.execute(text("SELECT count(*) FROM dirty_days")).scalar_one()
    assert marked == 2 * len(days) * len(STAFF)
    claimed, errors = Counter(), []

    def work(name):
        try:
            w = day_worker(runtime, chunk=5)
            while True:
                done = w.run_round()
                claimed[name] += done.days
                if not done.worked:
                    with runtime.session() as s:
                        if not s.execute(text("SELECT count(*) FROM dirty_days")).scalar_one():
                            return
        except Exception as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(n,)) for n in ("a", "b")]
    for t in threads:
        t.start()
    for t in threads:
        t.join(300)
    assert errors == []
    assert not any(t.is_alive() for t in threads)
    # a key claimed twice would be one marker claimed by both, or a key's two markers in two rounds
    assert sum(claimed.values()) <= marked
    got = records(runtime)
    assert len(got) == len(days) * len(STAFF)
    assert all(len(r["punch_event_ids"]) == 2 and r["deductions"] == [] for _, r in got.values())
    assert all(v == [1] for v in day_events(runtime).values())  # one version each: no half-done day published
    assert_a_fixed_point(runtime)


def test_a_rounds_statements_do_not_grow_with_its_units_or_dates(app):
    """A round reads the working time (unit schedules, Ramadan, holidays, shifts) of all its ASN and
    dates at once: settling the days of ASN in six units on three dates takes as many statements
    as one ASN's one day (statements per unit and date would show here)."""
    runtime = runtime_of(app)
    client = app.test_client()
    spread = [(f"19900101201501{k:04d}", str(300 + k)) for k in range(6)]
    for k, (nip, pin) in enumerate(spread):
        ev = make_event(EMPLOYEE_UPSERTED, subject=nip, agency=AGENCY, source="test",
                        data={"nip": nip, "nama": "Y", "agency": AGENCY, "unit": f"Unit {k}", "pin": pin})
        with runtime.session() as s, s.begin():
            apply_roster_event(s, ev, agency_tz="Asia/Jakarta")
    settle_days(runtime)
    post(client, [])  # the device's first call: the registry notes the address it calls from
    def settle(lines, expected) -> int:
        return statements_to_settle(runtime, client, lines, expected)

    today = datetime.now(WIB).date()
    monday = today - timedelta(days=today.weekday() + 14)
    days = [monday + timedelta(days=k) for k in range(4)]  # Monday to Thursday: one span of dates
    one = settle([line(spread[0][1], days[0], 7, 20)], 1)
    many = settle([line(pin, day, 7, 20 + k) for day in days[1:] for k, (_, pin) in enumerate(spread)],
                  3 * len(spread))
    assert many == one


def test_a_round_takes_every_marker_of_the_keys_it_claims(app):
    """An upload in many requests marks the same ASN-days again and again before the worker comes
    by (requests of 1 line each here, alternating between ASN): a round that claims a key takes all
    its markers with it, so each day is recomputed once, not once per request that marked it."""
    runtime = runtime_of(app)
    client = app.test_client()
    day = past_workdays(1)[0]
    staff = STAFF[:4]
    for minute in range(5):
        for k, (_, pin) in enumerate(staff):
            post(client, [line(pin, day, 7, 10 + minute + k * 5)])
    with runtime.session() as s:
        assert s.execute(text("SELECT count(*) FROM dirty_days")).scalar_one() == 5 * len(staff)
    w = day_worker(runtime, chunk=2)
    first = w.run_round()
    # the two oldest markers are two ASN's: their other eight markers went with them
    assert first.days == 2
    with runtime.session() as s:
        left = s.execute(text("SELECT nip, count(*) FROM dirty_days GROUP BY nip")).all()
    assert sorted(n for _, n in left) == [5, 5]
    total = first
    while True:
        done = w.run_round()
        total.add(done)
        if not done.worked:
            break
    assert total.days == len(staff)  # one recompute per ASN-day
    got = records(runtime)
    assert all(len(r["punch_event_ids"]) == 5 for _, r in got.values())
    assert all(v == [1] for v in day_events(runtime).values())
    assert_a_fixed_point(runtime)


def test_a_worker_looks_again_soon_at_days_another_workers_round_held(app, database_url):
    """A worker's round finds markers only of an ASN another round holds (its lock taken): it
    claims nothing, and that round's commit inserts no marker, so no notification comes. The
    worker looks again within a few ms, not after its idle poll (a minute here, a second in
    the process), and the day is summarised soon after the other round ends."""
    if not database_url.startswith("postgresql"):
        pytest.skip("SQLite has one writer: its day worker is one claimer")
    runtime = runtime_of(app)
    day = past_workdays(1)[0]
    nip, pin = STAFF[0]
    post(app.test_client(), [line(pin, day, 7, 30)])
    holder = runtime.session()
    holder.begin()
    holder.execute(text(f"SELECT pg_advisory_xact_lock({markers.ASN_LOCK_KEY.format(nip=':nip')})"), {"nip": nip})
    w = day_worker(runtime)
    rounds, plain = [], w.run_round
    w.run_round = lambda **kw: rounds.append(plain(**kw)) or rounds[-1]
    stop, wake = threading.Event(), threading.Event()  # no waker: nothing sets ``wake``
    t = threading.Thread(target=w.run, args=(stop, wake), kwargs={"idle_poll_s": 60.0})
    t.start()
    try:
        wait_until(lambda: rounds, 30, message="the worker's first round")
        assert rounds[0].days == 0  # the other round has the ASN
        holder.commit()
        wait_until(lambda: (nip, day.isoformat()) in records(runtime), 15,
                   message="the day summarised well before the worker's idle poll")
    finally:
        holder.close()
        stop.set()
        wake.set()
        t.join(30)
    assert not t.is_alive()
    assert day_events(runtime) == {(nip, day.isoformat()): [1]}


def test_a_slow_round_is_logged_with_its_keys_and_the_ms_of_each_phase(app, monkeypatch, caplog):
    """The next stall explains itself: a round over ``SLOW_ROUND_S`` is an INFO line with its keys
    and each phase's ms; a quicker one is not. The threshold is moved, not the round slowed: 0
    makes every round slow, an hour none."""
    from kehadiran.service_layer import day_worker as module

    runtime = runtime_of(app)
    day = past_workdays(1)[0]
    post(app.test_client(), [line(pin, day, 7, 30) for _, pin in STAFF[:3]])
    worker = day_worker(runtime)
    with caplog.at_level(logging.INFO, logger=module.__name__):
        monkeypatch.setattr(module, "SLOW_ROUND_S", 3600.0)
        assert worker.run_round().days == 3
        quick = [r for r in caplog.records if r.getMessage() == "slow day worker round"]
        post(app.test_client(), [line(pin, day, 16, 30) for _, pin in STAFF[:3]])
        monkeypatch.setattr(module, "SLOW_ROUND_S", 0.0)
        done = worker.run_round()
    slow = [r for r in caplog.records if r.getMessage() == "slow day worker round"]
    assert quick == [] and done.days == 3 and len(slow) == 1
    assert slow[0].keys == 3 and slow[0].published == done.published
    assert {"pins", "claim", "recompute", "commit"} <= set(slow[0].ms) and slow[0].total_ms >= 0
