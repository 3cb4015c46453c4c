"""notifikasi's mailer process: queues the daily digests when due and sends queued e-mails
through the configured SMTP server, with retries."""
from __future__ import annotations

import logging
import threading

from kinerja.logging import configure_logging
from kinerja.messaging.consumer import stop_on_signals
from kinerja.cpu_priority import apply_nice
from notifikasi.entrypoints.runtime import make_runtime

log = logging.getLogger(__name__)


def main() -> None:
    apply_nice()  # a background role, below the requests (``kinerja.cpu_priority``)
    runtime = make_runtime()
    configure_logging(f"{runtime.service}-mailer")
    stop = threading.Event()
    stop_on_signals(stop)
    mailer = runtime.mailer()
    config = mailer.config  # read again on every round: a corrected setting applies without a restart
    log.info("mailer starting", extra={"smtp_host": config.host, "smtp_port": config.port})
    mailer.run(stop)


if __name__ == "__main__":
    main()
