"""Kafka requests this process sends, counted by kind, for ``bench/trickle_counts.py`` (what a punch
costs at a trickle, in requests of each process of the stack).

Off unless ``KINERJA_KAFKA_COUNT_DIR`` names a directory: then the first producer or consumer the
process makes (``kinerja.messaging.producer.make_producer``, the consumer loop) installs the counter,
and every request any kafka-python client of the process sends from then on is counted under its
request class without the version (``FetchRequest``, ``ProduceRequest``, ...). The counts are
written every half second to ``<dir>/<pid>.json`` as ``{"argv": [...], "counts": {...}}``.

Why here and not kafka-python's own metrics: those are turned off in every client (they cost ~15 %
of a relay's sender thread at a low rate, see ``producer``), they would change the CPU the benchmark
measures, and they rate requests per node, not per kind. Counting one call per request costs a
dict update; unset, the only cost is reading the variable when a client is made.
"""
from __future__ import annotations

import json
import os
import sys
import threading
import time

COUNT_DIR_ENV = "KINERJA_KAFKA_COUNT_DIR"
WRITE_EVERY_S = 0.5

_lock = threading.Lock()
_counts: dict[str, int] = {}
_installed_in: int | None = None  # the pid that counts (a forked child starts its own count and file)


def install_from_env() -> bool:
    """Install the counter when ``KINERJA_KAFKA_COUNT_DIR`` is set; True if this call installed it."""
    directory = os.environ.get("KINERJA_KAFKA_COUNT_DIR")
    return install(directory) if directory else False


def install(directory: str) -> bool:
    """Count this process's Kafka requests into ``<directory>/<pid>.json`` (once per process)."""
    global _installed_in
    with _lock:
        pid = os.getpid()
        if _installed_in == pid:
            return False
        from kafka.net import connection

        cls = connection.KafkaConnection
        if not getattr(cls.send_request, "_kinerja_counting", False):
            original = cls.send_request

            def send_request(self, request, *args, **kwargs):
                name = type(request).__name__.split("_v")[0]
                _counts[name] = _counts.get(name, 0) + 1
                return original(self, request, *args, **kwargs)

            send_request._kinerja_counting = True  # type: ignore[attr-defined]
            cls.send_request = send_request
        _counts.clear()  # a child forked from a counting parent counts its own requests only
        _installed_in = pid
    path = os.path.join(directory, f"{pid}.json")
    threading.Thread(target=_write_every, args=(path, pid), daemon=True, name="kafka-request-counts").start()
    return True


def counts() -> dict[str, int]:
    """The requests counted so far in this process, by kind."""
    return dict(_counts)


def _write_every(path: str, pid: int) -> None:
    while _installed_in == pid:
        time.sleep(WRITE_EVERY_S)
        try:
            tmp = path + ".tmp"
            with open(tmp, "w") as f:
                json.dump({"argv": sys.argv, "counts": dict(_counts)}, f)
            os.replace(tmp, path)  # a reader never sees half a file
        except OSError:
            pass  # the benchmark removed its directory: nothing left to tell
