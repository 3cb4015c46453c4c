"""What became of the e-mails: each notification's message and its delivery status, the agency's
list of messages, and the mailer's line in ``/readyz``."""
from __future__ import annotations

from datetime import datetime
from typing import Sequence

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from notifikasi.adapters.orm import EmailMessage, MailerState
from notifikasi.adapters.in_chunks import chunks
from notifikasi.service_layer.clock import aware, iso, utcnow


def message_dict(m: EmailMessage) -> dict:
    return {"id": m.id, "status": m.status, "to_address": m.to_address, "attempts": m.attempts,
            "last_error": m.last_error, "next_attempt_at": iso(m.next_attempt_at) if m.status == "pending" else None,
            "sent_at": iso(m.sent_at), "created_at": iso(m.created_at), "recipient_nip": m.recipient_nip,
            "subject": m.subject, "kind": m.kind, "notification_id": m.notification_id}


def status_of_notifications(session: Session, ids: Sequence[int]) -> dict[int, dict]:
    """The e-mail of each notification (those that have one), with its delivery status."""
    out: dict[int, dict] = {}
    ids = list(ids)
    for part in chunks(ids):
        for m in session.execute(select(EmailMessage).where(EmailMessage.notification_id.in_(part))
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
        "pending": pending, "oldest_pending_s": round((now - aware(oldest)).total_seconds()) if oldest else None,
        "failed": failed,
        "last_success_at": iso(state.last_success_at) if state is not None else None,
        "last_error": state.last_error if failing else None,
        "failing_since": iso(state.failing_since) if failing else None,
    }

