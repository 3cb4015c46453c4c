"""The producers' partitioner puts every key where kafka-python's default partitioner does (so a
key's records stay on one partition, in order, whichever client wrote them), hashing each key once."""
import random

import pytest
from kafka.partitioner.default import DefaultPartitioner, murmur2

from kinerja.messaging import key_partitioner
from kinerja.messaging.key_partitioner import KeyHashPartitioner
from kinerja.messaging.producer import producer_config

pytestmark = pytest.mark.unit


class Cluster:
    """The three questions a partitioner asks kafka-python's ClusterMetadata, and its listeners,
    told after each metadata update (``update``) as ``ClusterMetadata.update_metadata`` does."""

    def __init__(self, partitions: dict[str, set[int]]):
        self.partitions = partitions
        self.listeners: list = []
        self.asked = 0

    def add_listener(self, listener):
        self.listeners.append(listener)

    def update(self, topic: str, partitions: set[int]) -> None:
        self.partitions[topic] = partitions
        for listener in self.listeners:
            listener(self)

    def topics(self, exclude_internal_topics=True):
        return set(self.partitions)

    def partitions_for_topic(self, topic):
        self.asked += 1
        return set(self.partitions[topic]) if topic in self.partitions else None

    def available_partitions_for_topic(self, topic):
        return self.partitions_for_topic(topic)


class SilentCluster(Cluster):
    """Metadata without listeners: nothing can say when it changed."""

    add_listener = None


def keys() -> list[bytes]:
    rng = random.Random(12)
    nips = [str(rng.randrange(10**17, 10**18)).encode() for _ in range(300)]
    # every tail length murmur2 treats apart (length % 4), empty and non-ASCII keys
    odd = [bytes(rng.randrange(256) for _ in range(n)) for n in range(0, 40)]
    return nips + odd + ["pegawai-ü".encode(), b"agency:bkn", b"DEV-0001"]


@pytest.mark.parametrize("kind", [Cluster, SilentCluster])
@pytest.mark.parametrize("count", [1, 2, 3, 6, 24, 25])
def test_every_key_goes_where_the_default_partitioner_puts_it(count, kind):
    cluster = kind({"t": set(range(count))})
    ours, theirs = KeyHashPartitioner(), DefaultPartitioner()
    for _ in range(2):  # the first pass hashes, the second reads the remembered hash
        for key in keys():
            assert ours.partition("t", key, key, b"v", b"v", cluster) == \
                theirs.partition("t", key, key, b"v", b"v", cluster), key


def test_partitions_numbered_with_gaps_are_taken_in_order_as_the_default_does():
    cluster = Cluster({"t": {7, 3, 11, 5}})
    ours, theirs = KeyHashPartitioner(), DefaultPartitioner()
    for key in keys():
        assert ours.partition("t", key, key, None, None, cluster) == theirs.partition("t", key, key, None, None, cluster)


def test_a_topic_that_grew_sends_a_remembered_key_where_the_default_now_would():
    cluster = Cluster({"t": set(range(6))})
    ours = KeyHashPartitioner()
    for key in keys():
        ours.partition("t", key, key, None, None, cluster)
    cluster.update("t", set(range(12)))
    for key in keys():
        assert ours.partition("t", key, key, None, None, cluster) == \
            DefaultPartitioner().partition("t", key, key, None, None, cluster)


def test_a_keys_partition_is_asked_of_the_metadata_once_until_the_metadata_changes():
    cluster = Cluster({"t": set(range(6)), "u": set(range(3))})
    ours = KeyHashPartitioner()
    key = b"199001012020121001"
    ours.partition("t", b"warm", b"warm", None, None, cluster)  # the first call only starts listening
    assert cluster.listeners == [ours._metadata_updated]
    first = [ours.partition(topic, key, key, None, None, cluster) for topic in ("t", "u")]
    asked = cluster.asked
    for _ in range(5):
        assert [ours.partition(topic, key, key, None, None, cluster) for topic in ("t", "u")] == first
    assert cluster.asked == asked  # remembered per topic
    cluster.update("u", set(range(3)))  # any update: asked again, the same answer
    assert ours.partition("u", key, key, None, None, cluster) == first[1]
    assert cluster.asked == asked + 1
    other = Cluster({"t": set(range(12))})  # another producer's metadata: its own answer
    assert ours.partition("t", key, key, None, None, other) == \
        DefaultPartitioner().partition("t", key, key, None, None, other)


def test_a_choice_read_from_metadata_that_changed_meanwhile_is_not_remembered():
    class Racing(Cluster):
        """The update lands (and its listeners run) after the partitioner read the old partitions."""
        def partitions_for_topic(self, topic):
            old = super().partitions_for_topic(topic)
            if self.asked == 2:
                self.update("t", set(range(12)))
            return old

    cluster = Racing({"t": set(range(6))})
    ours = KeyHashPartitioner()
    ours.partition("t", b"warm", b"warm", None, None, cluster)  # ask 1: listener registered
    key = next(k for k in keys() if murmur2_partition(k, 6) != murmur2_partition(k, 12))
    assert ours.partition("t", key, key, None, None, cluster) == murmur2_partition(key, 6)  # ask 2, update
    assert ours.partition("t", key, key, None, None, cluster) == murmur2_partition(key, 12)


def murmur2_partition(key: bytes, count: int) -> int:
    return (murmur2(key) & 0x7fffffff) % count


def test_a_record_without_a_key_goes_to_one_of_the_topics_partitions():
    cluster = Cluster({"t": {0, 1, 2}})
    assert {KeyHashPartitioner().partition("t", None, None, b"v", b"v", cluster) for _ in range(50)} <= {0, 1, 2}


def test_an_unknown_topic_is_refused_as_the_default_does():
    with pytest.raises(ValueError, match="not found"):
        KeyHashPartitioner().partition("nope", b"k", b"k", None, None, Cluster({"t": {0}}))


def test_the_remembered_hashes_are_bounded_and_a_mutable_key_is_never_remembered():
    cluster = Cluster({"t": set(range(6))})
    ours = KeyHashPartitioner(max_keys=10)
    for key in keys()[:35]:
        ours.partition("t", key, key, None, None, cluster)
    assert 0 < len(ours._hashes) <= 10
    ours._hashes.clear()
    mutable = bytearray(b"199001012020121001")
    ours.partition("t", mutable, mutable, None, None, cluster)
    assert ours._hashes == {}


def test_a_key_is_hashed_once(monkeypatch):
    calls = []
    real = key_partitioner.murmur2
    monkeypatch.setattr(key_partitioner, "murmur2", lambda data: calls.append(data) or real(data))
    cluster = Cluster({"t": set(range(6))})
    ours = KeyHashPartitioner()
    for _ in range(5):
        ours.partition("t", b"199001012020121001", b"199001012020121001", None, None, cluster)
    assert calls == [b"199001012020121001"]


def test_every_producer_uses_it_and_each_its_own():
    a, b = producer_config("127.0.0.1:9092"), producer_config("127.0.0.1:9092")
    assert isinstance(a["partitioner"], KeyHashPartitioner)
    assert a["partitioner"] is not b["partitioner"]
