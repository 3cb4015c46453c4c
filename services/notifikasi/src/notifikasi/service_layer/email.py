"""E-mail: preferences, an immediate message queued with each notification (same transaction),
the daily digest, and the mailer that sends what is queued with retries.

Who gets what: a person's own preference decides (at once, a daily digest at their hour, or
off; to their own address, else the roster's). Without a preference, a person the roster gives
an e-mail address gets the daily digest there at ``DEFAULT_DIGEST_HOUR`` (agency-local), so
digests reach people without each one setting it.

Immediate messages are batched: the mailer sends a person's waiting messages together once the
oldest has waited ``batch_s`` (what arrives within a few minutes is one e-mail), each message
keeping its own delivery status. The SMTP settings are resolved on every round
(``config_source``), so a corrected setting applies without a restart. The mailer keeps its state
(``MailerState``: ``/readyz`` reads it) and tells each affected agency's admins (the inbox's
``ADMINS`` rows) when mail stops going out, when a message is given up, and when it recovers."""
from __future__ import annotations

import logging
import smtplib
import threading
from datetime import datetime, timedelta, timezone
from typing import Callable, Sequence
from zoneinfo import ZoneInfo

from sqlalchemy import func, insert, or_, select
from sqlalchemy.orm import Session

from notifikasi.adapters import smtp
from notifikasi.adapters.inbox import ADMINS
from notifikasi.adapters.orm import EmailMessage, EmailPreference, Employee, MailerState, Notification
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
        out.append(dict(recipient_nip=row.recipient_nip, agency=row.agency, to_address=address, subject=subject[:300],
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
    msg = EmailMessage(recipient_nip=nip, agency=agency, to_address=address, subject=subject[:300], body=body,
                       kind=rules.DIGEST, status="pending", attempts=0, next_attempt_at=now, created_at=now)
    session.add(msg)
    return msg, cursor


def _iso(value: datetime | None) -> str | None:
    value = _aware(value)
    return value.isoformat() if value is not None else None


def message_dict(m: EmailMessage) -> dict:
    return {"id": m.id, "status": m.status, "to_address": m.to_address, "attempts": m.attempts,
            "last_error": m.last_error, "next_attempt_at": _iso(m.next_attempt_at) if m.status == "pending" else None,
            "sent_at": _iso(m.sent_at), "created_at": _iso(m.created_at), "recipient_nip": m.recipient_nip,
            "subject": m.subject, "kind": m.kind, "notification_id": m.notification_id}


def status_of_notifications(session: Session, ids: Sequence[int]) -> dict[int, dict]:
    """The e-mail of each notification (those that have one), with its delivery status."""
    out: dict[int, dict] = {}
    ids = list(ids)
    for start in range(0, len(ids), 500):
        for m in session.execute(select(EmailMessage).where(EmailMessage.notification_id.in_(ids[start:start + 500]))
                                 ).scalars():
            out[m.notification_id] = message_dict(m)
    return out


def messages_page(session: Session, *, agency: str, nip: str | None, status: str | None, limit: int,
                  before_id: int | None) -> list[dict]:
    query = select(EmailMessage).where(EmailMessage.agency == agency)
    if nip:
        query = query.where(EmailMessage.recipient_nip == nip)
    if status:
        query = query.where(EmailMessage.status == status)
    if before_id is not None:
        query = query.where(EmailMessage.id < before_id)
    return [message_dict(m) for m in session.execute(query.order_by(EmailMessage.id.desc()).limit(limit)).scalars()]


def mailer_health(session: Session, *, now: datetime | None = None) -> dict:
    """The mailer's line in ``/readyz``: ok (or idle: nothing sent yet), or failing with why; what
    waits and since when, and what was given up."""
    now = now or utcnow()
    state = session.get(MailerState, 1)
    pending, oldest = session.execute(select(func.count(), func.min(EmailMessage.created_at)).where(
        EmailMessage.status == "pending")).one()
    failed = session.execute(select(func.count()).select_from(EmailMessage).where(
        EmailMessage.status == "failed")).scalar_one()
    failing = state is not None and state.consecutive_failures > 0
    return {
        "status": "failing" if failing else ("ok" if state is not None and state.last_success_at else "idle"),
        "smtp": state.endpoint if state is not None else None,
        "pending": pending, "oldest_pending_s": round((now - _aware(oldest)).total_seconds()) if oldest else None,
        "failed": failed,
        "last_success_at": _iso(state.last_success_at) if state is not None else None,
        "last_error": state.last_error if failing else None,
        "failing_since": _iso(state.failing_since) if failing else None,
    }


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
        with self.session_factory() as session, session.begin():
            ripe = select(EmailMessage.recipient_nip).where(
                EmailMessage.status == "pending", EmailMessage.next_attempt_at <= now,
                or_(EmailMessage.kind != rules.IMMEDIATE, EmailMessage.attempts > 0,
                    EmailMessage.created_at <= now - window))
            due = session.execute(
                select(EmailMessage).where(EmailMessage.status == "pending", EmailMessage.next_attempt_at <= now,
                                           EmailMessage.recipient_nip.in_(ripe))
                .order_by(EmailMessage.id).limit(self.batch_size).with_for_update(skip_locked=True)
            ).scalars().all()
            groups: dict[tuple, list[tuple]] = {}
            for msg in due:
                msg.next_attempt_at = now + timedelta(seconds=self.lease_s)
                key = (msg.recipient_nip, msg.to_address, msg.kind, msg.id if msg.kind != rules.IMMEDIATE else 0)
                groups.setdefault(key, []).append((msg.id, msg.to_address, msg.subject, msg.body, msg.notification_id,
                                                   _aware(msg.created_at)))
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
