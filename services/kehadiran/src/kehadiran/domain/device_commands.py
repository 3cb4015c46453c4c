"""What a command queued for an ADMS device is: one protocol line, built from a typed request
(re-upload a period, push a user's PIN and name, CHECK, INFO) or, for operators only, written raw.
Pure: no I/O; the caller looks the ASN up on the roster and queues the line.

A line refused here says why (``ValueError``, answered as 422); a raw command from anyone but an
operator is not theirs to give (``NotAllowed``)."""
from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone
from typing import Any, Mapping, Protocol

from kehadiran.domain.errors import NotAllowed

TIME_FORMAT = "%Y-%m-%d %H:%M:%S"  # the protocol's times, as the device writes and reads them
MAX_PIN_LENGTH = 20  # the width of the punch identity column
PIN_RE = re.compile(r"^[A-Za-z0-9]{1,%d}$" % MAX_PIN_LENGTH)
MAX_COMMAND_LENGTH = 2000
MAX_DEVICE_NAME = 24  # what ZKTeco firmware keeps of a name
MAX_REUPLOAD_DAYS = 366  # as long as any span of working time the API takes

KINDS = ("reupload", "user", "check", "info")
CHECK_COMMAND = "CHECK"
INFO_COMMAND = "INFO"


class RosterEntry(Protocol):
    """The roster's row of an ASN, as much of it as a user command needs."""
    agency: str
    pin: str | None
    nama: str


def validate_command(command: str) -> str:
    """A command as queued: one non-empty line of at most ``MAX_COMMAND_LENGTH`` characters."""
    command = command.strip()
    if not command:
        raise ValueError("command is empty")
    if "\n" in command or "\r" in command:
        raise ValueError("a command is one line")
    if len(command) > MAX_COMMAND_LENGTH:
        raise ValueError(f"a command has at most {MAX_COMMAND_LENGTH} characters")
    return command


def _field(value: str, name: str) -> str:
    if any(c in value for c in "\t\r\n"):
        raise ValueError(f"{name} may not contain tabs or line breaks")
    return value


def query_attlog_command(start: datetime, end: datetime) -> str:
    """Ask the device to re-upload its attendance log between two device-local times."""
    if end <= start:
        raise ValueError("end must be after start")
    return f"DATA QUERY ATTLOG StartTime={start.strftime(TIME_FORMAT)}\tEndTime={end.strftime(TIME_FORMAT)}"


def update_user_command(pin: str, name: str) -> str:
    if not PIN_RE.match(pin):
        raise ValueError(f"PIN must be 1-{MAX_PIN_LENGTH} letters or digits")
    return f"DATA UPDATE USERINFO PIN={pin}\tName={_field(name, 'name')}"


def device_local(value: datetime, tz_offset_minutes: int) -> datetime:
    """A time as the device's wall clock reads it; one without an offset is taken as that already."""
    if value.tzinfo is None:
        return value
    return value.astimezone(timezone(timedelta(minutes=tz_offset_minutes))).replace(tzinfo=None)


def roster_user(nip: str, emp: RosterEntry | None, agency: str) -> tuple[str, str]:
    """The PIN and the name (as much as a device keeps) the roster gives ``nip`` in ``agency``."""
    if emp is None or emp.agency != agency:
        raise ValueError(f"NIP {nip} is not on the roster of agency {agency}")
    if not emp.pin:
        raise ValueError(f"NIP {nip} has no device PIN on the roster")
    return emp.pin, emp.nama[:MAX_DEVICE_NAME].strip()


def command_line(request: Mapping[str, Any], *, role: str, agency: str, tz_offset_minutes: int,
                 rostered: RosterEntry | None = None) -> str:
    """The line for ``request`` (``kind`` and its fields, or a raw ``command``) to a device of
    ``agency`` running ``tz_offset_minutes`` from UTC; ``rostered`` is the roster's row of the
    ``nip`` a user command names."""
    kind = request.get("kind")
    if kind is None:
        if role != "operator":
            raise NotAllowed("only operators queue raw commands; use a typed kind")
        return request["command"]
    if kind == "reupload":
        start = device_local(request["start"], tz_offset_minutes)
        end = device_local(request["end"], tz_offset_minutes)
        if end - start > timedelta(days=MAX_REUPLOAD_DAYS):
            raise ValueError(f"a re-upload spans at most {MAX_REUPLOAD_DAYS} days")
        return query_attlog_command(start, end)
    if kind == "user":
        if "nip" in request:
            pin, name = roster_user(request["nip"], rostered, agency)
        else:
            pin, name = request["pin"], request["name"]
        return update_user_command(pin, name)
    if kind == "check":
        return CHECK_COMMAND
    return INFO_COMMAND
