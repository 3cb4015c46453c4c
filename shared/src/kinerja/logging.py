"""JSON logs, one object a line, carrying event ids where a record has them."""
from __future__ import annotations

import logging
import os
import sys

from pythonjsonlogger.json import JsonFormatter


def configure_logging(service: str, level: str | None = None) -> None:
    root = logging.getLogger()
    if getattr(root, "_kinerja_configured", False):
        return
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(
        JsonFormatter(
            "%(asctime)s %(levelname)s %(name)s %(message)s",
            rename_fields={"asctime": "time", "levelname": "level", "name": "logger"},
            static_fields={"service": service},
        )
    )
    root.handlers[:] = [handler]
    root.setLevel(level or os.environ.get("KINERJA_LOG_LEVEL", "INFO"))
    # kafka-python is chatty at INFO about every connection
    logging.getLogger("kafka").setLevel(logging.WARNING)
    root._kinerja_configured = True  # type: ignore[attr-defined]
