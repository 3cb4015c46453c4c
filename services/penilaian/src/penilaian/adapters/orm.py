"""penilaian's tables (SQLAlchemy 2 typed models). Only this service reads or writes them.

Facts are stored as they were last stated by the events (never as increments); the score rows
are derived from them and can be recomputed at any time.
"""
from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import JSON, Boolean, Date, DateTime, Index, Integer, String, false
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
from sqlalchemy.types import TypeDecorator

from kinerja.messaging.outbox import add_plumbing_tables
from kinerja.messaging.replay import replayed_offsets_table
from kinerja.roster_slice import RosterColumns


class Cents(TypeDecorator):
    """A two-place score kept exactly as an integer number of hundredths on every database
    (SQLite has no exact decimal type)."""

    impl = Integer
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        return int((Decimal(value) * 100).to_integral_value())

    def process_result_value(self, value, dialect):
        if value is None:
            return None
        return (Decimal(value) / 100).quantize(Decimal("0.01"))


SCORE = Cents()


class Base(DeclarativeBase):
    pass


metadata = Base.metadata
add_plumbing_tables(metadata)
# how far a rebuild applied each partition (``penilaian.entrypoints.rebuild``; the consumer skips below)
replayed_offsets_table(metadata)


class Employee(RosterColumns, Base):
    """This service's slice of the roster (from ``pegawai.v1``), and the position title."""

    __tablename__ = "employees"
    jabatan: Mapped[str] = mapped_column(String(200), default="")  # for the evaluation document


class DayFactRow(Base):
    """The highest version of one ASN's day summary seen so far (ties: the greater event id)."""

    __tablename__ = "day_facts"
    nip: Mapped[str] = mapped_column(String(18), primary_key=True)
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    version: Mapped[int] = mapped_column(Integer)
    event_id: Mapped[str] = mapped_column(String(200))
    agency: Mapped[str] = mapped_column(String(64))
    workday: Mapped[bool] = mapped_column(Boolean)
    excused: Mapped[str | None] = mapped_column(String(64), nullable=True)
    deductions: Mapped[list] = mapped_column(JSON)  # [{code, percent (string), minutes}]
    punch_event_ids: Mapped[list] = mapped_column(JSON)
    # the day rests on an approved correction (lupa absen): its ledger entries say so
    corrected: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())


class TaskFactRow(Base):
    """The greatest state of one task under ``domain.scoring.task_state_key``."""

    __tablename__ = "task_facts"
    task_id: Mapped[str] = mapped_column(String(200), primary_key=True)
    nip: Mapped[str] = mapped_column(String(18), index=True)
    agency: Mapped[str] = mapped_column(String(64))
    title: Mapped[str] = mapped_column(String(500))
    status: Mapped[str] = mapped_column(String(32))
    status_rank: Mapped[int] = mapped_column(Integer)
    event_time: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    event_id: Mapped[str] = mapped_column(String(200))
    due_date: Mapped[date] = mapped_column(Date)
    target_quantity: Mapped[str] = mapped_column(String(40))  # a Decimal, kept exact
    realised_quantity: Mapped[str | None] = mapped_column(String(40), nullable=True)
    quality: Mapped[int | None] = mapped_column(Integer, nullable=True)
    submitted_on: Mapped[date | None] = mapped_column(Date, nullable=True)
    approved_on: Mapped[date | None] = mapped_column(Date, nullable=True)
    # the latest local date on which some event showed the task open (not approved, not
    # cancelled); an overdue event counts as the day after the due date. A maximum, so any order
    # of events gives the same value; the task is past due when it is later than ``due_date``.
    last_open_on: Mapped[date | None] = mapped_column(Date, nullable=True)
    category: Mapped[str | None] = mapped_column(String(64), nullable=True)  # e.g. "pelayanan"
    rhk_id: Mapped[str | None] = mapped_column(String(64), nullable=True)  # the RHK of the ASN's SKP it serves
    __table_args__ = (Index("ix_task_facts_nip_due", "nip", "due_date"),)


class InnovationFactRow(Base):
    __tablename__ = "innovation_facts"
    innovation_id: Mapped[str] = mapped_column(String(200), primary_key=True)
    nip: Mapped[str] = mapped_column(String(18), index=True)
    title: Mapped[str] = mapped_column(String(500))
    approved_on: Mapped[date] = mapped_column(Date)
    event_id: Mapped[str] = mapped_column(String(200))


class SkpFactRow(Base):
    """An ASN's approved SKP of a year as ``tugas.skp.approved.v1`` stated it (the latest revision):
    the RHK with indicators and targets the evaluation document shows."""

    __tablename__ = "skp_facts"
    nip: Mapped[str] = mapped_column(String(18), primary_key=True)
    year: Mapped[int] = mapped_column(Integer, primary_key=True)
    skp_id: Mapped[str] = mapped_column(String(64))
    revision: Mapped[int] = mapped_column(Integer)
    event_id: Mapped[str] = mapped_column(String(200))
    atasan_nip: Mapped[str | None] = mapped_column(String(18), nullable=True)
    approved_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    rhk: Mapped[list] = mapped_column(JSON)  # [{id, kind, text, indicators: [...]}]


class FeedbackFactRow(Base):
    """A feedback message on one of the ASN's tasks or RHK (``tugas.feedback.posted.v1``)."""

    __tablename__ = "feedback_facts"
    message_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    nip: Mapped[str] = mapped_column(String(18), index=True)  # whose task or RHK
    author_nip: Mapped[str] = mapped_column(String(18))
    task_id: Mapped[str | None] = mapped_column(String(200), nullable=True)
    rhk_id: Mapped[str | None] = mapped_column(String(64), nullable=True)
    text: Mapped[str] = mapped_column(String(5000))
    posted_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class ScoreRow(Base):
    """One ASN's score for one period (``2026-11``, ``2026-Q4``, ``2026``), derived from the facts."""

    __tablename__ = "scores"
    # (agency, nip): a policy recompute's batches walk an agency's ASN in NIP order (migration 0013)
    __table_args__ = (Index("ix_scores_agency_nip", "agency", "nip"),)
    nip: Mapped[str] = mapped_column(String(18), primary_key=True)
    period: Mapped[str] = mapped_column(String(10), primary_key=True)
    agency: Mapped[str] = mapped_column(String(64))
    disiplin: Mapped[Decimal | None] = mapped_column(SCORE, nullable=True)
    produktivitas: Mapped[Decimal | None] = mapped_column(SCORE, nullable=True)
    berakhlak: Mapped[Decimal | None] = mapped_column(SCORE, nullable=True)
    perilaku: Mapped[Decimal | None] = mapped_column(SCORE, nullable=True)
    hasil_kerja: Mapped[Decimal | None] = mapped_column(SCORE, nullable=True)
    total: Mapped[Decimal | None] = mapped_column(SCORE, nullable=True)  # final: both parts rated
    total_partial: Mapped[Decimal | None] = mapped_column(SCORE, nullable=True)  # while one part is unrated
    predikat: Mapped[str] = mapped_column(String(32))
    # empty: the ledger is assembled from the facts when read, by the version ``policy_id`` (None:
    # the DESIGN defaults); a row scored before migration 0011 keeps the ledger it was stored with
    # (deductions, tasks, ledger) until it is recomputed
    detail: Mapped[dict] = mapped_column(JSON)
    policy_id: Mapped[str | None] = mapped_column(String(64), nullable=True)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class MonthTotalsRow(Base):
    """One ASN's month reduced to the sums its scores are made of (``domain.month_totals``): the
    month's score and those of its quarter and year are folds of these rows. Decimals are exact
    strings (SQLite has no exact decimal type); written by every recompute of the month."""

    __tablename__ = "month_totals"
    nip: Mapped[str] = mapped_column(String(18), primary_key=True)
    month: Mapped[str] = mapped_column(String(7), primary_key=True)  # "2026-11"
    workdays: Mapped[int] = mapped_column(Integer)
    deductions: Mapped[str] = mapped_column(String(32))
    task_sum: Mapped[str] = mapped_column(String(32))
    task_count: Mapped[int] = mapped_column(Integer)
    late_tasks: Mapped[int] = mapped_column(Integer)
    penalty: Mapped[str] = mapped_column(String(32))  # the timeliness penalty task_sum was taken under
    innovations: Mapped[int] = mapped_column(Integer)


class RatingRow(Base):
    """A BerAKHLAK rating of one ASN for one period, by their supervisor (``atasan``) or by
    themselves (``self``): a level (below / meets / above) per value. Only the supervisor's counts
    in perilaku kerja; the ASN's own is shown beside it."""

    __tablename__ = "ratings"
    nip: Mapped[str] = mapped_column(String(18), primary_key=True)
    period: Mapped[str] = mapped_column(String(10), primary_key=True)
    rater: Mapped[str] = mapped_column(String(8), primary_key=True)  # "atasan" | "self"
    rating_id: Mapped[str] = mapped_column(String(36), unique=True)
    rated_by: Mapped[str] = mapped_column(String(18))
    levels: Mapped[dict] = mapped_column(JSON)
    rated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class TrainingRow(Base):
    """A training an ASN attended, in JP (jam pelajaran)."""

    __tablename__ = "training_records"
    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    nip: Mapped[str] = mapped_column(String(18), index=True)
    title: Mapped[str] = mapped_column(String(300))
    jp: Mapped[int] = mapped_column(Integer)
    day: Mapped[date] = mapped_column(Date)
    provider: Mapped[str] = mapped_column(String(200))
    recorded_by: Mapped[str] = mapped_column(String(64))
    recorded_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class DialogRow(Base):
    """A performance dialogue (dialog kinerja) the ASN and their supervisor held: date, notes and
    the follow-up they agreed."""

    __tablename__ = "dialogs"
    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    nip: Mapped[str] = mapped_column(String(18), index=True)
    atasan_nip: Mapped[str] = mapped_column(String(18))
    period: Mapped[str] = mapped_column(String(10))
    day: Mapped[date] = mapped_column(Date)
    notes: Mapped[str] = mapped_column(String(4000))
    follow_up: Mapped[str] = mapped_column(String(4000))
    values: Mapped[list] = mapped_column(JSON)  # the BerAKHLAK values discussed
    recorded_by: Mapped[str] = mapped_column(String(64))
    recorded_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class PolicyRow(Base):
    """One version of an agency's scoring policy, in force from ``effective_from`` (a month's first
    day) until a later version starts."""

    __tablename__ = "policy_versions"
    policy_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    agency: Mapped[str] = mapped_column(String(64), index=True)
    version: Mapped[int] = mapped_column(Integer)
    effective_from: Mapped[date] = mapped_column(Date)
    values: Mapped[dict] = mapped_column(JSON)  # numbers as decimal strings, distribution_curve
    set_by: Mapped[str] = mapped_column(String(64))
    set_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class OrganisationRatingRow(Base):
    """The organisation's own predikat for a period (it bounds the spread of its ASN's predikat)."""

    __tablename__ = "organisation_ratings"
    agency: Mapped[str] = mapped_column(String(64), primary_key=True)
    period: Mapped[str] = mapped_column(String(10), primary_key=True)
    rating_id: Mapped[str] = mapped_column(String(64))
    predikat: Mapped[str] = mapped_column(String(32))
    set_by: Mapped[str] = mapped_column(String(64))
    set_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class PolicyRecomputeRow(Base):
    """A policy version's recompute of its agency's ASN, worked through by the consumer in bounded
    batches (``service_layer.policy_recompute``): the last NIP done, how far it got, when it ended."""

    __tablename__ = "policy_recomputes"
    policy_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    agency: Mapped[str] = mapped_column(String(64))
    effective_from: Mapped[date] = mapped_column(Date)
    cursor_nip: Mapped[str | None] = mapped_column(String(18), nullable=True)  # the last NIP recomputed
    asn: Mapped[int] = mapped_column(Integer, default=0)  # ASN recomputed so far
    batches: Mapped[int] = mapped_column(Integer, default=0)  # transactions it took so far
    queued_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    done_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    __table_args__ = (Index("ix_policy_recomputes_pending", "done_at", "queued_at"),)


class MembershipRow(Base):
    """The roster's word on an ASN's agency: ``agency`` from ``since`` (a month's first day) on, as
    stated at ``stated_at`` (``service_layer.memberships``). A period is scored by the policy of the
    agency the ASN belonged to on its first day."""

    __tablename__ = "agency_memberships"
    __table_args__ = (Index("ix_agency_memberships_agency_nip", "agency", "nip"),)  # as scores'
    nip: Mapped[str] = mapped_column(String(18), primary_key=True)
    since: Mapped[date] = mapped_column(Date, primary_key=True)
    agency: Mapped[str] = mapped_column(String(64))
    stated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    event_id: Mapped[str] = mapped_column(String(200))  # the roster event that stated it
