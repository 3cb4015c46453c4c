"""A replay's duplicate check: the ids of the last N records of each partition, no more."""
import pytest

from kinerja.messaging.replay import RecentIds

pytestmark = pytest.mark.unit


def test_an_id_is_a_duplicate_within_the_window_of_its_partition_only():
    recent = RecentIds(3)
    assert [recent.seen(0, x) for x in ("a", "b", "a", "c", "d")] == [False, False, True, False, False]
    assert recent.seen(1, "a") is False  # another partition keeps its own window
    assert recent.seen(0, "a") is False  # four records on, "a" has left partition 0's window
    assert recent.last(0, 2) == ["d", "a"] and recent.partitions() == [0, 1]


def test_the_window_never_holds_more_than_its_size():
    recent = RecentIds(100)
    for i in range(10_000):
        assert recent.seen(0, str(i)) is False
    assert len(recent._ids[0]) == len(recent._order[0]) == 100
    recent.clear()
    assert recent.partitions() == []
