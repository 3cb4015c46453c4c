"""Leave requests: asked by the ASN, decided by their supervisor (or an admin of the agency)."""
from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Date, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from kehadiran.adapters.orm import Base
from kinerja.db import UtcDateTime


class LeaveRequest(Base):
    __tablename__ = "leave_requests"
    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    nip: Mapped[str] = mapped_column(String(18), index=True)
    agency: Mapped[str] = mapped_column(String(64))
    kind: Mapped[str] = mapped_column(String(20))  # cuti | sakit | dinas_luar
    start_date: Mapped[date] = mapped_column(Date)
    end_date: Mapped[date] = mapped_column(Date)
    reason: Mapped[str] = mapped_column(String(500))
    status: Mapped[str] = mapped_column(String(16))  # pending | approved | rejected | cancelled
    requested_by: Mapped[str] = mapped_column(String(64))
    requested_at: Mapped[datetime] = mapped_column(UtcDateTime())
    decided_by: Mapped[str | None] = mapped_column(String(64), nullable=True)
    decided_at: Mapped[datetime | None] = mapped_column(UtcDateTime(), nullable=True)
    note: Mapped[str] = mapped_column(String(500), default="")
    __table_args__ = (Index("ix_leave_requests_agency_status", "agency", "status"),)
