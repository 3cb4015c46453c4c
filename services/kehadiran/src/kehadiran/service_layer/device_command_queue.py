"""The command queue of an ADMS device: a command queued (the line built by the domain, from a
typed request or an operator's raw one), handed out on the device's next ``getrequest``, handed
out again while its reply does not come, and its result stored. The caller owns the transaction."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any, Iterable, Mapping

from sqlalchemy import select
from sqlalchemy.orm import Session

from kehadiran.adapters.adms import CommandResult
from kehadiran.adapters.orm import Device, DeviceCommand, Employee
from kehadiran.domain.device_commands import command_line, validate_command
from kinerja.auth import Principal

MAX_COMMANDS_PER_POLL = 20


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


def queue(session: Session, device: Device, request: Mapping[str, Any], principal: Principal) -> DeviceCommand:
    """Queue the command ``request`` asks for (``kind`` and its fields, or a raw ``command``): a
    user command naming a ``nip`` takes the PIN and name from the roster."""
    rostered = session.get(Employee, request["nip"]) if request.get("kind") == "user" and "nip" in request else None
    line = command_line(request, role=principal.role, agency=device.agency,
                        tz_offset_minutes=device.tz_offset_minutes, rostered=rostered)
    return enqueue_command(session, device, line, created_by=principal.sub)


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
