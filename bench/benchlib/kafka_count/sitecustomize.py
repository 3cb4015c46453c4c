"""Loaded by every Python process started with this folder on PYTHONPATH (``bench/trickle_counts.py``):
counts the Kafka requests the process sends, by kind (kafka-python's request class without its
version), and writes them every half second to ``$KINERJA_KAFKA_COUNT_DIR/<pid>.json``. A tool of
the trickle benchmark, never on the path of the system itself."""
import json
import os
import sys
import threading
import time

_DIR = os.environ.get("KINERJA_KAFKA_COUNT_DIR")


def _install() -> None:
    try:
        from kafka.net import connection
    except Exception:  # noqa: BLE001 - a process without kafka-python counts nothing
        return
    counts: dict[str, int] = {}
    original = connection.KafkaConnection.send_request

    def send_request(self, request, *args, **kwargs):
        name = type(request).__name__.split("_v")[0]
        counts[name] = counts.get(name, 0) + 1
        return original(self, request, *args, **kwargs)

    connection.KafkaConnection.send_request = send_request
    path = os.path.join(_DIR, f"{os.getpid()}.json")

    def dump() -> None:
        while True:
            time.sleep(0.5)
            try:
                tmp = path + ".tmp"
                with open(tmp, "w") as f:
                    json.dump({"argv": sys.argv, "counts": dict(counts)}, f)
                os.replace(tmp, path)
            except OSError:
                pass

    threading.Thread(target=dump, daemon=True, name="kafka-count").start()


if _DIR:
    _install()
