"""The session's Kafka broker and each test's own topics."""
from __future__ import annotations

import os
import shutil
import tempfile
import uuid
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

import pytest

from kinerja.config import whole_number
from kinerja.localbroker import SHORT_LIVED_JVM_OPTS, LocalBroker, find_kafka_home, free_port
from kinerja.testing.containers import KAFKA_IMAGE, kafka_container, session_url


@contextmanager
def _local_broker() -> Iterator[str]:
    data_dir = Path(tempfile.mkdtemp(prefix="kinerja-kafka-"))
    broker = LocalBroker(home=find_kafka_home(), data_dir=data_dir, port=free_port(), controller_port=free_port(),
                         jvm_opts=os.environ.get("KINERJA_KAFKA_JVM_OPTS") or SHORT_LIVED_JVM_OPTS)
    broker.start(create_topics=False)
    try:
        yield broker.bootstrap
    finally:
        # its data is deleted next: a controlled shutdown of a session's thousands of partitions is not
        # worth waiting for (SIGKILL after a few seconds)
        broker.stop(timeout_s=5)
        shutil.rmtree(data_dir, ignore_errors=True)


@pytest.fixture(scope="session")
def kafka_bootstrap(docker_engine_status) -> Iterator[str]:
    with session_url("Kafka", "kafka", "KINERJA_TEST_KAFKA_BOOTSTRAP", KAFKA_IMAGE, docker_engine_status,
                     kafka_container, _local_broker) as url:
        yield url


@pytest.fixture
def topic_prefix(kafka_bootstrap: str) -> str:
    """A fresh set of topics for one test (``t<hex>.kehadiran.v1`` ...), with
    ``KINERJA_TEST_PARTITIONS`` (3) partitions each rather than the installation's 12: a session
    makes thousands of topics on one broker, and three partitions already spread keys over
    several consumers of a group."""
    from kinerja.messaging.topics import ensure_topics

    prefix = "t" + uuid.uuid4().hex[:10]
    ensure_topics(kafka_bootstrap, prefix=prefix, partitions=whole_number(os.environ, "KINERJA_TEST_PARTITIONS", 3, 1, 64))
    return prefix


def fresh_topic(bootstrap: str, stem: str, partitions: int = 1) -> str:
    """A new topic ``<stem>-<hex>`` with ``partitions`` partitions, for a test that wants one topic
    of its own rather than a service's set (``topic_prefix``)."""
    from kafka.admin import KafkaAdminClient, NewTopic

    name = f"{stem}-{uuid.uuid4().hex[:10]}"
    admin = KafkaAdminClient(bootstrap_servers=bootstrap, client_id=f"test-{stem}")
    try:
        admin.create_topics([NewTopic(name, partitions, 1)])
    finally:
        admin.close()
    return name
