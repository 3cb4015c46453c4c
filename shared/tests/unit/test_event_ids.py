"""``kinerja.events.ids``: the time-ordered event ids kehadiran's day events and penilaian's score
updates carry. Unique across threads and processes, ascending within a thread, version 7."""
from __future__ import annotations

import os
import threading
import time
import uuid

import pytest

from kinerja.events import ids

pytestmark = pytest.mark.unit


def test_ids_are_uuid7_led_by_their_ms_and_ascending():
    before = time.time_ns() // 1_000_000
    made = [ids.time_ordered_uuid() for _ in range(5000)]
    after = time.time_ns() // 1_000_000
    parsed = [uuid.UUID(i) for i in made]
    assert all(u.version == 7 and u.variant == uuid.RFC_4122 and str(u) == i for u, i in zip(parsed, made))
    stamps = [u.int >> 80 for u in parsed]
    assert before <= stamps[0] and stamps[-1] <= after
    assert made == sorted(made) and len(set(made)) == len(made)


def test_ids_of_one_ms_count_up_from_a_random_start(monkeypatch):
    """Within a ms a thread's ids count up (one format an id); a new ms starts somewhere new."""
    monkeypatch.setattr(ids, "time_ns", lambda: 1_765_000_000_123_456_789)
    first = [uuid.UUID(ids.time_ordered_uuid()).int for _ in range(3)]
    assert first[1] == first[0] + 1 and first[2] == first[0] + 2
    monkeypatch.setattr(ids, "time_ns", lambda: 1_765_000_000_124_456_789)
    later = uuid.UUID(ids.time_ordered_uuid()).int
    assert later >> 80 == (first[0] >> 80) + 1 and later & (2**80 - 1) != (first[2] + 1) & (2**80 - 1)


def test_ids_of_threads_at_once_are_unique_and_each_threads_ascend():
    """kehadiran's day worker lanes (and penilaian's consumers) make theirs at the same moments."""
    made: list[list[str]] = [[] for _ in range(4)]
    go = threading.Barrier(len(made))

    def make(out: list[str]) -> None:
        go.wait()
        out.extend(ids.time_ordered_uuid() for _ in range(5000))

    threads = [threading.Thread(target=make, args=(out,)) for out in made]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    every = [i for out in made for i in out]
    assert len(set(every)) == len(every) == 20_000
    for out in made:
        assert out == sorted(out)


@pytest.mark.skipif(not hasattr(os, "fork"), reason="fork")
def test_a_forked_child_does_not_make_its_parents_next_ids(monkeypatch):
    """A worker process forked within the ms its parent made an id (gunicorn's workers, say) would
    otherwise count on from the same state and make the parent's next ids again."""
    monkeypatch.setattr(ids, "time_ns", lambda: 1_765_000_000_123_456_789)  # one ms, before and after
    ids.time_ordered_uuid()
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child
        try:
            os.write(write, ids.time_ordered_uuid().encode())
        finally:
            os._exit(0)
    os.close(write)
    child = os.read(read, 64).decode()
    os.close(read)
    os.waitpid(pid, 0)
    parents_next = ids.time_ordered_uuid()
    assert uuid.UUID(child).version == 7 and child != parents_next
