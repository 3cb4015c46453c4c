"""A device as the punch requests need it (its agency and that agency's zone and PIN rule, clock
offset, last contact), read and
touched with hand-written SQL (``raw_sql``): one small SELECT, and an UPDATE at most every
``CONTACT_EVERY`` per device, so one device's concurrent uploads never queue on its row."""
from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone
from typing import NamedTuple

from sqlalchemy.engine import Connection

from kehadiran.adapters.orm import pin_key
from kehadiran.adapters.raw_sql import Raw
from kehadiran.adapters.raw_sql_text import sqlite_datetime

CONTACT_EVERY = timedelta(seconds=5)


class DeviceRow(NamedTuple):
    sn: str
    agency: str
    tz_offset_minutes: int
    last_contact_at: datetime | None
    active: bool  # a released serial is refused
    comm_key_sha256: str | None
    addresses: list | None
    last_address: str | None
    # the agency's settings the ingest needs, in the same statement
    agency_zone: str | None = None  # from the roster; None: the deployment's KINERJA_TIMEZONE
    ignore_pin_zeros: bool = False
    # ``get(..., pin=)``: {that PIN: the NIP it names in the device's agency, or None}
    pin_nips: dict[str, str | None] | None = None


_DEVICE = ("SELECT d.sn, d.agency, d.tz_offset_minutes, d.last_contact_at, d.active, d.comm_key_sha256, d.addresses, "
           "d.last_address, a.timezone, a.ignore_pin_zeros{pin} FROM devices d "
           "LEFT JOIN agency_settings a ON a.agency = d.agency WHERE d.sn = ?")
# the NIP a PIN names, as punch_store.nips_by_pin finds it (the agency's PIN rule; two active ASN
# sharing a PIN: the lower NIP), each branch on its own index
_PIN_NIP = (", CASE WHEN a.ignore_pin_zeros THEN (SELECT e.nip FROM employees e WHERE e.agency = d.agency AND e.active "
            "AND e.pin_key = ? ORDER BY e.nip LIMIT 1) ELSE (SELECT e.nip FROM employees e WHERE e.agency = d.agency "
            "AND e.active AND e.pin = ? ORDER BY e.nip LIMIT 1) END")
GET, GET_WITH_PIN = _DEVICE.format(pin=""), _DEVICE.format(pin=_PIN_NIP)


def get(conn: Connection, sn: str, *, pin: str | None = None) -> DeviceRow | None:
    """The device ``sn``; with ``pin`` (the one person a single-punch request names), that PIN's
    NIP too, in the same statement: a request's round trip less (``pin_nips``)."""
    # before the request's writes: on PostgreSQL outside its transaction, a round trip less
    if pin is None:
        rows = Raw(conn, shared=True).query_first(GET, [sn])
    else:
        rows = Raw(conn, shared=True).query_first(GET_WITH_PIN, [pin_key(pin), pin, sn])
    if not rows:
        return None
    sn, agency, offset, last, active, comm_key, addresses, last_address, zone, zeros, *found = rows[0]
    if isinstance(addresses, str):  # SQLite keeps JSON text
        addresses = json.loads(addresses)
    if isinstance(last, str):  # SQLite keeps UTC text
        last = datetime.fromisoformat(last)
    if last is not None and last.tzinfo is None:
        last = last.replace(tzinfo=timezone.utc)
    return DeviceRow(sn, agency, offset, last, bool(active), comm_key, addresses, last_address, zone, bool(zeros),
                     {pin: found[0]} if pin is not None else None)


def plain_caller(device: DeviceRow, address: str | None, *, binding: bool) -> bool:
    """Nothing for the registry to check or note (``registry.check_caller``): no communication
    key, no registered addresses, no binding, and the address it called from last time."""
    return (not device.comm_key_sha256 and not device.addresses and not binding
            and device.last_address == (address or "")[:45])


def contact_due(device: DeviceRow, now: datetime) -> bool:
    return device.last_contact_at is None or abs(now - device.last_contact_at) >= CONTACT_EVERY


def contact_update(device: DeviceRow, now: datetime, *, attlog_stamp: str | None = None) -> tuple[str, list]:
    """SQLite: ``touch``'s UPDATE as a statement and its parameters, for a punch write that runs it
    in its own transaction (``punch_write_sqlite.Prepared``): a request due a contact is grouped
    with the others waiting for the write lock (``punch_write_group``) instead of taking a turn
    of its own."""
    at = sqlite_datetime(now.astimezone(timezone.utc))
    if attlog_stamp is None:
        return "UPDATE devices SET last_contact_at = ? WHERE sn = ?", [at, device.sn]
    return "UPDATE devices SET last_contact_at = ?, attlog_stamp = ? WHERE sn = ?", [at, attlog_stamp, device.sn]


def touch(conn: Connection, device: DeviceRow, now: datetime, *, attlog_stamp: str | None = None) -> bool:
    """The contact (and the upload stamp the device sent) noted, unless noted less than
    ``CONTACT_EVERY`` ago; True when written. Call it last in the transaction: the row stays
    locked from this UPDATE to the commit."""
    if not contact_due(device, now):
        return False
    raw = Raw(conn)
    if attlog_stamp is None:
        raw.cursor.execute(raw.sql("UPDATE devices SET last_contact_at = ? WHERE sn = ?"), [raw.instant(now), device.sn])
    else:
        raw.cursor.execute(raw.sql("UPDATE devices SET last_contact_at = ?, attlog_stamp = ? WHERE sn = ?"),
                           [raw.instant(now), attlog_stamp, device.sn])
    return True
