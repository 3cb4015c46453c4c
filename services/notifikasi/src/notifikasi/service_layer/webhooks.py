"""Webhooks: registration, deliveries written with the event (in the consumer's transaction), and
the dispatcher that sends them, retries with backoff and disables an endpoint that keeps failing.

Retry state lives in the ``webhook_deliveries`` rows, not in memory (so not tenacity's in-process
retrying): a restart or a second dispatcher process picks up where the first left off. A
dispatcher claims due rows with ``FOR UPDATE SKIP LOCKED`` (PostgreSQL; SQLite serialises
writers) and pushes their next attempt a lease ahead before sending, so two dispatchers never
send the same attempt and a crashed one's claims come due again after the lease.
"""
from __future__ import annotations

import json
import logging
import secrets
import threading
import time
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Callable, Sequence

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from kinerja.db import planned_each_time
from kinerja.events.envelope import Event
from kinerja.metrics import WEBHOOK_FAILURES
from notifikasi.adapters.orm import Notification, Webhook, WebhookAttempt, WebhookDelivery
from notifikasi.adapters.egress import EgressPolicy
from notifikasi.adapters.secret_box import SecretBox, SecretUnreadable
from notifikasi.adapters.webhook_client import PostResult, WebhookClient
from notifikasi.adapters.audience import ActiveWebhook, read_audience
from kinerja.fixed_inserts import insert_new
from notifikasi.domain import webhooks as rules
from notifikasi.domain.webhooks import RetryPolicy
from notifikasi.service_layer.clock import utcnow

log = logging.getLogger(__name__)

WEBHOOK_DISABLED = "webhook.disabled"


def new_secret() -> str:
    return secrets.token_urlsafe(32)


class DestinationNotAllowed(ValueError):
    pass


def register_webhook(session: Session, *, agency: str, url: str, box: SecretBox, secret: str | None = None,
                     event_types: list[str] | None = None, created_by_nip: str | None = None,
                     egress: EgressPolicy | None = None, now: datetime | None = None) -> Webhook:
    """A new endpoint; its secret is stored sealed by ``box`` and handed back once as
    ``hook.plain_secret``. With ``egress``, a URL pointing inwards raises DestinationNotAllowed."""
    if egress is not None:
        reason = egress.refusal(url)
        if reason:
            raise DestinationNotAllowed(f"{reason}; an operator allows on-premise receivers with "
                                        "NOTIFIKASI_WEBHOOK_ALLOW")
    plain = secret or new_secret()
    hook = Webhook(agency=agency, url=url, secret=box.seal(plain), event_types=list(event_types or []),
                   active=True, created_by_nip=created_by_nip, created_at=now or utcnow(), consecutive_failures=0)
    session.add(hook)
    session.flush()
    hook.plain_secret = plain  # not a column: the registration's answer shows it once
    return hook


def enable_webhook(session: Session, hook: Webhook) -> Webhook:
    hook.active, hook.consecutive_failures, hook.disabled_at, hook.disabled_reason = True, 0, None, None
    return hook


def event_body(event: Event, data: dict) -> str:
    """The CloudEvents JSON an endpoint receives (``data`` already as plain JSON values)."""
    return json.dumps({"specversion": "1.0", "id": event.id, "type": event.type, "source": event.source,
                       "time": event.time.isoformat(), "subject": event.subject, "agency": event.agency,
                       "data": data}, separators=(",", ":"), ensure_ascii=False)


def enqueue(session: Session, event: Event, data: dict, *, now: datetime | None = None) -> int:
    """A delivery per active webhook of the event's agency that wants its type, in this
    transaction; returns how many."""
    return enqueue_many(session, [(event, data)], now=now)


def enqueue_many(session: Session, items: Sequence[tuple[Event, dict]], *, now: datetime | None = None,
                 hooks: dict[str, list[ActiveWebhook]] | None = None) -> int:
    """``enqueue`` for several events in order (each with its ``data`` as plain JSON values): the
    webhooks read once (``hooks``: read already, by agency in id order), the deliveries written
    with one statement that skips any already there; returns how many were added."""
    now = now or utcnow()
    agencies = {event.agency for event, _ in items}
    if not agencies:
        return 0
    if hooks is None:
        hooks = read_audience(session, (), agencies).webhooks
    if not hooks:
        return 0
    rows = []
    for event, data in items:
        wanted = [h for h in hooks.get(event.agency, ()) if h.wants(event.type)]
        if not wanted:
            continue
        body = event_body(event, data)
        rows.extend(dict(webhook_id=h.id, event_id=event.id, event_type=event.type, body=body,
                         status="pending", attempts=0, next_attempt_at=now, created_at=now) for h in wanted)
    # a (webhook, event) pair already there (the event again), or twice in the batch, is skipped
    return len(insert_new(session, WebhookDelivery.__table__, rows, unique=("webhook_id", "event_id")))


@dataclass(frozen=True)
class Claimed:
    delivery_id: int
    webhook_id: int
    url: str
    secret: str  # as stored (sealed): opened only to sign, right before sending
    body: str
    event_id: str
    attempts: int


class WebhookDispatcher:
    def __init__(self, session_factory: Callable[[], Session], *, box: SecretBox,
                 policy: RetryPolicy | None = None, client: WebhookClient | None = None, lease_s: float = 120.0,
                 batch_size: int = 20, poll_interval_s: float = 1.0, clock: Callable[[], datetime] = utcnow):
        self.session_factory = session_factory
        self.box = box
        self.policy = policy or RetryPolicy()
        self.client = client or WebhookClient()
        self.lease_s = lease_s
        self.batch_size = batch_size
        self.poll_interval_s = poll_interval_s
        self.clock = clock

    def claim(self) -> list[Claimed]:
        now = self.clock()
        # planned with its parameters each time (``kinerja.db.planned_each_time``): the dispatcher
        # polls the deliveries every second while none is due, and a plan kept from those polls
        # would be the one the next burst of deliveries is claimed with
        with self.session_factory() as session, session.begin(), planned_each_time(session):
            rows = session.execute(
                select(WebhookDelivery, Webhook)
                .join(Webhook, Webhook.id == WebhookDelivery.webhook_id)
                .where(WebhookDelivery.status == "pending", WebhookDelivery.next_attempt_at <= now,
                       Webhook.active.is_(True))
                .order_by(WebhookDelivery.next_attempt_at, WebhookDelivery.id)
                .limit(self.batch_size)
                .with_for_update(skip_locked=True, of=WebhookDelivery)
            ).all()
            claimed = []
            for delivery, hook in rows:
                delivery.next_attempt_at = now + timedelta(seconds=self.lease_s)
                claimed.append(Claimed(delivery.id, hook.id, hook.url, hook.secret, delivery.body,
                                       delivery.event_id, delivery.attempts))
        return claimed

    def send(self, item: Claimed) -> PostResult:
        body = item.body.encode()
        timestamp = int(time.time())
        try:
            secret = self.box.open(item.secret)
        except SecretUnreadable as exc:
            return PostResult(None, str(exc), 0)
        headers = {
            rules.TIMESTAMP_HEADER: str(timestamp),
            rules.SIGNATURE_HEADER: rules.sign(secret, timestamp, body),
            rules.EVENT_ID_HEADER: item.event_id,
            rules.DELIVERY_HEADER: str(item.delivery_id),
        }
        return self.client.post(item.url, body, headers)

    def record(self, item: Claimed, result: PostResult) -> bool:
        """Store the outcome of one attempt; False when the webhook is (now) disabled."""
        now = self.clock()
        attempt = item.attempts + 1
        ok = rules.succeeded(result.status_code)
        with self.session_factory() as session, session.begin():
            delivery = session.get(WebhookDelivery, item.delivery_id)
            session.add(WebhookAttempt(delivery_id=item.delivery_id, attempt=attempt, at=now,
                                       status_code=result.status_code, error=result.error,
                                       duration_ms=result.duration_ms))
            delivery.attempts = attempt
            delivery.last_status_code, delivery.last_error = result.status_code, result.error
            if ok:
                delivery.status, delivery.delivered_at = "delivered", now
                session.execute(update(Webhook).where(Webhook.id == item.webhook_id).values(consecutive_failures=0))
                return True
            WEBHOOK_FAILURES.labels("notifikasi").inc()  # Prometheus counter
            if self.policy.gives_up(attempt):
                delivery.status = "failed"
            else:
                delivery.next_attempt_at = now + timedelta(seconds=self.policy.delay_after(attempt))
            session.execute(update(Webhook).where(Webhook.id == item.webhook_id)
                            .values(consecutive_failures=Webhook.consecutive_failures + 1))
            hook = session.get(Webhook, item.webhook_id)
            session.refresh(hook)
            if hook.active and self.policy.disables(hook.consecutive_failures):
                self._disable(session, hook, result.error, now)
            active = hook.active
        log.info("webhook attempt", extra={"delivery_id": item.delivery_id, "attempt": attempt,
                                           "status_code": result.status_code, "ok": ok})
        return active

    def release(self, item: Claimed) -> None:
        """Give a claimed, unsent delivery back (due at once when its webhook is enabled again)."""
        with self.session_factory() as session, session.begin():
            session.execute(update(WebhookDelivery).where(WebhookDelivery.id == item.delivery_id,
                                                          WebhookDelivery.status == "pending")
                            .values(next_attempt_at=self.clock()))

    def _disable(self, session: Session, hook: Webhook, last_error: str | None, now: datetime) -> None:
        hook.active, hook.disabled_at = False, now
        hook.disabled_reason = f"{hook.consecutive_failures} consecutive failed attempts; last: {last_error}"
        log.warning("webhook disabled", extra={"webhook_id": hook.id, "url": hook.url})
        if not hook.created_by_nip:
            return
        title, body = rules.disabled_message(hook.url, hook.consecutive_failures, last_error)
        session.add(Notification(
            recipient_nip=hook.created_by_nip, agency=hook.agency, audience="admin", kind=WEBHOOK_DISABLED,
            title=title, body=body, subject_nip=hook.created_by_nip,
            event_id=f"webhook:{hook.id}:disabled:{now.isoformat()}", event_type="notifikasi.webhook.disabled",
            payload={"webhook_id": hook.id, "url": hook.url, "failures": hook.consecutive_failures,
                     "last_error": last_error},
            created_at=now,
        ))

    def tick(self) -> int:
        """Send what is due; returns how many attempts were made."""
        claimed = self.claim()
        disabled: set[int] = set()
        sent = 0
        for item in claimed:
            if item.webhook_id in disabled:  # disabled by an earlier attempt of this batch
                self.release(item)
                continue
            sent += 1
            if not self.record(item, self.send(item)):
                disabled.add(item.webhook_id)
        return sent

    def run(self, stop: threading.Event) -> None:
        while not stop.is_set():
            try:
                sent = self.tick()
            except Exception:  # noqa: BLE001 - the database may be away; try again
                log.exception("webhook dispatcher tick failed")
                sent = 0
            if not sent:
                stop.wait(self.poll_interval_s)
        self.client.close()
