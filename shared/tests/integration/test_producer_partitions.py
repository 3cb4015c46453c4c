"""On a real broker, the services' producer puts each key's records on the partition a plain
kafka-python producer (its default partitioner) does, so a key's events stay on one partition, in
the order sent, whichever of the two wrote them."""

import pytest
from kafka import KafkaProducer

from kinerja.messaging.key_partitioner import KeyHashPartitioner
from kinerja.messaging.producer import make_producer
from kinerja.testing.kafka_fixtures import fresh_topic

pytestmark = pytest.mark.integration


def test_each_key_lands_where_the_default_partitioner_puts_it_and_in_order(kafka_bootstrap):
    name = fresh_topic(kafka_bootstrap, "partitions", 5)
    keys = [f"1990010120201{i:05d}".encode() for i in range(60)]
    ours = make_producer(kafka_bootstrap, client_id="test-partitions", linger_ms=0)
    plain = KafkaProducer(bootstrap_servers=kafka_bootstrap, client_id="test-partitions-plain")
    try:
        assert isinstance(ours.config["partitioner"], KeyHashPartitioner)
        sent = [(key, ours.send(name, key=key, value=str(n).encode()))
                for n in range(3) for key in keys]  # every key three times: the later sends hit the remembered hash
        expected = {key: plain.send(name, key=key, value=b"plain").get(30).partition for key in keys}
        placed: dict[bytes, list[tuple[int, int]]] = {}
        for key, future in sent:
            meta = future.get(30)
            placed.setdefault(key, []).append((meta.partition, meta.offset))
    finally:
        ours.close(10)
        plain.close(10)
    assert len(set(expected.values())) > 1  # the keys really are spread
    for key in keys:
        partitions = {p for p, _ in placed[key]}
        assert partitions == {expected[key]}, key
        offsets = [o for _, o in placed[key]]
        assert offsets == sorted(offsets), key
