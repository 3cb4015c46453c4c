"""kehadiran's working-time tables: unit schedules, Ramadan schedules, the holiday calendar,
shifts, leave / official duty, office locations, the day-closing cursor and discipline alerts."""
from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import JSON, Date, Float, Integer, String, Time
from sqlalchemy.orm import Mapped, mapped_column

from kehadiran.adapters.orm import Base
from kinerja.db import UtcDateTime


class UnitSchedule(Base):
    """A unit's week: ``hours`` maps weekday (0 = Monday) to ``["07:30", "16:00"]``."""

    __tablename__ = "unit_schedules"
    agency: Mapped[str] = mapped_column(String(64), primary_key=True)
    unit: Mapped[str] = mapped_column(String(200), primary_key=True)
    hours: Mapped[dict] = mapped_column(JSON)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime())


class RamadanSchedule(Base):
    __tablename__ = "ramadan_schedules"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    agency: Mapped[str] = mapped_column(String(64), index=True)
    unit: Mapped[str | None] = mapped_column(String(200), nullable=True)  # NULL: every unit
    start_date: Mapped[date] = mapped_column(Date)
    end_date: Mapped[date] = mapped_column(Date)
    hours: Mapped[dict] = mapped_column(JSON)


class Holiday(Base):
    """A public holiday (libur) or collective leave day (cuti bersama): not a workday."""

    __tablename__ = "holidays"
    agency: Mapped[str] = mapped_column(String(64), primary_key=True)
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(20))  # libur | cuti_bersama


class Shift(Base):
    """An ASN's shift on a date; NULL hours mean an assigned day off."""

    __tablename__ = "shifts"
    nip: Mapped[str] = mapped_column(String(18), primary_key=True)
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    start: Mapped[str | None] = mapped_column(String(5), nullable=True)
    end: Mapped[str | None] = mapped_column(String(5), nullable=True)
    name: Mapped[str] = mapped_column(String(50), default="")


class Leave(Base):
    """An excused day: cuti (leave), sakit (sick leave) or dinas_luar (official duty)."""

    __tablename__ = "leaves"
    nip: Mapped[str] = mapped_column(String(18), primary_key=True)
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    kind: Mapped[str] = mapped_column(String(20))
    note: Mapped[str] = mapped_column(String(500), default="")
    entered_by: Mapped[str] = mapped_column(String(64))
    entered_at: Mapped[datetime] = mapped_column(UtcDateTime())


class UnitLocation(Base):
    """Where a unit's office is, for geofenced phone check-in."""

    __tablename__ = "unit_locations"
    agency: Mapped[str] = mapped_column(String(64), primary_key=True)
    unit: Mapped[str] = mapped_column(String(200), primary_key=True)
    lat: Mapped[float] = mapped_column(Float)
    lon: Mapped[float] = mapped_column(Float)
    radius_m: Mapped[float] = mapped_column(Float)


class Tracking(Base):
    """From which local date an ASN's workdays are closed (no TK before they were on the roster)."""

    __tablename__ = "tracking"
    nip: Mapped[str] = mapped_column(String(18), primary_key=True)
    since: Mapped[date] = mapped_column(Date)


class ClosingCursor(Base):
    """The last local date whose workdays have been closed, per agency."""

    __tablename__ = "closing_cursors"
    agency: Mapped[str] = mapped_column(String(64), primary_key=True)
    closed_through: Mapped[date] = mapped_column(Date)


class DisciplineAlertRow(Base):
    """PP 94/2021 thresholds already raised, so each is raised once."""

    __tablename__ = "discipline_alerts"
    nip: Mapped[str] = mapped_column(String(18), primary_key=True)
    year: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[str] = mapped_column(String(20), primary_key=True)
    threshold: Mapped[int] = mapped_column(Integer, primary_key=True)
    day: Mapped[date] = mapped_column(Date)
    raised_at: Mapped[datetime] = mapped_column(UtcDateTime())
