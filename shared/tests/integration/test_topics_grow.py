"""Partitions on a real broker: ``kinerja topics create`` makes KINERJA_PARTITIONS of each event
topic, and ``kinerja topics grow`` adds partitions only when that cannot break per-NIP order:
every consumer group that reads the topic at its end, nothing publishing, never fewer, never the
compacted roster."""
import threading
import uuid

import pytest
from click.testing import CliRunner
from kafka import KafkaAdminClient, KafkaConsumer, KafkaProducer

from kinerja.messaging.consumer import consumer_config
from kinerja.messaging.consumer.rejoin import repair_unapplied_join
from kinerja.messaging.repartition import NotDrained, grow, partition_counts
from kinerja.messaging.topics import KEHADIRAN, PEGAWAI, PENILAIAN, TUGAS, topic
from kinerja.testing import wait_until

pytestmark = pytest.mark.integration


@pytest.fixture
def created(kafka_bootstrap, monkeypatch):
    """A prefix whose topics ``kinerja topics create`` made with KINERJA_PARTITIONS=2."""
    from kinerja.cli.main import cli

    prefix = "g" + uuid.uuid4().hex[:10]
    monkeypatch.setenv("KINERJA_KAFKA_BOOTSTRAP", kafka_bootstrap)
    monkeypatch.setenv("KINERJA_TOPIC_PREFIX", prefix)
    monkeypatch.setenv("KINERJA_PARTITIONS", "2")
    result = CliRunner().invoke(cli, ["topics", "create"])
    assert result.exit_code == 0, result.output
    assert "(2 partitions each)" in result.output
    return prefix


def counts(bootstrap, prefix, *bases):
    admin = KafkaAdminClient(bootstrap_servers=bootstrap, client_id="test-grow")
    try:
        return partition_counts(admin, [topic(b, prefix) for b in bases])
    finally:
        admin.close()


def publish(bootstrap, name, n):
    producer = KafkaProducer(bootstrap_servers=bootstrap)
    for i in range(n):
        producer.send(name, key=f"19900101{i:010d}".encode(), value=b"{}")
    producer.flush(30)
    producer.close()


def read_and_commit(bootstrap, name, group, n):
    """A member of ``group`` reads ``n`` more records of ``name`` and commits exactly those: its
    committed offsets are all ``grow`` looks at. It subscribes as the services' loop does, and as
    that loop repairs before each poll a join kafka-python 3.0.12 finished but never applied (a
    leader that rejoins because the topic's partitions became known after its first, empty
    assignment: ``kinerja.messaging.consumer.rejoin``); without that it read nothing for 60 s."""
    consumer = KafkaConsumer(**consumer_config(bootstrap, group_id=group, client_id="test-grow", max_poll_records=1))
    consumer.subscribe([name])
    got = 0
    try:
        def step():
            nonlocal got
            repair_unapplied_join(consumer)
            for records in consumer.poll(timeout_ms=200, max_records=n - got).values():
                got += len(records)
            return got >= n
        wait_until(step, 60, message=f"{n} records of {name}")
        consumer.commit()
    finally:
        consumer.close()


def test_topics_create_takes_the_count_from_kinerja_partitions(kafka_bootstrap, created):
    assert counts(kafka_bootstrap, created, KEHADIRAN, TUGAS, PENILAIAN, PEGAWAI) == {
        topic(b, created): 2 for b in (KEHADIRAN, TUGAS, PENILAIAN, PEGAWAI)}


def test_grow_waits_for_every_group_to_drain_then_adds_partitions(kafka_bootstrap, created):
    name = topic(KEHADIRAN, created)
    publish(kafka_bootstrap, name, 20)
    group = f"{created}.penilaian"
    read_and_commit(kafka_bootstrap, name, group, 5)
    with pytest.raises(NotDrained, match=rf"{group}.*15"):
        grow(kafka_bootstrap, created, 4, (KEHADIRAN,), quiet_s=0.2)
    assert counts(kafka_bootstrap, created, KEHADIRAN) == {name: 2}, "refused means unchanged"

    read_and_commit(kafka_bootstrap, name, group, 15)
    report = grow(kafka_bootstrap, created, 4, (KEHADIRAN,), quiet_s=0.2)
    assert report.before == {name: 2} and report.after == {name: 4} and report.grown == [name]
    assert counts(kafka_bootstrap, created, KEHADIRAN, TUGAS) == {name: 4, topic(TUGAS, created): 2}
    again = grow(kafka_bootstrap, created, 4, (KEHADIRAN,), quiet_s=0.2)
    assert again.grown == [] and again.after == {name: 4}, "repeating a finished grow changes nothing"
    with pytest.raises(NotDrained, match="can only be added"):
        grow(kafka_bootstrap, created, 3, (KEHADIRAN,), quiet_s=0.2)


def test_grow_refuses_while_something_publishes(kafka_bootstrap, created):
    name = topic(TUGAS, created)  # no group reads it: only the moving end can tell
    stop = threading.Event()
    producer = KafkaProducer(bootstrap_servers=kafka_bootstrap, linger_ms=0)

    def keep_publishing():
        i = 0
        while not stop.is_set():
            producer.send(name, key=f"{i:018d}".encode(), value=b"{}")
            producer.flush(10)
            i += 1
            stop.wait(0.02)

    thread = threading.Thread(target=keep_publishing, daemon=True)
    thread.start()
    try:
        with pytest.raises(NotDrained, match="still being published"):
            grow(kafka_bootstrap, created, 4, (TUGAS,), quiet_s=1.0)
    finally:
        stop.set()
        thread.join(10)
        producer.close()
    assert counts(kafka_bootstrap, created, TUGAS) == {name: 2}


def test_the_roster_is_never_grown(kafka_bootstrap, created, monkeypatch):
    from kinerja.cli.main import cli

    with pytest.raises(NotDrained, match="compacted"):
        grow(kafka_bootstrap, created, 4, (PEGAWAI,), quiet_s=0.2)
    result = CliRunner().invoke(cli, ["topics", "grow", "--partitions", "4", "--topic", PEGAWAI])
    assert result.exit_code != 0, "the command does not even offer it"
    result = CliRunner().invoke(cli, ["topics", "grow", "--partitions", "3", "--quiet", "0.2"])
    assert result.exit_code == 0, result.output
    assert f"{topic(PENILAIAN, created)}: 2 → 3 partitions" in result.output
    assert counts(kafka_bootstrap, created, PEGAWAI) == {topic(PEGAWAI, created): 2}
