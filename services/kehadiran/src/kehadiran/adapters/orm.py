"""kehadiran's tables (SQLAlchemy 2 typed models). Only this service reads or writes them."""
from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import (JSON, BigInteger, Boolean, Date, DateTime, Index, Integer, LargeBinary, String, Text,
                        UniqueConstraint, false, text, true)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from kinerja.db import UtcDateTime
from kinerja.messaging.outbox import add_plumbing_tables
from kinerja.roster_slice import RosterColumns


class Base(DeclarativeBase):
    pass


metadata = Base.metadata
add_plumbing_tables(metadata)


class Employee(RosterColumns, Base):
    """This service's slice of the roster (from ``pegawai.v1``): the shared columns, and the
    device PIN, TMT and TPP base."""

    __tablename__ = "employees"
    atasan_nip: Mapped[str | None] = mapped_column(String(18), nullable=True)  # not indexed here
    pin: Mapped[str | None] = mapped_column(String(20), nullable=True)
    # the PIN without leading zeros ('007' → '7'), what a PIN is matched on where the agency
    # says terminals' leading zeros do not tell people apart (``AgencySettings.ignore_pin_zeros``)
    pin_key: Mapped[str | None] = mapped_column(String(20), nullable=True)
    tmt: Mapped[date | None] = mapped_column(Date, nullable=True)  # no workday before it
    tpp_base: Mapped[int | None] = mapped_column(BigInteger, nullable=True)  # monthly TPP base, whole rupiah
    __table_args__ = (Index("ix_employees_agency_pin", "agency", "pin"),
                      Index("ix_employees_agency_pin_key", "agency", "pin_key"))


def pin_key(pin: str | None) -> str | None:
    """``'007'`` → ``'7'``, ``'000'`` → ``'0'``."""
    if pin is None:
        return None
    return pin.lstrip("0") or "0"


class AgencySettings(Base):
    """What an agency decides about its days and terminals. ``timezone`` comes from the roster
    (``pegawai.v1``), the rest from the agency's admin (``/api/v1/agencies/<agency>/settings``);
    NULL means the deployment's default (``KINERJA_TIMEZONE``, ``KEHADIRAN_BURST_WINDOW_S``)."""

    __tablename__ = "agency_settings"
    agency: Mapped[str] = mapped_column(String(64), primary_key=True)
    timezone: Mapped[str | None] = mapped_column(String(40), nullable=True)
    # '007' and '7' on a terminal are the same person
    ignore_pin_zeros: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    # punches of one person closer than this (on any terminals) are one punch for the day's rules
    burst_window_s: Mapped[int | None] = mapped_column(Integer, nullable=True)
    updated_at: Mapped[datetime | None] = mapped_column(UtcDateTime(), nullable=True)
    updated_by: Mapped[str | None] = mapped_column(String(64), nullable=True)


class Device(Base):
    __tablename__ = "devices"
    sn: Mapped[str] = mapped_column(String(64), primary_key=True)
    agency: Mapped[str] = mapped_column(String(64), index=True)
    tz_offset_minutes: Mapped[int] = mapped_column(Integer, default=420)
    name: Mapped[str] = mapped_column(String(200), default="")
    registered_at: Mapped[datetime] = mapped_column(UtcDateTime())
    last_contact_at: Mapped[datetime | None] = mapped_column(UtcDateTime(), nullable=True)
    # what an ADMS device last told us (getrequest INFO, table=options, upload stamps)
    firmware: Mapped[str | None] = mapped_column(String(100), nullable=True)
    user_count: Mapped[int | None] = mapped_column(Integer, nullable=True)
    fp_count: Mapped[int | None] = mapped_column(Integer, nullable=True)
    log_count: Mapped[int | None] = mapped_column(Integer, nullable=True)
    info: Mapped[dict | None] = mapped_column(JSON, nullable=True)
    options: Mapped[dict | None] = mapped_column(JSON, nullable=True)
    options_at: Mapped[datetime | None] = mapped_column(UtcDateTime(), nullable=True)
    attlog_stamp: Mapped[str | None] = mapped_column(String(32), nullable=True)
    operlog_stamp: Mapped[str | None] = mapped_column(String(32), nullable=True)
    last_rejected: Mapped[list | None] = mapped_column(JSON, nullable=True)
    # a serial belongs to the agency that registered it until that agency (or an operator)
    # releases it; a released device is refused and gets no commands
    active: Mapped[bool] = mapped_column(Boolean, default=True, server_default=true())
    released_at: Mapped[datetime | None] = mapped_column(UtcDateTime(), nullable=True)
    # the terminal's communication key (what it sends as pushcommkey), kept as its SHA-256
    comm_key_sha256: Mapped[str | None] = mapped_column(String(64), nullable=True)
    # source networks the device may call from (CIDRs); empty: any, unless binding is on
    addresses: Mapped[list | None] = mapped_column(JSON, nullable=True)
    # the address of the latest handshake that carried the right communication key
    keyed_address: Mapped[str | None] = mapped_column(String(45), nullable=True)
    last_address: Mapped[str | None] = mapped_column(String(45), nullable=True)
    address_changed_at: Mapped[datetime | None] = mapped_column(UtcDateTime(), nullable=True)


class PunchRow(Base):
    """A raw punch, identified by (device, PIN, device time). ``nip`` is NULL while quarantined.
    A phone's ``time`` is when it arrived and its ``device_time`` the phone's own clock (within the
    allowed skew), or the arrival when the phone sent none."""

    __tablename__ = "punches"
    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    device_sn: Mapped[str] = mapped_column(String(64))
    agency: Mapped[str] = mapped_column(String(64))
    person_key: Mapped[str] = mapped_column(String(20))  # the device PIN, or the NIP for phones
    device_time: Mapped[datetime] = mapped_column(DateTime(timezone=False))  # device local clock
    time: Mapped[datetime] = mapped_column(UtcDateTime())  # the instant, UTC
    nip: Mapped[str | None] = mapped_column(String(18), nullable=True)
    status: Mapped[str | None] = mapped_column(String(8), nullable=True)
    channel: Mapped[str] = mapped_column(String(16))
    received_at: Mapped[datetime] = mapped_column(UtcDateTime())
    event_id: Mapped[str | None] = mapped_column(String(36), nullable=True)
    # the approved correction (lupa absen) this punch stands for; NULL for every punch a device made
    correction_id: Mapped[str | None] = mapped_column(String(36), nullable=True)
    __table_args__ = (
        UniqueConstraint("device_sn", "person_key", "device_time", name="uq_punch_identity"),
        # the quarantined punches only (every reader asks for ``nip IS NULL``): a punch of a known
        # ASN, nearly every one, adds no entry to it (migration 0022)
        Index("ix_punches_quarantine", "agency", "person_key", postgresql_where=text("nip IS NULL"),
              sqlite_where=text("nip IS NULL")),
        # the day worker reads an ASN's punches of a few days (``day_store``), not all of them
        Index("ix_punches_nip_time", "nip", "time"),
    )


class DaySummaryRow(Base):
    """The latest published version of one ASN's day."""

    __tablename__ = "day_summaries"
    nip: Mapped[str] = mapped_column(String(18), primary_key=True)
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    version: Mapped[int] = mapped_column(Integer)
    final: Mapped[bool] = mapped_column(default=False)
    payload: Mapped[dict] = mapped_column(JSON)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime())


# -- ADMS devices: command queue, users and operation log as the device reported them ----------
class DeviceCommand(Base):
    """A command queued for one device, handed out by getrequest as ``C:<id>:<command>``."""

    __tablename__ = "device_commands"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    device_sn: Mapped[str] = mapped_column(String(64))
    # the agency that queued it: after a serial moves, the new owner sees none of the old one's
    agency: Mapped[str | None] = mapped_column(String(64), nullable=True)
    command: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(16), default="pending")  # pending, sent, done, failed
    # how many times it was handed out; a command whose reply never came is handed out again, up
    # to a bound, then failed (``devices.expire_unanswered``)
    attempts: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    created_by: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())
    sent_at: Mapped[datetime | None] = mapped_column(UtcDateTime(), nullable=True)
    result_at: Mapped[datetime | None] = mapped_column(UtcDateTime(), nullable=True)
    return_code: Mapped[int | None] = mapped_column(Integer, nullable=True)
    result: Mapped[dict | None] = mapped_column(JSON, nullable=True)
    __table_args__ = (Index("ix_device_commands_queue", "device_sn", "status", "id"),)


class DeviceUser(Base):
    """A user record a device reported in its OPERLOG (``USER PIN=..\tName=..``)."""

    __tablename__ = "device_users"
    device_sn: Mapped[str] = mapped_column(String(64), primary_key=True)
    pin: Mapped[str] = mapped_column(String(20), primary_key=True)
    name: Mapped[str] = mapped_column(String(100), default="")
    privilege: Mapped[int | None] = mapped_column(Integer, nullable=True)
    card: Mapped[str | None] = mapped_column(String(32), nullable=True)
    group: Mapped[str | None] = mapped_column(String(16), nullable=True)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime())


class DeviceOperLog(Base):
    """An ``OPLOG`` entry (who did what on the device's keypad), kept once."""

    __tablename__ = "device_oplog"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    device_sn: Mapped[str] = mapped_column(String(64))
    op: Mapped[str] = mapped_column(String(16))
    admin: Mapped[str] = mapped_column(String(32))
    op_time: Mapped[datetime] = mapped_column(DateTime(timezone=False))  # device local clock
    objects: Mapped[str] = mapped_column(String(200), default="")
    received_at: Mapped[datetime] = mapped_column(UtcDateTime())
    __table_args__ = (
        UniqueConstraint("device_sn", "op", "admin", "op_time", "objects", name="uq_device_oplog"),
    )


class DeviceAudit(Base):
    """What happened to a serial's registration and where it called from: registered, updated,
    released, a takeover refused, its address bound, changed or refused, a wrong communication key."""

    __tablename__ = "device_audit"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    device_sn: Mapped[str] = mapped_column(String(64))
    agency: Mapped[str] = mapped_column(String(64))  # the agency the entry concerns (who may read it)
    action: Mapped[str] = mapped_column(String(32))
    actor: Mapped[str] = mapped_column(String(64))  # a token's subject, or "device" for the terminal
    detail: Mapped[dict | None] = mapped_column(JSON, nullable=True)
    at: Mapped[datetime] = mapped_column(UtcDateTime())
    __table_args__ = (Index("ix_device_audit_sn", "device_sn", "id"),)


class DeviceUpload(Base):
    """A photo (ATTPHOTO) or biometric template (BIODATA, FP, FACE) a terminal pushed, kept only
    where the deployment says so (``KEHADIRAN_DEVICE_PHOTOS`` / ``KEHADIRAN_DEVICE_TEMPLATES``),
    each bounded in size and in number per device."""

    __tablename__ = "device_uploads"
    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer(), "sqlite"), primary_key=True,
                                    autoincrement=True)
    device_sn: Mapped[str] = mapped_column(String(64))
    agency: Mapped[str] = mapped_column(String(64))
    kind: Mapped[str] = mapped_column(String(16))  # photo, template
    pin: Mapped[str | None] = mapped_column(String(20), nullable=True)
    label: Mapped[str] = mapped_column(String(100))  # the file name or template type the device gave
    size: Mapped[int] = mapped_column(Integer)
    sha256: Mapped[str] = mapped_column(String(64))
    content: Mapped[bytes] = mapped_column(LargeBinary)
    received_at: Mapped[datetime] = mapped_column(UtcDateTime())
    __table_args__ = (UniqueConstraint("device_sn", "kind", "sha256", name="uq_device_upload"),
                      Index("ix_device_uploads_sn", "device_sn", "kind", "id"))
