"""E-mail: preferences, an immediate message queued with each notification (same transaction),
the daily digest, and the mailer that sends what is queued with retries.

Who gets what: a person's own preference decides (at once, a daily digest at their hour, or
off; to their own address, else the roster's). Without a preference, a person the roster gives
an e-mail address gets the daily digest there at ``DEFAULT_DIGEST_HOUR`` (agency-local), so
digests reach people without each one setting it."""
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
from notifikasi.adapters.orm import EmailMessage, EmailPreference, Employee, Notification
from notifikasi.domain import email as rules
from notifikasi.domain.webhooks import RetryPolicy

log = logging.getLogger(__name__)


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


def _aware(value: datetime | None) -> datetime | None:
    return value.replace(tzinfo=timezone.utc) if value is not None and value.tzinfo is None else value


DEFAULT_DIGEST_HOUR = 16


class NoAddress(ValueError):
    """E-mail wanted, but neither the request nor the roster gives an address."""


def roster_address(session: Session, nip: str, agency: str) -> str | None:
    emp = session.get(Employee, nip)
    return emp.email if emp is not None and emp.active and emp.agency == agency else None


def set_preference(session: Session, *, nip: str, agency: str, email: str | None, mode: str, digest_hour: int = 16,
                   now: datetime | None = None) -> EmailPreference:
    """``email`` None: the roster's address (raises NoAddress when e-mail is wanted and there is none)."""
    now = now or utcnow()
    if email is None and mode != rules.OFF and roster_address(session, nip, agency) is None:
        raise NoAddress("no e-mail address: give one, or ask the agency's admin to add it to the roster")
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
    roster: dict[str, Employee] = {}
    wanting = sorted(nip for nip, p in prefs.items() if not p.email)  # at once, to the roster's address
    for start in range(0, len(wanting), 500):
        roster.update((e.nip, e) for e in session.execute(
            select(Employee).where(Employee.nip.in_(wanting[start:start + 500]))).scalars())
    out = []
    for row in rows:
        pref = prefs.get(row.recipient_nip)
        if pref is None or pref.agency != row.agency:
            continue
        emp = roster.get(row.recipient_nip)
        address = pref.email or (emp.email if emp is not None and emp.active and emp.agency == row.agency else None)
        if not address:
            continue
        subject, body = rules.immediate(row.title, row.body)
        out.append(dict(recipient_nip=row.recipient_nip, to_address=address, subject=subject[:300],
                        body=body, kind=rules.IMMEDIATE, notification_id=row.id, status="pending",
                        attempts=0, next_attempt_at=now, created_at=now))
    if out:
        session.execute(insert(EmailMessage.__table__), out)  # no ids wanted back: one executemany
    return len(out)


def queue_digests(session: Session, *, tz: str, now: datetime | None = None,
                  default_hour: int = DEFAULT_DIGEST_HOUR) -> list[EmailMessage]:
    """One digest per person whose digest hour has passed today and who has news since the last:
    those who asked for it (to their address, else the roster's), and those without a preference
    whom the roster gives an address (at ``default_hour``)."""
    now = now or utcnow()
    zone = ZoneInfo(tz)
    now_local = now.astimezone(zone)
    out = []
    prefs = session.execute(select(EmailPreference).where(EmailPreference.mode == rules.DIGEST)).scalars().all()
    bare = sorted(p.nip for p in prefs if not p.email)
    roster: dict[str, Employee] = {}
    for start in range(0, len(bare), 500):
        roster.update((e.nip, e) for e in session.execute(
            select(Employee).where(Employee.nip.in_(bare[start:start + 500]))).scalars())
    for pref in prefs:
        emp = roster.get(pref.nip)
        address = pref.email or (emp.email if emp is not None and emp.active and emp.agency == pref.agency else None)
        msg, pref.last_digest_at = _digest(session, pref.nip, pref.agency, address, pref.digest_hour,
                                           pref.last_digest_at, zone, now_local, now)
        if msg is not None:
            out.append(msg)
    # the roster's addresses, for whoever has no preference of their own
    unset = session.execute(select(Employee).where(
        Employee.email.is_not(None), Employee.active.is_(True),
        Employee.nip.not_in(select(EmailPreference.nip)))).scalars().all()
    for emp in unset:
        msg, emp.last_digest_at = _digest(session, emp.nip, emp.agency, emp.email, default_hour, emp.last_digest_at,
                                          zone, now_local, now)
        if msg is not None:
            out.append(msg)
    session.flush()
    return out


def _digest(session: Session, nip: str, agency: str, address: str | None, hour: int, last_sent: datetime | None,
            zone: ZoneInfo, now_local: datetime, now: datetime) -> tuple[EmailMessage | None, datetime | None]:
    """The digest due for one person, if any (queued), and their cursor after it."""
    last = _aware(last_sent)
    due = rules.digest_due(now_local, last.astimezone(zone) if last else None, hour)
    if due is None:
        return None, last_sent
    query = select(Notification).where(Notification.recipient_nip == nip, Notification.agency == agency,
                                       Notification.created_at <= due.astimezone(timezone.utc))
    if last is not None:
        query = query.where(Notification.created_at > last)
    rows = session.execute(query.order_by(Notification.id)).scalars().all()
    cursor = due.astimezone(timezone.utc)
    if not rows or not address:
        return None, cursor
    items = [rules.Item(r.title, r.body, _aware(r.created_at).astimezone(zone)) for r in rows]
    subject, body = rules.digest(due.date(), items)
    msg = EmailMessage(recipient_nip=nip, to_address=address, subject=subject[:300], body=body,
                       kind=rules.DIGEST, status="pending", attempts=0, next_attempt_at=now, created_at=now)
    session.add(msg)
    return msg, cursor


class Mailer:
    """Sends queued e-mails; a failure is retried with backoff, then the message is marked failed."""

    def __init__(self, session_factory: Callable[[], Session], config: smtp.SmtpConfig, *, tz: str,
                 policy: RetryPolicy | None = None, batch_size: int = 50, poll_interval_s: float = 5.0,
                 lease_s: float = 300.0, clock: Callable[[], datetime] = utcnow,
                 default_digest_hour: int = DEFAULT_DIGEST_HOUR):
        self.session_factory = session_factory
        self.config = config
        self.tz = tz
        self.policy = policy or RetryPolicy(base_delay_s=30, max_delay_s=3600, max_attempts=8)
        self.batch_size = batch_size
        self.poll_interval_s = poll_interval_s
        self.lease_s = lease_s
        self.clock = clock
        self.default_digest_hour = default_digest_hour

    def queue_digests(self) -> int:
        with self.session_factory() as session, session.begin():
            return len(queue_digests(session, tz=self.tz, now=self.clock(), default_hour=self.default_digest_hour))

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
