"""What is queued to be e-mailed: an immediate message with each new inbox row (in the same
transaction), and the daily digest.

Without a preference, a person the roster gives an e-mail address gets the daily digest there at
``DEFAULT_DIGEST_HOUR`` (agency-local), so digests reach people without each one setting it."""
from __future__ import annotations

from datetime import datetime, timezone
from typing import Sequence
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from notifikasi.adapters.audience import ImmediatePreference, read_audience
from kinerja.fixed_inserts import insert_new
from notifikasi.adapters.orm import EmailMessage, EmailPreference, Employee, Notification
from notifikasi.adapters.in_chunks import chunks
from notifikasi.domain import email as rules
from notifikasi.service_layer.clock import aware, utcnow

DEFAULT_DIGEST_HOUR = 16


def _roster(session: Session, nips: Sequence[str]) -> dict[str, Employee]:
    """The roster rows of ``nips``, read 500 at a time."""
    wanted = sorted(nips)
    roster: dict[str, Employee] = {}
    for part in chunks(wanted):
        roster.update((e.nip, e) for e in session.execute(
            select(Employee).where(Employee.nip.in_(part))).scalars())
    return roster


def _roster_email(emp: Employee | None, agency: str) -> str | None:
    return emp.email if emp is not None and emp.active and emp.agency == agency else None


def queue_immediate(session: Session, rows: Sequence, *, now: datetime | None = None,
                    preferences: dict[str, ImmediatePreference] | None = None) -> int:
    """An e-mail for each new inbox row (``id``, ``recipient_nip``, ``agency``, ``title``,
    ``body``) whose recipient wants them at once, with one INSERT for all; returns how many.
    ``preferences``: those of the rows' recipients, read already (``audience.read_audience``)."""
    if not rows:
        return 0
    now = now or utcnow()
    if preferences is None:
        preferences = read_audience(session, {r.recipient_nip for r in rows}, ()).preferences
    out = []
    for row in rows:
        pref = preferences.get(row.recipient_nip)
        if pref is None or pref.agency != row.agency:
            continue
        address = pref.address
        if not address:
            continue
        subject, body = rules.immediate(row.title, row.body)
        out.append(dict(recipient_nip=row.recipient_nip, agency=row.agency, to_address=address, subject=subject[:300],
                        body=body, kind=rules.IMMEDIATE, notification_id=row.id, status="pending",
                        attempts=0, next_attempt_at=now, created_at=now))
    insert_new(session, EmailMessage.__table__, out)  # one multi-row statement
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
    roster = _roster(session, [p.nip for p in prefs if not p.email])
    for pref in prefs:
        address = pref.email or _roster_email(roster.get(pref.nip), pref.agency)
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
    last = aware(last_sent)
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
    items = [rules.Item(r.title, r.body, aware(r.created_at).astimezone(zone)) for r in rows]
    subject, body = rules.digest(due.date(), items)
    msg = EmailMessage(recipient_nip=nip, agency=agency, to_address=address, subject=subject[:300], body=body,
                       kind=rules.DIGEST, status="pending", attempts=0, next_attempt_at=now, created_at=now)
    session.add(msg)
    return msg, cursor

