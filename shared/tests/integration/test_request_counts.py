"""``KINERJA_KAFKA_COUNT_DIR`` (bench/trickle_counts.py): unset, a producer made by the services'
factory leaves kafka-python as it is; set, the process counts its Kafka requests by kind into
``<dir>/<pid>.json``. Run in a child process, so the counter never stays installed in the tests'."""
import json
import os
import subprocess
import sys

import pytest
from kinerja.testing.kafka_fixtures import fresh_topic

pytestmark = pytest.mark.integration

CHILD = r"""
import json, os, sys, time
from kafka.net import connection
from kinerja.messaging import request_counts
from kinerja.messaging.producer import make_producer

bootstrap, topic = sys.argv[1], sys.argv[2]
directory = os.environ.pop("KINERJA_KAFKA_COUNT_DIR")
original = connection.KafkaConnection.send_request
make_producer(bootstrap, client_id="test-counts-off", linger_ms=0).close(10)
assert connection.KafkaConnection.send_request is original, "installed while unset"
assert request_counts.counts() == {}

os.environ["KINERJA_KAFKA_COUNT_DIR"] = directory
producer = make_producer(bootstrap, client_id="test-counts", linger_ms=0)
for n in range(3):  # each acknowledged before the next is sent: one ProduceRequest each
    producer.send(topic, key=b"k", value=str(n).encode()).get(30)
producer.close(10)
path = os.path.join(directory, f"{os.getpid()}.json")
deadline = time.monotonic() + 20
while time.monotonic() < deadline:  # the writer thread's next turn
    try:
        if json.load(open(path))["counts"].get("ProduceRequest") == 3:
            break
    except (OSError, ValueError):
        pass
    time.sleep(0.05)
print(os.getpid())
"""


def test_requests_are_counted_by_kind_only_when_the_directory_is_set(kafka_bootstrap, tmp_path):
    name = fresh_topic(kafka_bootstrap, "counts", 1)
    env = dict(os.environ, KINERJA_KAFKA_COUNT_DIR=str(tmp_path))
    done = subprocess.run([sys.executable, "-c", CHILD, kafka_bootstrap, name], env=env, capture_output=True,
                          text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-3000:]
    pid = done.stdout.split()[-1]
    assert [p.name for p in tmp_path.iterdir() if p.suffix == ".json"] == [f"{pid}.json"]
    data = json.loads((tmp_path / f"{pid}.json").read_text())
    assert data["counts"]["ProduceRequest"] == 3
    assert data["counts"].get("MetadataRequest", 0) >= 1  # every kind, by its class without the version
    assert data["argv"][0] == "-c"
