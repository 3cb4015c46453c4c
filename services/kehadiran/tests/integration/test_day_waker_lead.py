"""Several day worker processes on one PostgreSQL database: a marker wakes one of them (the one whose
listener holds the lead), not all (each of the others used to run a round per punch that found
nothing); a round that leaves a backlog wakes them all; when the leader's connection ends another
process takes the lead and is woken by markers. Counted wake-ups, in the order the server delivers
a listener's notifications (so "not woken" is seen, not waited for)."""
from __future__ import annotations

import threading
from datetime import date

import pytest
from sqlalchemy import create_engine

from kehadiran.adapters import markers
from kehadiran.adapters.wakeup import PgWaker
from kehadiran.entrypoints.migrate import main as migrate
from kinerja.testing import wait_until

pytestmark = pytest.mark.integration


class Wakes(threading.Event):
    """An event that counts how often it was set."""

    def __init__(self) -> None:
        super().__init__()
        self.count = 0

    def set(self) -> None:
        self.count += 1
        super().set()


def test_a_marker_wakes_the_leader_only_and_a_backlog_wakes_every_process(postgres_url):
    migrate(postgres_url)
    engine = create_engine(postgres_url)
    wakes = [Wakes(), Wakes()]
    wakers = [PgWaker(engine, w, poll_s=0.05) for w in wakes]
    try:
        wakers[0].start()
        wait_until(lambda: wakers[0].leads, message="the first listener leads")
        wakers[1].start()
        wait_until(lambda: wakes[1].count == 1, message="the second listener listens")  # its start-up wake
        assert not wakers[1].leads
        before = [w.count for w in wakes]
        with engine.begin() as conn:
            markers.mark_days(conn, [("198503122010010001", date(2026, 3, 2))])
        with engine.begin() as conn:
            markers.cue_helpers(conn)
        # the follower's one wake-up is the cue: a listener of both channels gets the marker's first
        wait_until(lambda: wakes[1].count == before[1] + 1, message="the cue wakes the follower")
        wait_until(lambda: wakes[0].count == before[0] + 2, message="marker and cue wake the leader")
        assert wakes[1].count == before[1] + 1

        # the leader goes (its connection ends): the follower takes the lead and markers wake it
        wakers[0].close()
        wait_until(lambda: wakers[1].leads, message="the follower takes the lead")
        taken = wakes[1].count
        with engine.begin() as conn:
            markers.mark_days(conn, [("198503122010010002", date(2026, 3, 2))])
        wait_until(lambda: wakes[1].count > taken, message="a marker wakes the new leader")
    finally:
        for waker in wakers:
            waker.close()
        engine.dispose()


def test_a_round_that_leaves_markers_it_could_take_cues_the_other_processes(postgres_url):
    import psycopg

    from kehadiran.entrypoints.app import create_app
    from kehadiran.entrypoints.runtime import day_worker
    from kinerja.webapp import runtime_of

    migrate(postgres_url)
    runtime = runtime_of(create_app({"database_url": postgres_url, "kafka_bootstrap": "127.0.0.1:1"}))
    dsn = runtime.engine.url.set(drivername="postgresql").render_as_string(hide_password=False)
    try:
        with psycopg.connect(dsn, autocommit=True) as listener:
            listener.execute(f"LISTEN {markers.BACKLOG_CHANNEL}")
            with runtime.engine.begin() as conn:
                markers.mark_days(conn, [(f"19850312201001000{k}", date(2026, 3, 2)) for k in range(3)])
            worker = day_worker(runtime, chunk=2)
            assert worker.run_round().more  # two of three taken: a cue
            assert not worker.run_round().more  # the last one: none
            with psycopg.connect(dsn, autocommit=True) as other:
                other.execute(f"NOTIFY {markers.BACKLOG_CHANNEL}, 'end'")
            got = []
            for note in listener.notifies(timeout=30):
                got.append(note.payload)
                if note.payload == "end":
                    break
        assert got == ["", "end"]
    finally:
        runtime.dispose()
