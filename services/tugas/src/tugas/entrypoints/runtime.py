"""The per-process runtime of tugas (settings, engine, outbox), created on first use."""
from __future__ import annotations

import os
from pathlib import Path

from kinerja.config import Settings, load_settings, repo_var_dir
from kinerja.runtime import ServiceRuntime
from tugas.adapters.orm import metadata

SERVICE = "tugas"


def make_runtime(settings: Settings | None = None) -> ServiceRuntime:
    return ServiceRuntime(SERVICE, metadata, settings or load_settings(SERVICE))


DEFAULT_MAX_EVIDENCE_BYTES = 10 * 1024 * 1024


def evidence_dir(settings: Settings) -> Path:
    """Where uploaded evidence files live: ``evidence_dir`` override, ``TUGAS_EVIDENCE_DIR``, else
    ``<var dir>/tugas/evidence``."""
    configured = settings.extra.get("evidence_dir") or os.environ.get("TUGAS_EVIDENCE_DIR")
    return Path(configured) if configured else repo_var_dir() / "tugas" / "evidence"


def max_evidence_bytes(settings: Settings) -> int:
    configured = settings.extra.get("max_evidence_bytes") or os.environ.get("TUGAS_MAX_EVIDENCE_BYTES")
    return int(configured) if configured else DEFAULT_MAX_EVIDENCE_BYTES
