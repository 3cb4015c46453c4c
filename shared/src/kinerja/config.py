"""Configuration read from the environment at call time, never at import.

Every variable is listed in the README. A service asks for its settings with
``load_settings("kehadiran")``; tests pass overrides instead of touching ``os.environ``.
"""
from __future__ import annotations

import os
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Mapping

DEFAULT_PORTS = {"kehadiran": 8001, "tugas": 8002, "penilaian": 8003, "notifikasi": 8004}
DEV_JWT_SECRET = "kinerja-dev-secret-change-me-in-production-0123456789"


def repo_var_dir() -> Path:
    """Where embedded SQLite files and local broker data live (``KINERJA_VAR_DIR``, else ./var)."""
    return Path(os.environ.get("KINERJA_VAR_DIR", "var")).resolve()


@dataclass(frozen=True)
class Settings:
    service: str
    database_url: str
    kafka_bootstrap: str
    topic_prefix: str = ""
    jwt_secret: str = DEV_JWT_SECRET
    jwt_issuer: str = "kinerja"
    port: int = 8000
    timezone: str = "Asia/Jakarta"
    max_body_bytes: int = 1024 * 1024
    consumer_group: str = ""
    extra: Mapping[str, Any] = field(default_factory=dict)

    def with_overrides(self, **kw: Any) -> "Settings":
        return replace(self, **kw)


def _env(name: str, default: str) -> str:
    value = os.environ.get(name)
    return value if value not in (None, "") else default


def load_settings(service: str, overrides: Mapping[str, Any] | None = None) -> Settings:
    upper = service.upper()
    default_db = f"sqlite:///{repo_var_dir() / (service + '.db')}"
    settings = Settings(
        service=service,
        database_url=_env(f"{upper}_DATABASE_URL", default_db),
        kafka_bootstrap=_env("KINERJA_KAFKA_BOOTSTRAP", f"127.0.0.1:{_env('KINERJA_KAFKA_PORT', '9092')}"),
        topic_prefix=_env("KINERJA_TOPIC_PREFIX", ""),
        jwt_secret=_env("KINERJA_JWT_SECRET", DEV_JWT_SECRET),
        jwt_issuer=_env("KINERJA_JWT_ISSUER", "kinerja"),
        port=int(_env(f"{upper}_PORT", str(DEFAULT_PORTS.get(service, 8000)))),
        timezone=_env("KINERJA_TIMEZONE", "Asia/Jakarta"),
        max_body_bytes=int(_env("KINERJA_MAX_BODY_BYTES", str(1024 * 1024))),
        consumer_group=_env(f"{upper}_CONSUMER_GROUP", f"{service}"),
    )
    if overrides:
        known = {k: v for k, v in overrides.items() if k in Settings.__dataclass_fields__}
        extra = {k: v for k, v in overrides.items() if k not in known}
        settings = replace(settings, **known)
        if extra:
            settings = replace(settings, extra={**settings.extra, **extra})
    return settings
