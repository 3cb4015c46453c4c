"""notifikasi's webhook dispatcher process: sends due deliveries, retries with backoff, disables
endpoints that keep failing. Several may run; they share the work through the database."""
from __future__ import annotations

import logging
import threading

from kinerja.logging import configure_logging
from kinerja.messaging.consumer import stop_on_signals
from kinerja.metrics import serve_process_metrics
from kinerja.cpu_priority import apply_nice
from notifikasi.entrypoints.runtime import make_runtime

log = logging.getLogger(__name__)


def main() -> None:
    apply_nice()  # a background role, below the requests (``kinerja.cpu_priority``)
    runtime = make_runtime()
    configure_logging(f"{runtime.service}-webhooks")
    stop = threading.Event()
    stop_on_signals(stop)
    serve_process_metrics(runtime.service, "webhooks")
    log.info("webhook dispatcher starting")
    runtime.webhook_dispatcher().run(stop)


if __name__ == "__main__":
    main()
