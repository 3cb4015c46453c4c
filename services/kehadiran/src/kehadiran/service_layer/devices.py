"""ADMS devices: their contact, what they report of themselves (INFO, options, stamps, the
malformed lines they sent), their registration and their status for operators. What they upload
besides punches is ``device_records``; their command queue ``device_command_queue``. The caller
owns the transaction; these functions never commit."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Any, Iterable
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from kehadiran.adapters import device_store
from kehadiran.adapters.adms import BadLine, DeviceInfo, int_field
from kehadiran.adapters.orm import Device, DeviceCommand, DeviceUser, PunchRow

KEEP_REJECTED = 20
ONLINE_WITHIN = timedelta(minutes=5)
# last_contact_at is written at most this often (ONLINE_WITHIN is what it is read against): an
# UPDATE on every request made one device's concurrent requests queue behind each other's row lock
CONTACT_EVERY = device_store.CONTACT_EVERY


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


def device_now(device: Device, now: datetime) -> datetime:
    """The device's wall clock at ``now`` (naive), from its registered offset."""
    return (now.astimezone(timezone.utc) + timedelta(minutes=device.tz_offset_minutes)).replace(tzinfo=None)


def contact_due(device: Device, now: datetime) -> bool:
    last = device.last_contact_at
    return last is None or abs(now - last) >= CONTACT_EVERY


def touch(device: Device, now: datetime, stamps: dict[str, str | None] | None = None) -> None:
    """Note that the device was in contact at ``now`` and the upload stamps it sent, unless that
    was noted less than ``CONTACT_EVERY`` ago. Call it last in the transaction: the row stays
    locked from its UPDATE (at the flush) until the commit. A stamp kept a few seconds behind
    only makes the device upload those seconds again at its next handshake, which the ingest
    counts as duplicates."""
    if contact_due(device, now):
        device.last_contact_at = now
        for table, stamp in (stamps or {}).items():
            note_stamp(device, table, stamp)


def apply_info(device: Device, info: DeviceInfo | None) -> None:
    if info is None:
        return
    device.firmware = info.firmware or device.firmware
    device.user_count = info.user_count if info.user_count is not None else device.user_count
    device.fp_count = info.fp_count if info.fp_count is not None else device.fp_count
    device.log_count = info.log_count if info.log_count is not None else device.log_count
    device.info = {"raw": info.raw, "ip": info.ip}


def store_options(device: Device, options: dict[str, str], now: datetime) -> None:
    # keep what came before: some firmware pushes its options in several smaller posts
    device.options = {**(device.options or {}), **{k[:64]: v[:500] for k, v in list(options.items())[:200]}}
    device.options_at = now
    firmware = options.get("FWVersion") or options.get("~FWVersion")
    if firmware:
        device.firmware = firmware[:100]
    for key, attr in (("UserCount", "user_count"), ("FPCount", "fp_count"), ("TransactionCount", "log_count")):
        value = int_field(options.get(key))
        if value is not None and value >= 0:
            setattr(device, attr, value)


def note_stamp(device: Device, table: str, stamp: str | None) -> None:
    if stamp is None:
        return
    if table == "ATTLOG":
        device.attlog_stamp = stamp
    else:
        device.operlog_stamp = stamp


def note_rejected(device: Device, errors: Iterable[BadLine], table: str, now: datetime) -> None:
    """Keep the latest malformed lines on the device, for the operator's status page."""
    fresh = [{**e.as_dict(), "table": table, "at": now.isoformat()} for e in errors]
    if fresh:
        device.last_rejected = (fresh + list(device.last_rejected or []))[:KEEP_REJECTED]


# -- status -----------------------------------------------------------------------------------
def device_status(session: Session, device: Device, *, agency_tz: str, now: datetime | None = None) -> dict[str, Any]:
    """What an operator needs to know about one device."""
    now = now or utcnow()
    tz = ZoneInfo(agency_tz)
    today = now.astimezone(tz).date()
    start = datetime.combine(today, datetime.min.time(), tzinfo=tz).astimezone(timezone.utc)
    end = start + timedelta(days=1)
    records_today = session.execute(
        select(func.count()).select_from(PunchRow)
        .where(PunchRow.device_sn == device.sn, PunchRow.agency == device.agency, PunchRow.time >= start,
               PunchRow.time < end)
    ).scalar_one()
    received_today = session.execute(
        select(func.count()).select_from(PunchRow)
        .where(PunchRow.device_sn == device.sn, PunchRow.agency == device.agency, PunchRow.received_at >= start,
               PunchRow.received_at < end)
    ).scalar_one()
    quarantined = session.execute(
        select(func.count()).select_from(PunchRow).where(PunchRow.device_sn == device.sn,
                                                         PunchRow.agency == device.agency, PunchRow.nip.is_(None))
    ).scalar_one()
    by_status = dict(session.execute(
        select(DeviceCommand.status, func.count()).where(DeviceCommand.device_sn == device.sn,
                                                         DeviceCommand.agency == device.agency)
        .group_by(DeviceCommand.status)
    ).all())
    users = session.execute(
        select(func.count()).select_from(DeviceUser).where(DeviceUser.device_sn == device.sn)
    ).scalar_one()
    last = device.last_contact_at
    return {
        "sn": device.sn, "agency": device.agency, "name": device.name,
        "tz_offset_minutes": device.tz_offset_minutes, "registered_at": device.registered_at,
        "last_contact_at": last, "online": bool(last and now - last <= ONLINE_WITHIN),
        "date": today, "records_today": records_today, "received_today": received_today,
        "quarantined": quarantined,
        "firmware": device.firmware, "user_count": device.user_count, "fp_count": device.fp_count,
        "log_count": device.log_count, "info": device.info, "options": device.options,
        "options_at": device.options_at, "attlog_stamp": device.attlog_stamp,
        "operlog_stamp": device.operlog_stamp, "users_reported": users,
        "commands": {s: by_status.get(s, 0) for s in ("pending", "sent", "done", "failed", "cancelled")},
        "last_rejected": device.last_rejected or [],
        "active": device.active, "released_at": device.released_at,
        "comm_key_set": bool(device.comm_key_sha256), "addresses": device.addresses,
        "last_address": device.last_address, "address_changed_at": device.address_changed_at,
    }


def register_device(session: Session, *, sn: str, agency: str, tz_offset_minutes: int, name: str = "",
                    actor: str = "kinerja") -> Device:
    """Register ``sn`` for ``agency`` (see ``registry.register``: another agency's serial is refused)."""
    from kehadiran.service_layer import registry

    return registry.register(session, sn=sn, agency=agency, tz_offset_minutes=tz_offset_minutes, name=name,
                             actor=actor)
