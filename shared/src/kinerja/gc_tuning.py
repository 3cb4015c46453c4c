"""Python's garbage collector set for a long-running process, once it has started.

Everything a process makes while starting (modules, the ORM's tables, compiled statements,
kafka-python's clients: the first ``KafkaConsumer`` alone leaves ~33,000 objects) lives until it
exits, yet every older collection walks it again. ``tune_gc`` moves it out of the collector's
sight (``gc.freeze``: it is never garbage) and makes young collections rarer (``GC_THRESHOLDS``:
a poll or a round allocates thousands of objects, most alive until its transaction ends, which at
Python's default of a young collection every 700 allocations were traversed again and again and
promoted). Reference cycles are still collected, only later. Measured: penilaian's consumer (a
large share of a fixed workload's CPU, seen with ``gc.callbacks``); a producer 2-3 µs a record
(``kinerja.messaging.producer``).

Called by each process's entrypoint after its start-up (the consumer, relay and day worker
mains; a gunicorn worker once it has loaded the app, ``post_worker_init``), never at import:
a test process must keep Python's own settings.
"""
from __future__ import annotations

import gc

GC_THRESHOLDS = (10_000, 50, 100)


def tune_gc(thresholds: tuple[int, int, int] = GC_THRESHOLDS) -> None:
    """What exists now frozen (after a full collection, so no garbage is kept), then ``thresholds``."""
    gc.collect()
    gc.freeze()
    gc.set_threshold(*thresholds)
