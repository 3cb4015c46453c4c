"""The per-process runtime of penilaian (settings, engine, outbox), created on first use."""
from __future__ import annotations

from functools import cached_property

from kinerja.config import Settings, load_settings
from kinerja.db import make_engine
from kinerja.runtime import ServiceRuntime
from penilaian.adapters.bulk_writes import multirow_inserts
from penilaian.adapters.json_reads import read_json_fast
from penilaian.adapters.orm import metadata

SERVICE = "penilaian"


class PenilaianRuntime(ServiceRuntime):
    @cached_property
    def engine(self):
        # on SQLite, plain INSERT executemany (ORM inserts too) as multi-row VALUES (``bulk_writes``);
        # on PostgreSQL, JSON columns read by orjson (``json_reads``)
        return read_json_fast(multirow_inserts(make_engine(self.settings.database_url)))


def make_runtime(settings: Settings | None = None) -> PenilaianRuntime:
    return PenilaianRuntime(SERVICE, metadata, settings or load_settings(SERVICE))
