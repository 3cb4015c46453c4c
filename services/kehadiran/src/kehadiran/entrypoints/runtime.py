"""The per-process runtime of kehadiran (settings, engine, outbox), created on first use, and the
service's own settings."""
from __future__ import annotations

import os
from datetime import timedelta

from kehadiran.adapters.tables import metadata
from kehadiran.domain.corrections import MAX_AGE_DAYS
from kehadiran.domain.phone_time import DEFAULT_SKEW, MAX_SKEW
from kehadiran.service_layer.agencies import DEFAULT_BURST_S, MAX_BURST_S, AgencyDirectory
from kehadiran.service_layer.day_worker import CHUNK, LANES, SQLITE_CHUNK, SQLITE_DRAIN_CHUNK, DayWorker
from kinerja.config import Settings, load_settings, overridable, whole_number
from kinerja.runtime import ServiceRuntime

SERVICE = "kehadiran"


def make_runtime(settings: Settings | None = None) -> ServiceRuntime:
    return ServiceRuntime(SERVICE, metadata, settings or load_settings(SERVICE))


def day_worker(runtime: ServiceRuntime, **kw) -> DayWorker:
    """A day worker on the runtime's database (``KEHADIRAN_DAY_WORKER_CHUNK`` markers a round)."""
    # SQLite has one writer at a time: a smaller round's write transaction holds ingest up for less
    default = CHUNK if runtime.engine.dialect.name == "postgresql" else SQLITE_CHUNK
    kw.setdefault("chunk", _setting(runtime.settings, "day_worker_chunk", default, 1, 10_000))
    if runtime.engine.dialect.name == "sqlite":
        kw.setdefault("drain_chunk", SQLITE_DRAIN_CHUNK)  # once an upload is over (``DayWorker.run``)
    kw.setdefault("hold_s", _setting(runtime.settings, "day_worker_hold_ms", 0, 0, 10_000) / 1000)
    directory = agencies(runtime)
    return DayWorker(runtime.session_factory, runtime.outbox, zone_of=directory, burst_of=directory.burst, **kw)


def day_worker_lanes(runtime: ServiceRuntime) -> int:
    """``KEHADIRAN_DAY_WORKER_LANES``: rounds a day worker process runs at once (PostgreSQL 2;
    SQLite 1: its rounds take the one write lock in turn anyway)."""
    default = LANES if runtime.engine.dialect.name == "postgresql" else 1
    return _setting(runtime.settings, "day_worker_lanes", default, 1, 16)


def agencies(runtime: ServiceRuntime) -> AgencyDirectory:
    """The process's ``AgencyDirectory`` (each agency's zone, PIN rule and burst window), made once."""
    found = getattr(runtime, "kehadiran_agencies", None)
    if found is None:
        found = AgencyDirectory(runtime.engine, runtime.settings.timezone,
                                _setting(runtime.settings, "burst_window_s", DEFAULT_BURST_S, 0, MAX_BURST_S))
        runtime.kehadiran_agencies = found
    return found


def agency_tz(runtime: ServiceRuntime, agency: str, session=None) -> str:
    """``agency``'s zone name (the roster's, else ``KINERJA_TIMEZONE``), read on ``session``'s
    connection when the request has one open (see ``AgencyDirectory.rules``)."""
    return agencies(runtime).rules(agency, session).zone.key


def settle_days(runtime: ServiceRuntime, **kw):
    """Every dirty marker worked through now, in this process (tests, tools): what the worker
    processes do as markers commit. Returns the totals (``day_worker.Round``)."""
    return day_worker(runtime, **kw).run_until_idle()


def _setting(settings: Settings, key: str, default: int, low: int, high: int) -> int:
    """``settings.extra[key]`` (tests), else ``KEHADIRAN_<KEY>``, else ``default``; a value out of
    [low, high] stops the process at start rather than surprising anyone later."""
    name = f"KEHADIRAN_{key.upper()}"
    return whole_number(overridable(settings, key, name), name, default, low, high)


def phone_skew(settings: Settings) -> timedelta:
    """How far a phone's clock may be from the server's for its punch to be recorded."""
    return timedelta(seconds=_setting(settings, "phone_skew_s", int(DEFAULT_SKEW.total_seconds()), 0,
                                      int(MAX_SKEW.total_seconds())))


def correction_max_days(settings: Settings) -> int:
    """How many days back a correction (lupa absen) may be asked for."""
    return _setting(settings, "correction_max_days", MAX_AGE_DAYS, 0, 366)


def command_retry(settings: Settings):
    """How long a command's reply is waited for before it is handed out again, and how many times
    it is handed out before it is failed."""
    from kehadiran.service_layer.device_command_queue import COMMAND_ATTEMPTS, COMMAND_REPLY_TIMEOUT, CommandRetry

    return CommandRetry(timedelta(seconds=_setting(settings, "command_reply_s", int(COMMAND_REPLY_TIMEOUT.total_seconds()),
                                                   1, 7 * 24 * 3600)),
                        _setting(settings, "command_attempts", COMMAND_ATTEMPTS, 1, 20))


def _stored(settings: Settings, key: str) -> bool:
    """``KEHADIRAN_<KEY>``: ``store`` (or on, 1, true) keeps what terminals push; ``off`` (the default)
    acknowledges it and keeps nothing."""
    raw = str(settings.extra.get(key, os.environ.get(f"KEHADIRAN_{key.upper()}", "off"))).strip().lower()
    if raw in ("store", "on", "1", "true", "yes"):
        return True
    if raw in ("off", "0", "false", "no", ""):
        return False
    raise ValueError(f"KEHADIRAN_{key.upper()}={raw!r} is neither store nor off")


def upload_policy(settings: Settings):
    """What becomes of the photos and biometric templates terminals push (off unless configured)."""
    from kehadiran.service_layer.device_records import UploadPolicy

    return UploadPolicy(photos=_stored(settings, "device_photos"), templates=_stored(settings, "device_templates"),
                        max_bytes=_setting(settings, "device_upload_max_bytes", 256 * 1024, 1024, 4 * 1024 * 1024),
                        keep=_setting(settings, "device_uploads_keep", 500, 1, 100_000))
