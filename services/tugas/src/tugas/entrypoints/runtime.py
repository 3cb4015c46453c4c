"""The per-process runtime of tugas (settings, engine, outbox), created on first use."""
from __future__ import annotations

from kinerja.config import Settings, load_settings
from kinerja.runtime import ServiceRuntime
from tugas.adapters.orm import metadata

SERVICE = "tugas"


def make_runtime(settings: Settings | None = None) -> ServiceRuntime:
    return ServiceRuntime(SERVICE, metadata, settings or load_settings(SERVICE))
