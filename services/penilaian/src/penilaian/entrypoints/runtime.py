"""The per-process runtime of penilaian (settings, engine, outbox), created on first use."""
from __future__ import annotations

from kinerja.config import Settings, load_settings
from kinerja.runtime import ServiceRuntime
from penilaian.adapters.orm import metadata

SERVICE = "penilaian"


def make_runtime(settings: Settings | None = None) -> ServiceRuntime:
    return ServiceRuntime(SERVICE, metadata, settings or load_settings(SERVICE))
