"""The mailer: sends what is queued, with retries, and keeps the admins told.

Immediate messages are batched: a person's waiting messages go out together once the oldest has
waited ``batch_s`` (what arrives within a few minutes is one e-mail), each message keeping its own
delivery status. The SMTP settings are resolved on every round (``config_source``), so a corrected
setting applies without a restart. The mailer keeps its state (``MailerState``: ``/readyz`` reads
it) and tells each affected agency's admins (the inbox's ``ADMINS`` rows) when mail stops going
out, when a message is given up, and when it recovers."""
from __future__ import annotations

import logging
import smtplib
import threading
from datetime import datetime, timedelta
from typing import Callable, Sequence
from zoneinfo import ZoneInfo

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from kinerja.db import planned_each_time
from notifikasi.adapters import smtp
from notifikasi.adapters.inbox import ADMINS
from notifikasi.adapters.orm import EmailMessage, MailerState, Notification
from notifikasi.domain import email as rules
from notifikasi.domain.webhooks import RetryPolicy
from notifikasi.service_layer.clock import aware, utcnow
from notifikasi.service_layer.email_queue import DEFAULT_DIGEST_HOUR, queue_digests

log = logging.getLogger(__name__)


class Mailer:
    """Sends queued e-mails; a failure is retried with backoff, then the message is marked failed."""

    def __init__(self, session_factory: Callable[[], Session],
                 config: smtp.SmtpConfig | Callable[[], smtp.SmtpConfig], *, tz: str,
                 policy: RetryPolicy | None = None, batch_size: int = 50, poll_interval_s: float = 5.0,
                 lease_s: float = 300.0, batch_s: float | Callable[[], float] = 0.0,
                 clock: Callable[[], datetime] = utcnow, default_digest_hour: int = DEFAULT_DIGEST_HOUR):
        self.session_factory = session_factory
        self.config_source = config if callable(config) else (lambda: config)
        self.tz = tz
        self.policy = policy or RetryPolicy(base_delay_s=30, max_delay_s=3600, max_attempts=8)
        self.batch_size = batch_size
        self.poll_interval_s = poll_interval_s
        self.lease_s = lease_s
        self.batch_source = batch_s if callable(batch_s) else (lambda: batch_s)
        self.clock = clock
        self.default_digest_hour = default_digest_hour

    @property
    def config(self) -> smtp.SmtpConfig:
        """The SMTP settings as they are now (read again on every round)."""
        return self.config_source()

    def queue_digests(self) -> int:
        with self.session_factory() as session, session.begin():
            return len(queue_digests(session, tz=self.tz, now=self.clock(), default_hour=self.default_digest_hour))

    def _claim(self, now: datetime) -> list[list[tuple]]:
        """Claim what is due, grouped into e-mails: a person's immediate messages once the oldest
        waiting has waited the batch window (or any of them was tried before: a retry goes out as
        the group it failed in), each digest alone. A lease keeps no transaction open during SMTP."""
        window = timedelta(seconds=max(0.0, float(self.batch_source())))
        # two statements, neither joining the queue to itself: the people with a ripe message, then
        # their due messages (the list a constant, hashed). The one statement it was (a semi-join of
        # the queue with itself) ran as a nested loop, rows x people, wherever the planner took the
        # queue to be small: never analysed, 20,000 rows examined 40 million (``test_queue_plans``).
        # Planned with their parameters each time (``kinerja.db.planned_each_time``): the mailer polls
        # an empty queue every few seconds, and a plan kept from those polls would meet the next flood
        due_now = (EmailMessage.status == "pending", EmailMessage.next_attempt_at <= now)
        with self.session_factory() as session, session.begin(), planned_each_time(session):
            ripe = session.execute(select(EmailMessage.recipient_nip).where(
                *due_now, or_(EmailMessage.kind != rules.IMMEDIATE, EmailMessage.attempts > 0,
                              EmailMessage.created_at <= now - window)).distinct()).scalars().all()
            due = session.execute(
                select(EmailMessage).where(*due_now, EmailMessage.recipient_nip.in_(ripe))
                .order_by(EmailMessage.id).limit(self.batch_size).with_for_update(skip_locked=True)
            ).scalars().all() if ripe else []
            groups: dict[tuple, list[tuple]] = {}
            for msg in due:
                msg.next_attempt_at = now + timedelta(seconds=self.lease_s)
                key = (msg.recipient_nip, msg.to_address, msg.kind, msg.id if msg.kind != rules.IMMEDIATE else 0)
                groups.setdefault(key, []).append((msg.id, msg.to_address, msg.subject, msg.body, msg.notification_id,
                                                   aware(msg.created_at)))
            notes = {n.id: n for n in session.execute(select(Notification).where(Notification.id.in_(
                [m[4] for g in groups.values() for m in g if m[4] is not None]))).scalars()} if groups else {}
            out = []
            for (_, _, kind, _), msgs in groups.items():
                if kind == rules.IMMEDIATE and len(msgs) > 1:
                    zone = ZoneInfo(self.tz)
                    items = [rules.Item(notes[m[4]].title, notes[m[4]].body, m[5].astimezone(zone)) if m[4] in notes
                             else rules.Item(m[2], m[3], m[5].astimezone(zone)) for m in msgs]
                    subject, body = rules.batched(items)
                    out.append(([m[0] for m in msgs], msgs[0][1], subject[:300], body))
                else:
                    out.extend(([m[0]], m[1], m[2], m[3]) for m in msgs)
            return out

    def send_due(self) -> int:
        """Send what is due; the number of e-mails that went out."""
        now = self.clock()
        claimed = self._claim(now)
        if not claimed:
            return 0
        config = self.config
        endpoint = f"{config.host}:{config.port}"
        sent = 0
        for ids, to, subject, body in claimed:
            error = None
            try:
                smtp.send(config, to=to, subject=subject, body=body)
            except (smtplib.SMTPException, OSError) as exc:
                error = f"{type(exc).__name__}: {exc}"[:500]
                log.warning("e-mail not sent", extra={"email_ids": ids, "error": error, "smtp": endpoint})
            with self.session_factory() as session, session.begin():
                done = self.clock()
                gave_up = []
                for msg in session.execute(select(EmailMessage).where(EmailMessage.id.in_(ids))).scalars():
                    msg.attempts += 1
                    if error is None:
                        msg.status, msg.sent_at, msg.last_error = "sent", done, None
                    else:
                        msg.last_error = error
                        if self.policy.gives_up(msg.attempts):
                            msg.status = "failed"
                            gave_up.append(msg)
                        else:
                            msg.next_attempt_at = done + timedelta(seconds=self.policy.delay_after(msg.attempts))
                sent += error is None
                self._record(session, done, endpoint, error, gave_up)
        return sent

    def _record(self, session: Session, at: datetime, endpoint: str, error: str | None,
                gave_up: list[EmailMessage]) -> None:
        """The mailer's state after one attempt; the admins of the agencies with mail waiting are
        told when mail stops going out (once per episode) and when it goes out again, and the
        recipient's agency's admins when a message is given up."""
        state = session.get(MailerState, 1)
        if state is None:
            state = MailerState(id=1, consecutive_failures=0)
            session.add(state)
        state.endpoint, state.last_attempt_at = endpoint, at
        was_failing = state.consecutive_failures > 0
        if error is None:
            if was_failing:  # those told it failed are told it recovered
                told = session.execute(select(Notification.agency).where(
                    Notification.recipient_nip == ADMINS, Notification.kind == "mail.failing",
                    Notification.created_at >= state.failing_since).distinct()).scalars().all()
                self._tell_admins(session, at, "recovered", rules.mail_recovered, endpoint, agencies=told)
            state.last_success_at, state.consecutive_failures, state.failing_since = at, 0, None
        else:
            state.last_error, state.last_error_at = error, at
            state.consecutive_failures = (state.consecutive_failures or 0) + 1
            if not was_failing:
                state.failing_since = at
                self._tell_admins(session, at, "failing", rules.mail_failing, endpoint, error)
        session.flush()
        for msg in gave_up:
            if msg.agency:
                title, body = rules.mail_given_up(1, msg.to_address, msg.attempts, error or "")
                _admin_row(session, msg.agency, f"mailer:gave-up:{msg.id}", "mail.failed", title, body, at)

    def _tell_admins(self, session: Session, at: datetime, what: str, text: Callable, endpoint: str,
                     *extra: str, agencies: Sequence[str] | None = None) -> None:
        """Tell the admins of each agency with mail waiting (or of ``agencies``), with the count."""
        waiting = dict(session.execute(select(EmailMessage.agency, func.count()).where(
            EmailMessage.status == "pending", EmailMessage.agency.is_not(None)).group_by(EmailMessage.agency)).all())
        if agencies is not None:
            waiting = {a: waiting.get(a, 0) for a in agencies}
        for agency, count in sorted(waiting.items()):
            title, body = text(endpoint, *extra, count) if extra else text(endpoint, count)
            _admin_row(session, agency, f"mailer:{what}:{at.isoformat()}", f"mail.{what}", title, body, at)

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


def _admin_row(session: Session, agency: str, key: str, kind: str, title: str, body: str, at: datetime) -> None:
    """One notification for the agency's admins (read by every admin of the agency, live too)."""
    if session.execute(select(Notification.id).where(Notification.event_id == key,
                                                     Notification.recipient_nip == ADMINS)).first():
        return
    session.add(Notification(recipient_nip=ADMINS, agency=agency, audience="admin", kind=kind, title=title[:200],
                             body=body, subject_nip=ADMINS, event_id=key, event_type="notifikasi.mailer",
                             payload={}, created_at=at))
