"""The per-process runtime of kehadiran (settings, engine, outbox), created on first use."""
from __future__ import annotations

from kehadiran.adapters.tables import metadata
from kinerja.config import Settings, load_settings
from kinerja.runtime import ServiceRuntime

SERVICE = "kehadiran"


def make_runtime(settings: Settings | None = None) -> ServiceRuntime:
    return ServiceRuntime(SERVICE, metadata, settings or load_settings(SERVICE))
