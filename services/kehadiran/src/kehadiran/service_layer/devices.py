"""ADMS devices: what they report (INFO, options, stamps, users, operation log), their command
queue, and their status for operators. The caller owns the transaction; these functions never
commit."""
from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any, Iterable
from zoneinfo import ZoneInfo

from sqlalchemy import delete, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from kehadiran.adapters import device_store
from kehadiran.adapters.adms import (PIN_RE, BadLine, CommandResult, DeviceInfo, OperRecord, QueryRecord, int_field,
                                     parse_time, user_of)
from kehadiran.adapters.orm import Device, DeviceCommand, DeviceOperLog, DeviceUpload, DeviceUser, PunchRow

MAX_COMMANDS_PER_POLL = 20
MAX_COMMAND_LENGTH = 2000
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


# -- OPERLOG ----------------------------------------------------------------------------------
def record_operlog(session: Session, device: Device, records: Iterable[OperRecord], now: datetime) -> int:
    """Store USER records (latest wins) and OPLOG entries (once each). Fingerprint, face and photo
    templates are biometric data we have no use for: acknowledged, not stored. Returns how many
    records were accepted (all well-formed ones, re-sent ones included)."""
    accepted = 0
    for record in records:
        accepted += 1
        if record.kind == "USER":
            user = user_of(record)
            assert user is not None
            row = session.get(DeviceUser, (device.sn, user.pin))
            if row is None:
                row = DeviceUser(device_sn=device.sn, pin=user.pin)
                session.add(row)
            row.name, row.privilege = user.name[:100], user.privilege
            row.card = user.card[:32] if user.card else None
            row.group = user.group[:16] if user.group else None
            row.updated_at = now
        elif record.kind == "OPLOG":
            v = record.values
            op_time = parse_time(v["time"])
            objects = "\t".join(v.get(k, "") for k in ("obj1", "obj2", "obj3", "obj4"))[:200]
            key = dict(device_sn=device.sn, op=v["op"][:16], admin=v["admin"][:32], op_time=op_time, objects=objects)
            exists = session.execute(select(DeviceOperLog.id).filter_by(**key)).first()
            if exists:
                continue
            try:
                with session.begin_nested():
                    session.add(DeviceOperLog(**key, received_at=now))
                    session.flush()
            except IntegrityError:
                pass  # stored concurrently by a re-sent batch
    session.flush()
    return accepted


# -- command queue ----------------------------------------------------------------------------
def validate_command(command: str) -> str:
    command = command.strip()
    if not command:
        raise ValueError("command is empty")
    if "\n" in command or "\r" in command:
        raise ValueError("a command is one line")
    if len(command) > MAX_COMMAND_LENGTH:
        raise ValueError(f"a command has at most {MAX_COMMAND_LENGTH} characters")
    return command


def enqueue_command(session: Session, device: Device, command: str, *, created_by: str,
                    now: datetime | None = None) -> DeviceCommand:
    if not device.active:
        raise ValueError(f"device {device.sn} is released: it gets no commands")
    row = DeviceCommand(device_sn=device.sn, agency=device.agency, command=validate_command(command),
                        status="pending", created_by=created_by[:64], created_at=now or utcnow())
    session.add(row)
    session.flush()
    return row


# a command handed out whose reply has not come in this long is handed out again, at most
# ``COMMAND_ATTEMPTS`` times in all, then failed (``KEHADIRAN_COMMAND_REPLY_S``, ``..._ATTEMPTS``)
COMMAND_REPLY_TIMEOUT = timedelta(minutes=5)
COMMAND_ATTEMPTS = 3


@dataclass(frozen=True)
class CommandRetry:
    reply_timeout: timedelta = COMMAND_REPLY_TIMEOUT
    attempts: int = COMMAND_ATTEMPTS


def _no_reply(row: DeviceCommand, now: datetime) -> None:
    row.status, row.result_at = "failed", now
    row.result = {"error": f"no reply from the device after {row.attempts} attempt(s)"}


def take_pending(session: Session, device: Device, now: datetime, limit: int = MAX_COMMANDS_PER_POLL,
                 retry: CommandRetry = CommandRetry()) -> list[DeviceCommand]:
    """Commands for getrequest, oldest first, marked sent: the ones handed out before whose reply
    never came (again, while attempts remain; failed after the last), then the pending ones. A
    reply that comes late for a command handed out again still counts (``store_results``)."""
    if not device.active:
        return []
    lock = session.get_bind().dialect.name == "postgresql"  # two polls at once never get the same command
    overdue = (select(DeviceCommand).where(DeviceCommand.device_sn == device.sn, DeviceCommand.agency == device.agency,
                                           DeviceCommand.status == "sent",
                                           DeviceCommand.sent_at <= now - retry.reply_timeout)
               .order_by(DeviceCommand.id).limit(limit))
    again = []
    for row in session.execute(overdue.with_for_update(skip_locked=True) if lock else overdue).scalars():
        if row.attempts >= retry.attempts:
            _no_reply(row, now)
        else:
            again.append(row)
    query = (select(DeviceCommand).where(DeviceCommand.device_sn == device.sn, DeviceCommand.agency == device.agency,
                                         DeviceCommand.status == "pending")
             .order_by(DeviceCommand.id).limit(max(0, limit - len(again))))
    rows = again + (list(session.execute(query.with_for_update(skip_locked=True) if lock else query).scalars())
                    if len(again) < limit else [])
    for row in rows:
        row.status, row.sent_at = "sent", now
        row.attempts = (row.attempts or 0) + 1
    session.flush()
    return rows


def expire_unanswered(session: Session, now: datetime, retry: CommandRetry = CommandRetry(), limit: int = 1000) -> int:
    """Fail the commands whose last attempt went unanswered, also of devices that stopped polling
    (the day closer runs it); returns how many."""
    query = (select(DeviceCommand).where(DeviceCommand.status == "sent", DeviceCommand.attempts >= retry.attempts,
                                         DeviceCommand.sent_at <= now - retry.reply_timeout)
             .order_by(DeviceCommand.id).limit(limit))
    if session.get_bind().dialect.name == "postgresql":
        query = query.with_for_update(skip_locked=True)
    rows = session.execute(query).scalars().all()
    for row in rows:
        _no_reply(row, now)
    session.flush()
    return len(rows)


def store_results(session: Session, device: Device, results: Iterable[CommandResult],
                  now: datetime) -> tuple[int, list[int]]:
    """Record each ``devicecmd`` result on its command (0 or more = done, negative = failed).
    Returns (stored, ids that are not this device's commands)."""
    stored, unknown = 0, []
    for res in results:
        row = session.get(DeviceCommand, res.id)
        if row is None or row.device_sn != device.sn or row.agency != device.agency:
            unknown.append(res.id)
            continue
        row.status = "done" if res.return_code >= 0 else "failed"
        row.return_code, row.result_at = res.return_code, now
        # what a DATA QUERY answer brought (``note_query_result``) stays beside the reply's pairs
        kept = {k: v for k, v in (row.result or {}).items() if k.startswith("query_")}
        row.result = {**kept, **{k[:64]: v[:500] for k, v in list(res.values.items())[:50]}}
        stored += 1
    session.flush()
    return stored, unknown


def list_commands(session: Session, device: Device, limit: int = 100, status: str | None = None) -> list[DeviceCommand]:
    query = select(DeviceCommand).where(DeviceCommand.device_sn == device.sn, DeviceCommand.agency == device.agency)
    if status is not None:
        query = query.where(DeviceCommand.status == status)
    return list(session.execute(query.order_by(DeviceCommand.id.desc()).limit(limit)).scalars().all())


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


# -- photos and biometric templates (push 3.x) ------------------------------------------------
@dataclass(frozen=True)
class UploadPolicy:
    """What becomes of a photo or template a terminal pushes: acknowledged always (an error reply
    would make it push again forever), stored only when the deployment says so, each at most
    ``max_bytes``, the newest ``keep`` per device and kind."""

    photos: bool = False  # KEHADIRAN_DEVICE_PHOTOS=store
    templates: bool = False  # KEHADIRAN_DEVICE_TEMPLATES=store (biometric data: off unless needed)
    max_bytes: int = 256 * 1024  # KEHADIRAN_DEVICE_UPLOAD_MAX_BYTES
    keep: int = 500  # KEHADIRAN_DEVICE_UPLOADS_KEEP


def store_upload(session: Session, device: Device, kind: str, pin: str | None, label: str, content: bytes | None,
                 now: datetime, policy: UploadPolicy) -> bool:
    """Keep one photo (``kind`` photo) or template (template) if the policy allows it; True when it
    is stored (now or before). Beyond ``keep`` per device and kind, the oldest go."""
    allowed = policy.photos if kind == "photo" else policy.templates
    if not allowed or not content or len(content) > policy.max_bytes:
        return False
    digest = hashlib.sha256(content).hexdigest()
    found = session.execute(select(DeviceUpload.id).where(DeviceUpload.device_sn == device.sn,
                                                          DeviceUpload.kind == kind,
                                                          DeviceUpload.sha256 == digest)).first()
    if found:
        return True
    try:
        with session.begin_nested():
            session.add(DeviceUpload(device_sn=device.sn, agency=device.agency, kind=kind, pin=pin, label=label[:100],
                                     size=len(content), sha256=digest, content=content, received_at=now))
            session.flush()
    except IntegrityError:
        return True  # the same upload, stored by a concurrent request
    stale = session.execute(select(DeviceUpload.id).where(DeviceUpload.device_sn == device.sn,
                                                          DeviceUpload.kind == kind)
                            .order_by(DeviceUpload.id.desc()).offset(policy.keep).limit(1000)).scalars().all()
    if stale:
        session.execute(delete(DeviceUpload).where(DeviceUpload.id.in_(stale)))
    return True


def record_query_users(session: Session, device: Device, records: Iterable[QueryRecord], now: datetime) -> int:
    """The ``user`` records of a ``DATA QUERY`` answer (keys in lower case), kept like OPERLOG's."""
    def field(values: dict[str, str], name: str) -> str:
        return values.get(name.lower(), values.get(name, ""))

    users = [OperRecord(r.line_no, "USER", {"PIN": r.values["PIN"].strip(), "Name": field(r.values, "Name"),
                                            "Pri": field(r.values, "Pri"), "Card": field(r.values, "Card"),
                                            "Grp": field(r.values, "Grp")})
             for r in records if r.table in ("user", "userinfo") and PIN_RE.match(r.values.get("PIN", "").strip())]
    return record_operlog(session, device, users, now)


MAX_QUERY_TABLES = 20


def note_query_result(session: Session, device: Device, cmd_id: int | None, table: str, count: int,
                      now: datetime) -> None:
    """What a ``DATA QUERY`` answer brought, on its command as ``query_<table>``: the records
    received, as text like every value of a command's result (the device still sends its return
    code to devicecmd); at most ``MAX_QUERY_TABLES`` tables."""
    if cmd_id is None:
        return
    row = session.get(DeviceCommand, cmd_id)
    if row is None or row.device_sn != device.sn or row.agency != device.agency:
        return
    result = dict(row.result or {})
    key = f"query_{table[:32]}"
    if key not in result and sum(k.startswith("query_") for k in result) >= MAX_QUERY_TABLES:
        return
    before = int(result[key]) if str(result.get(key, "")).isdigit() else 0
    result[key] = str(before + count)
    row.result = result
    row.result_at = row.result_at or now
