"""Correction requests (lupa absen): an ASN asks for punches on a past day, their supervisor (or
an admin of the agency) approves or rejects; an approval becomes punches marked as corrections."""
from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import JSON, Date, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from kehadiran.adapters.orm import Base
from kinerja.db import UtcDateTime


class CorrectionRequest(Base):
    __tablename__ = "correction_requests"
    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    nip: Mapped[str] = mapped_column(String(18), index=True)
    agency: Mapped[str] = mapped_column(String(64))
    day: Mapped[date] = mapped_column(Date)
    punches: Mapped[list] = mapped_column(JSON)  # [{"time": RFC 3339, "status": "in" | "out" | null}]
    reason: Mapped[str] = mapped_column(String(500))
    status: Mapped[str] = mapped_column(String(16))  # pending | approved | rejected
    requested_by: Mapped[str] = mapped_column(String(64))
    requested_at: Mapped[datetime] = mapped_column(UtcDateTime())
    decided_by: Mapped[str | None] = mapped_column(String(64), nullable=True)
    decided_at: Mapped[datetime | None] = mapped_column(UtcDateTime(), nullable=True)
    note: Mapped[str] = mapped_column(String(500), default="")
    punch_ids: Mapped[list] = mapped_column(JSON, default=list)  # the punches an approval made
    __table_args__ = (Index("ix_correction_requests_agency_status", "agency", "status"),)
