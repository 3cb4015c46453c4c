"""tugas's tables (SQLAlchemy 2 typed models). Only this service reads or writes them."""
from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import JSON, Date, DateTime, ForeignKey, Index, Integer, Numeric, String, Text, UniqueConstraint
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from kinerja.messaging.outbox import add_plumbing_tables
from kinerja.roster_slice import RosterColumns

QUANTITY = Numeric(14, 2)


class Base(DeclarativeBase):
    pass


metadata = Base.metadata
add_plumbing_tables(metadata)


class Employee(RosterColumns, Base):
    """This service's slice of the roster (from ``pegawai.v1``): who supervises whom."""

    __tablename__ = "employees"


class SkpRow(Base):
    """One ASN's SKP for one year."""

    __tablename__ = "skps"
    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    nip: Mapped[str] = mapped_column(String(18))
    agency: Mapped[str] = mapped_column(String(64), index=True)
    year: Mapped[int] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(16))  # draft, submitted, approved, returned
    atasan_nip: Mapped[str | None] = mapped_column(String(18), nullable=True)
    revision: Mapped[int] = mapped_column(Integer, default=0)  # approvals so far
    note: Mapped[str | None] = mapped_column(Text, nullable=True)
    approved_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    version: Mapped[int] = mapped_column(Integer, default=1)
    __table_args__ = (UniqueConstraint("nip", "year", name="uq_skp_nip_year"),)


class SkpRevisionRow(Base):
    """What an SKP said when it was approved: one row per approval, kept when it changes later."""

    __tablename__ = "skp_revisions"
    skp_id: Mapped[str] = mapped_column(ForeignKey("skps.id"), primary_key=True)
    revision: Mapped[int] = mapped_column(Integer, primary_key=True)
    approved_by: Mapped[str] = mapped_column(String(18))
    approved_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    note: Mapped[str | None] = mapped_column(Text, nullable=True)
    content: Mapped[dict] = mapped_column(JSON)  # {"rhk": [...]} as approved


class RhkRow(Base):
    """A Rencana Hasil Kerja of an SKP, optionally supporting one of the supervisor's RHK."""

    __tablename__ = "rhks"
    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    skp_id: Mapped[str] = mapped_column(ForeignKey("skps.id"), index=True)
    nip: Mapped[str] = mapped_column(String(18), index=True)
    kind: Mapped[str] = mapped_column(String(16))  # main, additional
    text: Mapped[str] = mapped_column(Text)
    parent_rhk_id: Mapped[str | None] = mapped_column(ForeignKey("rhks.id"), nullable=True)
    # [{"indicator", "target_quantity", "unit", "quality_target", "time_target"}]
    indicators: Mapped[list] = mapped_column(JSON, default=list)
    position: Mapped[int] = mapped_column(Integer, default=0)


class TaskRow(Base):
    __tablename__ = "tasks"
    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    agency: Mapped[str] = mapped_column(String(64))
    nip: Mapped[str] = mapped_column(String(18))
    atasan_nip: Mapped[str | None] = mapped_column(String(18), nullable=True, index=True)
    assigned_by: Mapped[str] = mapped_column(String(18))
    title: Mapped[str] = mapped_column(String(500))
    description: Mapped[str | None] = mapped_column(Text, nullable=True)
    category: Mapped[str | None] = mapped_column(String(100), nullable=True)
    rhk_id: Mapped[str | None] = mapped_column(ForeignKey("rhks.id"), nullable=True, index=True)
    status: Mapped[str] = mapped_column(String(16))
    due_date: Mapped[date] = mapped_column(Date)
    target_quantity: Mapped[Decimal] = mapped_column(QUANTITY)
    realised_quantity: Mapped[Decimal | None] = mapped_column(QUANTITY, nullable=True)
    quality: Mapped[int | None] = mapped_column(Integer, nullable=True)
    submitted_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    approved_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    note: Mapped[str | None] = mapped_column(Text, nullable=True)
    links: Mapped[list] = mapped_column(JSON, default=list)
    overdue_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    # optimistic concurrency: every change is UPDATE ... WHERE version = <the version read>
    version: Mapped[int] = mapped_column(Integer, default=1)
    __table_args__ = (
        Index("ix_tasks_agency_nip", "agency", "nip"),
        Index("ix_tasks_open_due", "status", "due_date"),
    )


class EvidenceRow(Base):
    """A file uploaded as evidence of a task, stored by the service under its var dir."""

    __tablename__ = "evidence"
    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    task_id: Mapped[str] = mapped_column(ForeignKey("tasks.id"), index=True)
    filename: Mapped[str] = mapped_column(String(255))
    content_type: Mapped[str] = mapped_column(String(200))
    size: Mapped[int] = mapped_column(Integer)
    sha256: Mapped[str] = mapped_column(String(64))
    path: Mapped[str] = mapped_column(String(500))  # relative to the evidence dir
    uploaded_by: Mapped[str] = mapped_column(String(18))
    uploaded_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class FeedbackThreadRow(Base):
    """One thread per task or per RHK, between the ASN (``nip``) and their supervisor."""

    __tablename__ = "feedback_threads"
    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    agency: Mapped[str] = mapped_column(String(64))
    nip: Mapped[str] = mapped_column(String(18), index=True)
    task_id: Mapped[str | None] = mapped_column(ForeignKey("tasks.id"), nullable=True, unique=True)
    rhk_id: Mapped[str | None] = mapped_column(ForeignKey("rhks.id"), nullable=True, unique=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class FeedbackMessageRow(Base):
    __tablename__ = "feedback_messages"
    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    thread_id: Mapped[str] = mapped_column(ForeignKey("feedback_threads.id"), index=True)
    author_nip: Mapped[str] = mapped_column(String(18))
    recipient_nip: Mapped[str] = mapped_column(String(18))
    text: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class InnovationRow(Base):
    __tablename__ = "innovations"
    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    agency: Mapped[str] = mapped_column(String(64))
    nip: Mapped[str] = mapped_column(String(18))
    title: Mapped[str] = mapped_column(String(500))
    description: Mapped[str] = mapped_column(Text)
    links: Mapped[list] = mapped_column(JSON, default=list)
    status: Mapped[str] = mapped_column(String(16))  # proposed, approved, rejected
    decided_by: Mapped[str | None] = mapped_column(String(18), nullable=True)
    decided_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    note: Mapped[str | None] = mapped_column(Text, nullable=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    version: Mapped[int] = mapped_column(Integer, default=1)
    __table_args__ = (Index("ix_innovations_agency_nip", "agency", "nip"),)
