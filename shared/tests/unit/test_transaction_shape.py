"""TransactionShape: how the consumer loop cuts a poll into transactions. Caught up (a poll not
full): one key first, then twice as many each time, up to the cap; behind (a full poll): the cap,
or the whole poll. A key's messages are never split and keep their order."""
from types import SimpleNamespace

import pytest

from kinerja.messaging.consumer import TransactionShape

pytestmark = pytest.mark.unit


def poll(keys: bytes) -> list:
    return [SimpleNamespace(key=bytes([k]), n=i) for i, k in enumerate(keys)]


def shape_of(chunks: list[list]) -> list[str]:
    return ["".join(m.key.decode() for m in chunk) for chunk in chunks]


def test_a_caught_up_poll_starts_with_one_key_and_doubles():
    msgs = poll(b"abcdefghijklmnopq")  # 17 keys
    chunks = TransactionShape(first_keys=1).chunks(msgs, full=False)
    assert [len({m.key for m in c}) for c in chunks] == [1, 2, 4, 8, 2]
    assert [m for c in chunks for m in c] == msgs


def test_the_ramp_stops_at_the_cap():
    chunks = TransactionShape(max_keys=3, first_keys=1).chunks(poll(b"abcdefghij"), full=False)
    assert shape_of(chunks) == ["a", "bc", "def", "ghi", "j"]


def test_a_full_poll_goes_whole_or_by_the_cap():
    msgs = poll(b"abcdefghij")
    assert shape_of(TransactionShape(first_keys=1).chunks(msgs, full=True)) == ["abcdefghij"]
    assert shape_of(TransactionShape(max_keys=4, first_keys=1).chunks(msgs, full=True)) == ["abcd", "efgh", "ij"]
    # no ramp asked for: a caught-up poll is cut as a full one
    assert shape_of(TransactionShape(max_keys=4).chunks(msgs, full=False)) == ["abcd", "efgh", "ij"]
    assert TransactionShape().whole_poll and not TransactionShape(first_keys=1).whole_poll


def test_a_keys_messages_go_together_and_in_order():
    msgs = poll(b"aabacbddcab")
    chunks = TransactionShape(first_keys=1).chunks(msgs, full=False)
    assert shape_of(chunks) == ["aaaa", "bbbcc", "dd"]
    for key in b"abcd":
        assert [m.n for c in chunks for m in c if m.key == bytes([key])] == [m.n for m in msgs if m.key == bytes([key])]


def test_settings_are_read_from_the_environment_when_asked(monkeypatch):
    monkeypatch.delenv("SVC_KEYS_PER_TRANSACTION", raising=False)
    monkeypatch.delenv("SVC_FIRST_KEYS_PER_TRANSACTION", raising=False)
    assert TransactionShape.of_service("SVC", "sqlite", sqlite_max_keys=20, first_keys=1) == TransactionShape(20, 1)
    assert TransactionShape.of_service("SVC", "postgresql", sqlite_max_keys=20, first_keys=1) == TransactionShape(None, 1)
    monkeypatch.setenv("SVC_KEYS_PER_TRANSACTION", "0")
    monkeypatch.setenv("SVC_FIRST_KEYS_PER_TRANSACTION", "0")
    assert TransactionShape.of_service("SVC", "sqlite", sqlite_max_keys=20, first_keys=1).whole_poll
    monkeypatch.setenv("SVC_KEYS_PER_TRANSACTION", "50")
    monkeypatch.setenv("SVC_FIRST_KEYS_PER_TRANSACTION", "4")
    assert TransactionShape.of_service("SVC", "postgresql") == TransactionShape(50, 4)
    monkeypatch.setenv("SVC_KEYS_PER_TRANSACTION", "-1")
    with pytest.raises(ValueError, match="SVC_KEYS_PER_TRANSACTION"):
        TransactionShape.of_service("SVC", "postgresql")
