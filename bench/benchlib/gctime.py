"""Time the cyclic garbage collector takes while a block runs (``gc.callbacks``): in the Kafka
ceiling's produce runs a large share of the producer's CPU, and larger the more objects the process
holds (the first KafkaConsumer brings ~33,000 of kafka-python's classes and functions)."""
from __future__ import annotations

import gc
import time
from contextlib import contextmanager
from typing import Iterator


@contextmanager
def gc_time() -> Iterator[dict]:
    """Yields a dict filled as the block runs: ``seconds`` in the collector (wall), ``collections``,
    and ``tracked``, the objects the collector tracked when the block began."""
    out = {"seconds": 0.0, "collections": 0, "tracked": len(gc.get_objects())}
    began = [0.0]

    def callback(phase: str, info: dict) -> None:
        if phase == "start":
            began[0] = time.perf_counter()
        else:
            out["seconds"] += time.perf_counter() - began[0]
            out["collections"] += 1

    gc.callbacks.append(callback)
    try:
        yield out
    finally:
        gc.callbacks.remove(callback)
