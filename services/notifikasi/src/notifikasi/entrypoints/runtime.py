"""The per-process runtime of notifikasi (settings, engine, the inbox tailer), created on first use."""
from __future__ import annotations

import os
from dataclasses import dataclass
from functools import cached_property
from typing import Callable, Iterable

from sqlalchemy.orm import Session

from kinerja.config import Settings, load_settings, number, overridable, port_number, whole_number
from kinerja.events.envelope import Event
from kinerja.messaging.consumer import IdempotentConsumer
from kinerja.messaging.skipping import skip_unwanted
from kinerja.runtime import ServiceRuntime
from notifikasi.adapters import inbox_wakeup
from notifikasi.adapters.inbox_wakeup import announce_inbox_writes
from notifikasi.adapters.orm import metadata
from notifikasi.service_layer.fanout import InboxTailer
from notifikasi.adapters.egress import EgressPolicy
from notifikasi.adapters.secret_box import SecretBox
from notifikasi.adapters.trusted_decode import decode_record
from notifikasi.adapters.webhook_client import WebhookClient
from notifikasi.domain.webhooks import RetryPolicy
from notifikasi.service_layer.notifications import HANDLED_TYPES, wants
from notifikasi.service_layer.webhooks import WebhookDispatcher
from notifikasi.service_layer.mailer import Mailer
from notifikasi.adapters.smtp import SmtpConfig

SERVICE = "notifikasi"


@dataclass(frozen=True)
class StreamOptions:
    heartbeat_s: float = 15.0  # a comment line this often keeps proxies open and finds gone clients
    poll_interval_s: float = 2.0  # how often the tailer looks without being woken (a wake-up lost)
    queue_size: int = 1000  # frames buffered per client before a slow one is cut off
    retry_ms: int = 2000  # the reconnect delay suggested to EventSource


def _option(settings: Settings, key: str, default: float) -> float:
    """``settings.extra[key]`` (tests), else ``NOTIFIKASI_<KEY>`` from the environment, else default."""
    name = f"NOTIFIKASI_{key.upper()}"
    return number(overridable(settings, key, name), name, default)


def _whole(settings: Settings, key: str, default: int, low: int, high: int | None = None) -> int:
    """``_option`` for a whole number within ``low``..``high``."""
    name = f"NOTIFIKASI_{key.upper()}"
    return whole_number(overridable(settings, key, name), name, default, low, high)


def _text(settings: Settings, key: str, default: str) -> str:
    if key in settings.extra:
        return str(settings.extra[key])
    env = os.environ.get(f"NOTIFIKASI_{key.upper()}")
    return env if env not in (None, "") else default


_FILES: dict[str, tuple[tuple, dict[str, str]]] = {}


def _settings_file(path: str) -> dict[str, str]:
    """``KEY=VALUE`` lines of a settings file (``#`` comments, optional quotes), read again only
    when the file changes; a file that cannot be read counts as empty (the mailer says so in its
    error when the settings it falls back to do not work)."""
    try:
        st = os.stat(path)
    except OSError:
        return {}
    stamp = (st.st_mtime_ns, st.st_size, st.st_ino)
    cached = _FILES.get(path)
    if cached is not None and cached[0] == stamp:
        return cached[1]
    values: dict[str, str] = {}
    try:
        with open(path, encoding="utf-8") as fh:
            for line in fh.read(65536).splitlines():
                line = line.strip()
                if not line or line.startswith("#") or "=" not in line:
                    continue
                key, _, val = line.partition("=")
                values[key.strip().removeprefix("export ").strip()] = val.strip().strip("\"'")
    except (OSError, UnicodeDecodeError):
        return {}
    _FILES[path] = (stamp, values)
    return values


def stream_options(settings: Settings) -> StreamOptions:
    return StreamOptions(
        heartbeat_s=_option(settings, "sse_heartbeat_s", 15.0),
        poll_interval_s=_option(settings, "sse_poll_s", 2.0),
        queue_size=_whole(settings, "sse_queue_size", 1000, 1),
        retry_ms=_whole(settings, "sse_retry_ms", 2000, 0),
    )


class NotifikasiRuntime(ServiceRuntime):
    @cached_property
    def session_factory(self):
        """The runtime's sessions; on SQLite a commit that added inbox rows wakes the stream
        tailers of the web processes (on PostgreSQL a trigger does: ``adapters.inbox_wakeup``)."""
        factory = super().session_factory
        announce_inbox_writes(factory, self.engine)
        return factory

    @cached_property
    def stream_options(self) -> StreamOptions:
        return stream_options(self.settings)

    @cached_property
    def egress(self) -> EgressPolicy:
        """Where webhooks may go: public addresses, and what ``NOTIFIKASI_WEBHOOK_ALLOW``
        (``webhook_allow``) adds for on-premise receivers (addresses, CIDRs, host names)."""
        return EgressPolicy.from_config(_text(self.settings, "webhook_allow", ""))

    @cached_property
    def secret_box(self) -> SecretBox:
        """Webhook secrets at rest: ``NOTIFIKASI_SECRET_KEYS`` (``secret_keys``; Fernet keys, the first
        encrypts), else a key derived from the JWT secret."""
        return SecretBox.from_config(_text(self.settings, "secret_keys", ""), self.settings.jwt_secret)

    @cached_property
    def tailer(self) -> InboxTailer:
        """This process's one inbox tailer (its thread starts with the first stream)."""
        opts = self.stream_options
        return InboxTailer(self.session_factory, poll_interval_s=opts.poll_interval_s, queue_size=opts.queue_size,
                           wake_source=lambda wake: inbox_wakeup.listen(self.engine, wake))

    def webhook_dispatcher(self) -> WebhookDispatcher:
        """Settings: ``webhook_base_delay_s`` (5), ``webhook_max_delay_s`` (3600), ``webhook_allow`` (see egress),
        ``webhook_max_attempts`` (10), ``webhook_disable_after`` (20 consecutive failed attempts),
        ``webhook_timeout_s`` (10), ``webhook_poll_s`` (1); env ``NOTIFIKASI_<NAME>``."""
        s = self.settings
        policy = RetryPolicy(
            base_delay_s=_option(s, "webhook_base_delay_s", 5.0),
            max_delay_s=_option(s, "webhook_max_delay_s", 3600.0),
            max_attempts=_whole(s, "webhook_max_attempts", 10, 1),
            disable_after=_whole(s, "webhook_disable_after", 20, 1),
        )
        return WebhookDispatcher(self.session_factory, policy=policy, box=self.secret_box,
                                 client=WebhookClient(timeout_s=_option(s, "webhook_timeout_s", 10.0),
                                                      egress=self.egress),
                                 poll_interval_s=_option(s, "webhook_poll_s", 1.0))

    def smtp_config(self) -> SmtpConfig:
        """The SMTP settings as they are now; the mailer asks on every round, so a corrected
        setting applies without a restart. Each of ``smtp_host`` (127.0.0.1), ``smtp_port`` (25),
        ``smtp_sender``, ``smtp_starttls`` (0/1), ``smtp_username``, ``smtp_password`` comes from
        the settings, else the file ``NOTIFIKASI_SMTP_CONFIG_FILE`` names (``NOTIFIKASI_SMTP_HOST=…``
        lines, as a mounted Secret or ConfigMap keeps them; read again when it changes), else the
        environment (``NOTIFIKASI_SMTP_HOST``, …), else the default."""
        s = self.settings
        path = str(s.extra.get("smtp_config_file") or os.environ.get("NOTIFIKASI_SMTP_CONFIG_FILE") or "")
        from_file = _settings_file(path) if path else {}

        def value(key: str, default: str) -> str:
            if key in s.extra:
                return str(s.extra[key])
            found = from_file.get(f"NOTIFIKASI_{key.upper()}")
            if found not in (None, ""):
                return found
            env = os.environ.get(f"NOTIFIKASI_{key.upper()}")
            return env if env not in (None, "") else default

        port, timeout = "NOTIFIKASI_SMTP_PORT", "NOTIFIKASI_SMTP_TIMEOUT_S"  # named in a bad value's error
        numbers = {port: value("smtp_port", "25"), timeout: value("smtp_timeout_s", "15")}
        return SmtpConfig(
            host=value("smtp_host", "127.0.0.1"), port=port_number(numbers, port, 25),
            sender=value("smtp_sender", "Kinerja <noreply@kinerja.local>"),
            starttls=value("smtp_starttls", "0").strip().lower() in ("1", "true", "yes"),
            username=value("smtp_username", "") or None, password=value("smtp_password", "") or None,
            timeout_s=number(numbers, timeout, 15.0),
        )

    def mailer(self) -> Mailer:
        """The mailer: SMTP per ``smtp_config`` on every round; ``mail_poll_s`` (5); ``mail_batch_s``
        (180: a person's immediate e-mails within that many seconds of the first go out as one,
        read on every round too); retries after ``mail_retry_base_s`` (30), doubling up to
        ``mail_retry_max_s`` (3600), given up after ``mail_max_attempts`` (8). Digests use
        ``KINERJA_TIMEZONE``; those to the roster's addresses go at ``NOTIFIKASI_DIGEST_HOUR``
        (16, agency-local)."""
        s = self.settings
        hour = _whole(s, "digest_hour", 16, 0, 23)
        policy = RetryPolicy(base_delay_s=_option(s, "mail_retry_base_s", 30.0),
                             max_delay_s=_option(s, "mail_retry_max_s", 3600.0),
                             max_attempts=_whole(s, "mail_max_attempts", 8, 1))
        return Mailer(self.session_factory, self.smtp_config, tz=s.timezone, policy=policy,
                      poll_interval_s=_option(s, "mail_poll_s", 5.0),
                      batch_s=lambda: max(0.0, min(3600.0, _option(s, "mail_batch_s", 180.0))),
                      default_digest_hour=hour)

    def mailer_line(self) -> tuple[dict, str | None]:
        """``/readyz``'s mailer line: its state, what waits, what was given up; a problem while
        mail does not go out (or has waited far longer than the batch window)."""
        from notifikasi.service_layer.email_status import mailer_health

        with self.session() as session:
            line = mailer_health(session)
        problem = None
        if line["status"] == "failing":
            problem = f"e-mail is not going out since {line['failing_since']}: {line['last_error']}"
        elif line["oldest_pending_s"] is not None and line["oldest_pending_s"] > 3600 + _option(
                self.settings, "mail_batch_s", 180.0):
            problem = f"{line['pending']} e-mail waiting, the oldest for {line['oldest_pending_s']} s: is the mailer running?"
        return line, problem

    def consumer(self, topics: Iterable[str], handle: Callable[[Session, Event], None],
                 group_id: str | None = None, **kw) -> IdempotentConsumer:
        """The shared consumer, minus the work for event types this service ignores (punches and
        day summaries): passed over from their bytes, without the schema or a transaction
        (``skip_unwanted``; ``consumer.skipped`` counts them), and ``wants`` checks the decoded
        type again. Score updates, most of what it applies, and roster events are decoded by
        hand-written checks that are never looser than the schemas, which decide anything else (``trusted_decode``:
        marshmallow was about a third of the consumer thread's CPU with small polls)."""
        kw.setdefault("skip", skip_unwanted(HANDLED_TYPES))
        kw.setdefault("wants", wants)
        kw.setdefault("decode", decode_record)
        return super().consumer(topics, handle, group_id, **kw)

    @property
    def apply_batch_size(self) -> int:
        """Messages of one poll applied in one transaction by the consumer process:
        ``NOTIFIKASI_APPLY_BATCH`` (``apply_batch`` in settings), default 200; 1 = one by one."""
        return _whole(self.settings, "apply_batch", 200, 1)

    def dispose(self) -> None:
        if "tailer" in self.__dict__:
            self.tailer.stop()
        super().dispose()


def make_runtime(settings: Settings | None = None) -> NotifikasiRuntime:
    return NotifikasiRuntime(SERVICE, metadata, settings or load_settings(SERVICE))
