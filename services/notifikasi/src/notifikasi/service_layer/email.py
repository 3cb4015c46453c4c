"""E-mail: preferences, an immediate message queued with each notification (same transaction),
the daily digest, and the mailer that sends what is queued with retries."""
from __future__ import annotations

import logging
import smtplib
import threading
from datetime import datetime, timedelta, timezone
from typing import Callable, Sequence
from zoneinfo import ZoneInfo

from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from notifikasi.adapters import smtp
from notifikasi.adapters.orm import EmailMessage, EmailPreference, Notification
from notifikasi.domain import email as rules
from notifikasi.domain.webhooks import RetryPolicy

log = logging.getLogger(__name__)


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


def _aware(value: datetime | None) -> datetime | None:
    return value.replace(tzinfo=timezone.utc) if value is not None and value.tzinfo is None else value


def set_preference(session: Session, *, nip: str, agency: str, email: str, mode: str, digest_hour: int = 16,
                   now: datetime | None = None) -> EmailPreference:
    now = now or utcnow()
    pref = session.get(EmailPreference, nip)
    if pref is None:
        pref = EmailPreference(nip=nip, agency=agency, email=email, mode=mode, digest_hour=digest_hour,
                               updated_at=now, last_digest_at=now)  # a first digest covers from now on
        session.add(pref)
    else:
        if mode == rules.DIGEST and pref.mode != rules.DIGEST:
            pref.last_digest_at = now
        pref.agency, pref.email, pref.mode, pref.digest_hour, pref.updated_at = agency, email, mode, digest_hour, now
    session.flush()
    return pref


def queue_immediate(session: Session, rows: Sequence, *, now: datetime | None = None) -> int:
    """An e-mail for each new inbox row (``id``, ``recipient_nip``, ``agency``, ``title``,
    ``body``) whose recipient wants them at once, with one INSERT for all; returns how many."""
    if not rows:
        return 0
    now = now or utcnow()
    recipients = sorted({r.recipient_nip for r in rows})
    prefs: dict[str, EmailPreference] = {}
    for start in range(0, len(recipients), 500):
        prefs.update((p.nip, p) for p in session.execute(
            select(EmailPreference).where(EmailPreference.nip.in_(recipients[start:start + 500]),
                                          EmailPreference.mode == rules.IMMEDIATE)
        ).scalars())
    out = []
    for row in rows:
        pref = prefs.get(row.recipient_nip)
        if pref is None or pref.agency != row.agency:
            continue
        subject, body = rules.immediate(row.title, row.body)
        out.append(dict(recipient_nip=row.recipient_nip, to_address=pref.email, subject=subject[:300],
                        body=body, kind=rules.IMMEDIATE, notification_id=row.id, status="pending",
                        attempts=0, next_attempt_at=now, created_at=now))
    if out:
        session.execute(insert(EmailMessage.__table__), out)  # no ids wanted back: one executemany
    return len(out)


def queue_digests(session: Session, *, tz: str, now: datetime | None = None) -> list[EmailMessage]:
    """One digest per person whose digest hour has passed today and who has news since the last."""
    now = now or utcnow()
    zone = ZoneInfo(tz)
    now_local = now.astimezone(zone)
    out = []
    prefs = session.execute(select(EmailPreference).where(EmailPreference.mode == rules.DIGEST)).scalars().all()
    for pref in prefs:
        last = _aware(pref.last_digest_at)
        due = rules.digest_due(now_local, last.astimezone(zone) if last else None, pref.digest_hour)
        if due is None:
            continue
        query = select(Notification).where(Notification.recipient_nip == pref.nip,
                                           Notification.agency == pref.agency,
                                           Notification.created_at <= due.astimezone(timezone.utc))
        if last is not None:
            query = query.where(Notification.created_at > last)
        rows = session.execute(query.order_by(Notification.id)).scalars().all()
        pref.last_digest_at = due.astimezone(timezone.utc)
        if not rows:
            continue
        items = [rules.Item(r.title, r.body, _aware(r.created_at).astimezone(zone)) for r in rows]
        subject, body = rules.digest(due.date(), items)
        msg = EmailMessage(recipient_nip=pref.nip, to_address=pref.email, subject=subject[:300], body=body,
                           kind=rules.DIGEST, status="pending", attempts=0, next_attempt_at=now, created_at=now)
        session.add(msg)
        out.append(msg)
    session.flush()
    return out


class Mailer:
    """Sends queued e-mails; a failure is retried with backoff, then the message is marked failed."""

    def __init__(self, session_factory: Callable[[], Session], config: smtp.SmtpConfig, *, tz: str,
                 policy: RetryPolicy | None = None, batch_size: int = 50, poll_interval_s: float = 5.0,
                 lease_s: float = 300.0, clock: Callable[[], datetime] = utcnow):
        self.session_factory = session_factory
        self.config = config
        self.tz = tz
        self.policy = policy or RetryPolicy(base_delay_s=30, max_delay_s=3600, max_attempts=8)
        self.batch_size = batch_size
        self.poll_interval_s = poll_interval_s
        self.lease_s = lease_s
        self.clock = clock

    def queue_digests(self) -> int:
        with self.session_factory() as session, session.begin():
            return len(queue_digests(session, tz=self.tz, now=self.clock()))

    def send_due(self) -> int:
        """Claim due messages (a lease, so no transaction is held during SMTP), send, record."""
        now = self.clock()
        with self.session_factory() as session, session.begin():
            due = session.execute(
                select(EmailMessage).where(EmailMessage.status == "pending", EmailMessage.next_attempt_at <= now)
                .order_by(EmailMessage.id).limit(self.batch_size).with_for_update(skip_locked=True)
            ).scalars().all()
            for msg in due:
                msg.next_attempt_at = now + timedelta(seconds=self.lease_s)
            claimed = [(m.id, m.to_address, m.subject, m.body) for m in due]
        sent = 0
        for msg_id, to, subject, body in claimed:
            error = None
            try:
                smtp.send(self.config, to=to, subject=subject, body=body)
            except (smtplib.SMTPException, OSError) as exc:
                error = f"{type(exc).__name__}: {exc}"[:500]
                log.warning("e-mail not sent", extra={"email_id": msg_id, "error": error})
            with self.session_factory() as session, session.begin():
                msg = session.get(EmailMessage, msg_id)
                msg.attempts += 1
                done = self.clock()
                if error is None:
                    msg.status, msg.sent_at, msg.last_error = "sent", done, None
                    sent += 1
                else:
                    msg.last_error = error
                    if self.policy.gives_up(msg.attempts):
                        msg.status = "failed"
                    else:
                        msg.next_attempt_at = done + timedelta(seconds=self.policy.delay_after(msg.attempts))
        return sent

    def run(self, stop: threading.Event) -> None:
        while not stop.is_set():
            try:
                self.queue_digests()
                sent = self.send_due()
            except Exception:  # noqa: BLE001 - keep going when the database returns
                log.exception("mailer tick failed")
                sent = 0
            if not sent:
                stop.wait(self.poll_interval_s)
