"""notifikasi's tables (SQLAlchemy 2 typed models). Only this service reads or writes them."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import DDL, JSON, BigInteger, DateTime, ForeignKey, Index, Integer, String, Text, UniqueConstraint, event
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from kinerja.messaging.outbox import add_plumbing_tables
from kinerja.roster_slice import RosterColumns

# BIGINT on PostgreSQL; on SQLite only INTEGER PRIMARY KEY is the rowid alias that autoincrements
ID_TYPE = BigInteger().with_variant(Integer, "sqlite")


class Base(DeclarativeBase):
    pass


metadata = Base.metadata
add_plumbing_tables(metadata)


class Employee(RosterColumns, Base):
    """This service's slice of the roster (from ``pegawai.v1``): names, supervisors and the work
    e-mail address (the daily digest goes there for whoever has set no preference of their own)."""

    __tablename__ = "employees"
    email: Mapped[str | None] = mapped_column(String(320), nullable=True)
    # the roster-address digest's cursor (a preference keeps its own)
    last_digest_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)


class Notification(Base):
    """One inbox entry for one recipient. ``id`` is increasing and is the SSE event id: the live
    stream tails this table by id, and ``Last-Event-ID`` resumes from it."""

    __tablename__ = "notifications"
    id: Mapped[int] = mapped_column(ID_TYPE, primary_key=True, autoincrement=True)
    recipient_nip: Mapped[str] = mapped_column(String(18))
    agency: Mapped[str] = mapped_column(String(64))
    audience: Mapped[str] = mapped_column(String(16))  # asn / atasan: why the recipient is told
    kind: Mapped[str] = mapped_column(String(64))
    title: Mapped[str] = mapped_column(String(200))
    body: Mapped[str] = mapped_column(Text)
    subject_nip: Mapped[str] = mapped_column(String(18))  # the ASN the event concerns
    event_id: Mapped[str] = mapped_column(String(200))
    event_type: Mapped[str] = mapped_column(String(200))
    payload: Mapped[dict] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    read_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    __table_args__ = (
        UniqueConstraint("event_id", "recipient_nip", name="uq_notification_event_recipient"),
        # inbox pages (newest first) and stream resumes (id > Last-Event-ID) per recipient
        Index("ix_notifications_recipient_id", "recipient_nip", "id"),
        # SQLite: AUTOINCREMENT, so an id is never reused (SSE ids must only grow)
        {"sqlite_autoincrement": True},
    )


# PostgreSQL wakes the web processes' inbox tailers when inbox rows commit (LISTEN notifikasi_inbox):
# one notification per transaction that inserted any, delivered at its commit. The same statements
# are in migration 0017; SQLite writers signal the tailers themselves (adapters.inbox_wakeup).
INBOX_CHANNEL = "notifikasi_inbox"
INBOX_NOTIFY_FUNCTION_SQL = (
    "CREATE OR REPLACE FUNCTION notifikasi_inbox_notify() RETURNS trigger LANGUAGE plpgsql AS "
    f"$$ BEGIN PERFORM pg_notify('{INBOX_CHANNEL}', ''); RETURN NULL; END $$"
)
INBOX_NOTIFY_TRIGGER_SQL = ("CREATE TRIGGER notifications_notify AFTER INSERT ON notifications "
                            "FOR EACH STATEMENT EXECUTE FUNCTION notifikasi_inbox_notify()")
# tables made with create_all (tests, tools) wake the tailers like migrated ones
event.listen(Notification.__table__, "after_create", DDL(INBOX_NOTIFY_FUNCTION_SQL).execute_if(dialect="postgresql"))
event.listen(Notification.__table__, "after_create", DDL(INBOX_NOTIFY_TRIGGER_SQL).execute_if(dialect="postgresql"))


class Webhook(Base):
    """An agency's integration endpoint: every event of that agency that notifikasi handles (or
    the types listed) is POSTed to it, signed with ``secret`` (see domain.webhooks)."""

    __tablename__ = "webhooks"
    id: Mapped[int] = mapped_column(ID_TYPE, primary_key=True, autoincrement=True)
    agency: Mapped[str] = mapped_column(String(64), index=True)
    url: Mapped[str] = mapped_column(String(2000))
    secret: Mapped[str] = mapped_column(String(500))  # sealed (adapters.secret_box), never in clear
    event_types: Mapped[list] = mapped_column(JSON, default=list)  # empty: every type
    active: Mapped[bool] = mapped_column(default=True)
    created_by_nip: Mapped[str | None] = mapped_column(String(18), nullable=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    consecutive_failures: Mapped[int] = mapped_column(Integer, default=0)
    disabled_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    disabled_reason: Mapped[str | None] = mapped_column(Text, nullable=True)


class WebhookDelivery(Base):
    """One event to one webhook; written in the consumer's transaction, sent by the dispatcher."""

    __tablename__ = "webhook_deliveries"
    id: Mapped[int] = mapped_column(ID_TYPE, primary_key=True, autoincrement=True)
    webhook_id: Mapped[int] = mapped_column(ForeignKey("webhooks.id"))
    event_id: Mapped[str] = mapped_column(String(200))
    event_type: Mapped[str] = mapped_column(String(200))
    body: Mapped[str] = mapped_column(Text)  # the exact bytes signed and sent on every attempt
    status: Mapped[str] = mapped_column(String(16), default="pending")  # pending / delivered / failed
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    last_status_code: Mapped[int | None] = mapped_column(Integer, nullable=True)
    last_error: Mapped[str | None] = mapped_column(Text, nullable=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    delivered_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    __table_args__ = (
        UniqueConstraint("webhook_id", "event_id", name="uq_webhook_delivery_event"),
        Index("ix_webhook_deliveries_due", "status", "next_attempt_at"),
        Index("ix_webhook_deliveries_webhook", "webhook_id", "id"),
    )


class WebhookAttempt(Base):
    """The log: one row per HTTP attempt, with its outcome."""

    __tablename__ = "webhook_attempts"
    id: Mapped[int] = mapped_column(ID_TYPE, primary_key=True, autoincrement=True)
    delivery_id: Mapped[int] = mapped_column(ForeignKey("webhook_deliveries.id"), index=True)
    attempt: Mapped[int] = mapped_column(Integer)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    status_code: Mapped[int | None] = mapped_column(Integer, nullable=True)
    error: Mapped[str | None] = mapped_column(Text, nullable=True)
    duration_ms: Mapped[int] = mapped_column(Integer)


class EmailPreference(Base):
    """How one person wants e-mail: at once, a daily digest, or none. Without a preference, a
    person the roster gives an address gets the daily digest there; ``email`` None: the roster's."""

    __tablename__ = "email_preferences"
    nip: Mapped[str] = mapped_column(String(18), primary_key=True)
    agency: Mapped[str] = mapped_column(String(64))
    email: Mapped[str | None] = mapped_column(String(320), nullable=True)
    mode: Mapped[str] = mapped_column(String(16))  # immediate / digest / off
    digest_hour: Mapped[int] = mapped_column(Integer, default=16)  # agency-local hour
    last_digest_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class EmailMessage(Base):
    """An e-mail to send (an outbox the mailer drains); written with the notification it is about."""

    __tablename__ = "emails"
    id: Mapped[int] = mapped_column(ID_TYPE, primary_key=True, autoincrement=True)
    recipient_nip: Mapped[str] = mapped_column(String(18), index=True)
    agency: Mapped[str | None] = mapped_column(String(64), nullable=True, index=True)  # the recipient's
    to_address: Mapped[str] = mapped_column(String(320))
    subject: Mapped[str] = mapped_column(String(300))
    body: Mapped[str] = mapped_column(Text)
    kind: Mapped[str] = mapped_column(String(16))  # immediate / digest
    notification_id: Mapped[int | None] = mapped_column(ForeignKey("notifications.id"), nullable=True, unique=True)
    status: Mapped[str] = mapped_column(String(16), default="pending")  # pending / sent / failed
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    last_error: Mapped[str | None] = mapped_column(Text, nullable=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    sent_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    __table_args__ = (Index("ix_emails_due", "status", "next_attempt_at"),)


class MailerState(Base):
    """How the mailer fared last (one row): what ``/readyz`` shows, and whether the agencies'
    admins were told that mail stopped going out."""

    __tablename__ = "mailer_state"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)  # always 1
    endpoint: Mapped[str | None] = mapped_column(String(300), nullable=True)  # host:port last used
    last_attempt_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    last_success_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    last_error: Mapped[str | None] = mapped_column(Text, nullable=True)
    last_error_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    consecutive_failures: Mapped[int] = mapped_column(Integer, default=0)
    failing_since: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
