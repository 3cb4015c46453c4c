"""Configuration read from the environment at call time, never at import.

Every variable is listed in the README. A service asks for its settings with
``load_settings("kehadiran")``; tests pass overrides instead of touching ``os.environ``.
"""
from __future__ import annotations

import math
import os
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Callable, Mapping, Sequence, TypeVar

DEFAULT_PORTS = {"kehadiran": 8001, "tugas": 8002, "penilaian": 8003, "notifikasi": 8004}
# the most gunicorn workers and threads a web app's settings may ask for (``kinerja.stack``,
# notifikasi's ``gunicorn_conf``): beyond them a value is a typo, not a plan
MAX_WEB_WORKERS = 64
MAX_WEB_THREADS = 10000
# the most kehadiran day workers and outbox relays per service ``kinerja up`` and ``kinerja.stack``
# take (``KEHADIRAN_DAY_WORKERS``, ``KINERJA_RELAYS``): as above, beyond it a value is a typo
MAX_DAY_WORKERS = 64
MAX_RELAYS = 64
# the signing secret of development and the tests, never of production (see jwt_secret_from_env)
DEV_JWT_SECRET = "kinerja-dev-secret-change-me-in-production-0123456789"
PRODUCTION = "production"
MIN_SECRET_LENGTH = 32
INSTALLATION_SECRET_FILE = "jwt-secret"


class ConfigError(RuntimeError):
    """A configuration a process must not start with."""


class SettingError(ConfigError, ValueError):
    """A numeric setting that is not a number or is out of its bounds, named in the message. Both a
    ``ConfigError`` and a ``ValueError``: the callers' handlers of either keep catching it."""


_N = TypeVar("_N", int, float)


def whole_number(env: Mapping[str, Any], names: str | Sequence[str], default: int,
                 low: int | None = None, high: int | None = None) -> int:
    """The first of ``names`` set (not blank) in ``env``, a whole number within ``low``..``high``
    (either may be None: no bound), else ``default`` (not checked: the caller's own). Pass
    ``os.environ`` itself, read at call time; a bad value raises ``SettingError`` naming it."""
    return _setting(env, names, default, low, high, int, "a whole number")


def port_number(env: Mapping[str, Any], name: str, default: int) -> int:
    """``whole_number`` for a TCP port setting: 1..65535."""
    return whole_number(env, name, default, 1, 65535)


def number(env: Mapping[str, Any], names: str | Sequence[str], default: float,
           low: float | None = None, high: float | None = None) -> float:
    """``whole_number``'s sibling for a setting that may have a fraction (a finite ``float``)."""
    return _setting(env, names, default, low, high, _finite, "a number")


def overridable(settings: Settings, key: str, name: str) -> Mapping[str, Any]:
    """Where a service's own setting ``name`` is read: ``settings.extra[key]`` when a caller (a
    test) passed one, under ``name``, else the environment. For ``whole_number`` / ``number``."""
    return {name: settings.extra[key]} if key in settings.extra else os.environ


def _finite(raw: str) -> float:
    value = float(raw)
    if not math.isfinite(value):  # float() takes "nan" and "inf": no setting means either
        raise ValueError(raw)
    return value


def _setting(env: Mapping[str, Any], names: str | Sequence[str], default: _N, low: _N | None, high: _N | None,
             parse: Callable[[str], _N], kind: str) -> _N:
    for name in (names,) if isinstance(names, str) else names:
        found = env.get(name)  # a str from the environment; an int or str from a test's overrides
        raw = "" if found is None else str(found).strip()
        if raw:
            break
    else:
        return default
    try:
        value = parse(raw)
    except ValueError:
        raise SettingError(f"{name}={raw!r} is not {kind}") from None
    if high is None and low is not None and value < low:
        raise SettingError(f"{name}={value} must be at least {low}")
    if low is None and high is not None and value > high:
        raise SettingError(f"{name}={value} must be at most {high}")
    if low is not None and high is not None and not low <= value <= high:
        raise SettingError(f"{name}={value} is outside {low}..{high}")
    return value


def environment() -> str:
    """``KINERJA_ENV``: ``production`` makes a missing or weak signing secret fatal; anything else
    (the default, ``development``) lets a process start with the development secret."""
    return (os.environ.get("KINERJA_ENV") or "development").strip().lower()


def jwt_secret_from_env() -> str:
    """``KINERJA_JWT_SECRET``, else the contents of ``KINERJA_JWT_SECRET_FILE``. In production
    (``KINERJA_ENV=production``) there must be one, of at least 32 characters, and not the
    development secret or a ``CHANGE-ME`` placeholder: a process refuses to start otherwise.
    Elsewhere the development secret stands in (``kinerja up`` generates one per installation
    under ``var/`` and hands it to every process it starts)."""
    secret = os.environ.get("KINERJA_JWT_SECRET") or ""
    path = os.environ.get("KINERJA_JWT_SECRET_FILE")
    if not secret and path:
        try:
            secret = Path(path).read_text().strip()
        except OSError as exc:
            raise ConfigError(f"KINERJA_JWT_SECRET_FILE {path}: {exc}") from None
    if environment() == PRODUCTION:
        if not secret:
            raise ConfigError("KINERJA_ENV=production and no KINERJA_JWT_SECRET (or KINERJA_JWT_SECRET_FILE): "
                              "refusing to start with the development signing secret")
        if secret == DEV_JWT_SECRET or secret.upper().startswith("CHANGE-ME") or len(secret) < MIN_SECRET_LENGTH:
            raise ConfigError(f"KINERJA_ENV=production: KINERJA_JWT_SECRET must be at least {MIN_SECRET_LENGTH} "
                              "characters of random data, not the development secret or a placeholder")
    return secret or DEV_JWT_SECRET


def installation_secret(var_dir: Path, *, create: bool = True) -> str | None:
    """This installation's signing secret, kept in ``<var>/jwt-secret`` (mode 0600): made once by
    ``kinerja up`` and read by the ``kinerja`` command, so tokens it issues match the services it
    started. None when the file is missing and ``create`` is false."""
    path = Path(var_dir) / INSTALLATION_SECRET_FILE
    if path.exists():
        return path.read_text().strip()
    if not create:
        return None
    import secrets

    path.parent.mkdir(parents=True, exist_ok=True)
    value = secrets.token_urlsafe(48)
    tmp = path.with_name(path.name + ".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as out:
        out.write(value + "\n")
    os.replace(tmp, path)
    return value


DEFAULT_PARTITIONS = 12
MAX_PARTITIONS = 10_000


def default_partitions() -> int:
    """``KINERJA_PARTITIONS``: partitions of each event topic this installation creates (the local
    broker, ``kinerja topics create``, compose), read when asked, never at import. 12 by default: a
    consumer group uses at most one consumer per partition, so this is also the most consumers of a
    service that can share its work (the KEDA caps in deploy/k8s follow it). Sizing for a province
    or the nation, and how to add partitions to a running topic: deploy/README.md."""
    return whole_number(os.environ, "KINERJA_PARTITIONS", DEFAULT_PARTITIONS, 1, MAX_PARTITIONS)


NOTIFY_AFTER_COMMIT_ENV = "KINERJA_NOTIFY_AFTER_COMMIT"
NOTIFY_AFTER_COMMIT_MODES = ("auto", "on", "off")


def notify_after_commit_mode() -> str:
    """``KINERJA_NOTIFY_AFTER_COMMIT``: whether kehadiran's punch requests on PostgreSQL send their
    notifications after the commit (``kinerja.after_commit_notify``): ``auto`` (also when unset or
    empty), ``on`` or ``off``, in any case (``ON`` is ``on``, as ``KINERJA_ENV``'s values are; blanks
    around it ignored). Read where it is used, on the first punch;
    ``load_settings`` asks too, so that a misspelt value stops a process at start rather than
    failing its first punch request with a 500."""
    raw = (os.environ.get(NOTIFY_AFTER_COMMIT_ENV) or "").strip()
    mode = raw.lower() or "auto"
    if mode not in NOTIFY_AFTER_COMMIT_MODES:
        raise ConfigError(f"{NOTIFY_AFTER_COMMIT_ENV} must be one of {', '.join(NOTIFY_AFTER_COMMIT_MODES)} "
                          f"(any case), not {raw!r}")
    return mode


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
    outbox_retention_s: float = 600.0
    processed_retention_s: float = 7 * 24 * 3600.0
    relay_batch: int = 500
    relay_max_in_flight: int = 5000
    relay_round_gap_s: float = 0.005
    relay_mark_interval_s: float = 0.5
    extra: Mapping[str, Any] = field(default_factory=dict)

    def with_overrides(self, **kw: Any) -> "Settings":
        return replace(self, **kw)


def _env(name: str, default: str) -> str:
    value = os.environ.get(name)
    return value if value not in (None, "") else default


def load_settings(service: str, overrides: Mapping[str, Any] | None = None) -> Settings:
    upper, env = service.upper(), os.environ
    notify_after_commit_mode()  # checked at start (see there); not kept: read again where it is used
    default_db = f"sqlite:///{repo_var_dir() / (service + '.db')}"
    settings = Settings(
        service=service,
        database_url=_env(f"{upper}_DATABASE_URL", default_db),
        kafka_bootstrap=_env("KINERJA_KAFKA_BOOTSTRAP", f"127.0.0.1:{_env('KINERJA_KAFKA_PORT', '9092')}"),
        topic_prefix=_env("KINERJA_TOPIC_PREFIX", ""),
        jwt_secret=jwt_secret_from_env(),
        jwt_issuer=_env("KINERJA_JWT_ISSUER", "kinerja"),
        port=port_number(env, f"{upper}_PORT", DEFAULT_PORTS.get(service, 8000)),
        timezone=_env("KINERJA_TIMEZONE", "Asia/Jakarta"),
        max_body_bytes=whole_number(env, "KINERJA_MAX_BODY_BYTES", 1024 * 1024, low=1),
        consumer_group=_env(f"{upper}_CONSUMER_GROUP", f"{service}"),
        outbox_retention_s=number(env, "KINERJA_OUTBOX_RETENTION_S", 600),
        processed_retention_s=number(env, "KINERJA_PROCESSED_RETENTION_S", 7 * 24 * 3600),
        relay_batch=whole_number(env, "KINERJA_RELAY_BATCH", 500, low=1),
        relay_max_in_flight=whole_number(env, "KINERJA_RELAY_MAX_IN_FLIGHT", 5000, low=1),
        # kinerja.messaging.relay.outbox_relay.ROUND_GAP_S; bounded to 0..100 ms (longer only delays)
        relay_round_gap_s=min(max(number(env, "KINERJA_RELAY_ROUND_GAP_MS", 5), 0.0), 100.0) / 1000.0,
        # kinerja.messaging.relay.outbox_relay.MARK_INTERVAL_S; bounded to 0..5 s (longer only
        # sends more again after a relay dies)
        relay_mark_interval_s=min(max(number(env, "KINERJA_RELAY_MARK_INTERVAL_MS", 500), 0.0), 5000.0) / 1000.0,
    )
    if overrides:
        known = {k: v for k, v in overrides.items() if k in Settings.__dataclass_fields__}
        extra = {k: v for k, v in overrides.items() if k not in known}
        settings = replace(settings, **known)
        if extra:
            settings = replace(settings, extra={**settings.extra, **extra})
    return settings
