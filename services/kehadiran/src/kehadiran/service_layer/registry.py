"""Who owns a device serial, and whether a request naming it may speak for it.

A serial belongs to the agency that registered it. Another agency (an operator included) cannot
take it over by registering it again: the owner, or an operator, releases it first; a released
device is refused by the protocol and gets no queued commands. Every change is audited.

The device protocol's only credential is the serial itself, so the registration can add two
things a terminal cannot forge as easily: the source networks it may call from (given at
registration, or bound to the address of its first contact when ``address_binding`` is on; a
change of address is audited and logged either way), and the communication key a terminal sends
as ``pushcommkey`` in its handshake. A device with a key must handshake with it, and its other
requests must then come from the address that handshake came from. The caller owns the
transaction; these functions never commit.
"""
from __future__ import annotations

import hashlib
import hmac
import ipaddress
import logging
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any, Iterable

from sqlalchemy import delete, update
from sqlalchemy.orm import Session

from kehadiran.adapters.orm import Device, DeviceAudit, DeviceCommand, DeviceUser
from kinerja.metrics import DEVICE_ADDRESS_CHANGES

log = logging.getLogger(__name__)

# phone check-ins get a device row of their own (``phone-<NIP>``): no one registers such a serial
RESERVED_PREFIX = "phone-"
MAX_ADDRESSES = 16


class TakenByAnotherAgency(Exception):
    """The serial is registered to another agency and was not released."""


class ReservedSerial(ValueError):
    pass


@dataclass(frozen=True)
class Refusal:
    reason: str
    action: str  # the audit entry's action


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


def comm_key_digest(key: str) -> str:
    return hashlib.sha256(key.strip().lower().encode()).hexdigest()


def parse_networks(values: Iterable[str]) -> list[str]:
    """CIDRs (or single addresses) as canonical strings; ValueError names the bad one."""
    out = []
    for value in values:
        try:
            out.append(str(ipaddress.ip_network(value.strip(), strict=False)))
        except ValueError:
            raise ValueError(f"{value[:60]!r} is not an IP address or network") from None
    if len(out) > MAX_ADDRESSES:
        raise ValueError(f"at most {MAX_ADDRESSES} addresses")
    return out


def audit(session: Session, device_sn: str, agency: str, action: str, actor: str,
          detail: dict[str, Any] | None = None, now: datetime | None = None) -> DeviceAudit:
    row = DeviceAudit(device_sn=device_sn, agency=agency, action=action, actor=(actor or "?")[:64],
                      detail=detail, at=now or utcnow())
    session.add(row)
    return row


def _forget_reports(session: Session, device: Device) -> None:
    """What the terminal told the previous owner is not the next owner's to see."""
    device.firmware = device.user_count = device.fp_count = device.log_count = None
    device.info = device.options = device.options_at = device.last_rejected = None
    device.attlog_stamp = device.operlog_stamp = None
    device.keyed_address = device.last_address = device.address_changed_at = None
    session.execute(delete(DeviceUser).where(DeviceUser.device_sn == device.sn))


def register(session: Session, *, sn: str, agency: str, tz_offset_minutes: int, name: str = "", actor: str,
             comm_key: str | None = None, addresses: list[str] | None = None,
             now: datetime | None = None) -> Device:
    """Register ``sn`` for ``agency``, or update it when that agency owns it already. A serial an
    active registration of another agency holds raises TakenByAnotherAgency (and is audited for
    its owner); a released one is taken over afresh."""
    now = now or utcnow()
    if sn.lower().startswith(RESERVED_PREFIX):
        raise ReservedSerial(f"serial numbers starting with {RESERVED_PREFIX!r} are kept for phone check-ins")
    networks = parse_networks(addresses) if addresses is not None else None
    device = session.get(Device, sn)
    if device is not None and device.active and device.agency != agency:
        raise TakenByAnotherAgency(sn)
    if device is None:
        device = Device(sn=sn, agency=agency, tz_offset_minutes=tz_offset_minutes, name=name, registered_at=now,
                        active=True)
        session.add(device)
        action, detail = "registered", {}
    elif not device.active:
        previous = device.agency
        _forget_reports(session, device)
        device.agency, device.active, device.released_at, device.registered_at = agency, True, None, now
        device.tz_offset_minutes, device.name = tz_offset_minutes, name
        device.comm_key_sha256, device.addresses = None, None
        action, detail = "registered", {"released_by_agency": previous}
    else:
        device.tz_offset_minutes, device.name = tz_offset_minutes, name or device.name
        action, detail = "updated", {}
    if comm_key is not None:
        device.comm_key_sha256 = comm_key_digest(comm_key) if comm_key else None
        device.keyed_address = None
        detail["comm_key"] = "set" if comm_key else "removed"
    if networks is not None:
        device.addresses = networks or None
        detail["addresses"] = networks
    audit(session, sn, agency, action, actor, {**detail, "tz_offset_minutes": tz_offset_minutes}, now)
    session.flush()
    return device


def refuse_takeover(session: Session, sn: str, *, agency: str, actor: str, now: datetime | None = None) -> None:
    """Audit, for the owner, another agency's attempt to register its serial."""
    device = session.get(Device, sn)
    if device is not None:
        audit(session, sn, device.agency, "takeover_refused", actor, {"by_agency": agency}, now)


def release(session: Session, device: Device, *, actor: str, now: datetime | None = None) -> Device:
    """The owner (or an operator) lets the serial go: the protocol refuses it from now on, its
    queued commands are cancelled, and another agency may register it."""
    now = now or utcnow()
    session.execute(update(DeviceCommand).where(DeviceCommand.device_sn == device.sn,
                                                DeviceCommand.status.in_(("pending", "sent")))
                    .values(status="cancelled"))
    device.active, device.released_at = False, now
    audit(session, device.sn, device.agency, "released", actor, {}, now)
    session.flush()
    return device


# -- the protocol's side: may this request speak for the serial? -----------------------------------
def _in(address: str, networks: Iterable[str]) -> bool:
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    for network in networks:
        try:
            if ip in ipaddress.ip_network(network, strict=False):
                return True
        except ValueError:
            continue
    return False


def check_caller(session: Session, device: Device, address: str | None, *, binding: bool, handshake: bool = False,
                 comm_key: str | None = None, now: datetime | None = None) -> Refusal | None:
    """None when the request may speak for ``device``; else why not. Notes (and audits) a change of
    the device's source address, binds it on first contact when ``binding`` is on, and checks the
    communication key on a handshake. Writes only when something changed."""
    now = now or utcnow()
    address = (address or "")[:45]
    if device.comm_key_sha256:
        if handshake:
            if not comm_key or not hmac.compare_digest(comm_key_digest(comm_key), device.comm_key_sha256):
                return Refusal("the handshake's communication key (pushcommkey) is missing or wrong",
                               "comm_key_refused")
            if device.keyed_address != address:
                device.keyed_address = address
        elif device.keyed_address is None:
            return Refusal("this device has a communication key: it must handshake first", "comm_key_refused")
        elif address != device.keyed_address:
            return Refusal("not the address this device handshook from with its communication key",
                           "address_refused")
    if device.addresses and not _in(address, device.addresses):
        return Refusal(f"address {address} is not one this device is registered to call from", "address_refused")
    if binding and not device.addresses and address:
        device.addresses = [str(ipaddress.ip_network(address))] if _is_ip(address) else None
        audit(session, device.sn, device.agency, "address_bound", "device", {"address": address}, now)
    if device.last_address != address:
        if device.last_address is not None:
            log.warning("adms: device address changed", extra={"sn": device.sn, "from": device.last_address,
                                                                "to": address})
            DEVICE_ADDRESS_CHANGES.labels("kehadiran").inc()
            audit(session, device.sn, device.agency, "address_changed", "device",
                  {"from": device.last_address, "to": address}, now)
            device.address_changed_at = now
        device.last_address = address
    return None


def _is_ip(address: str) -> bool:
    try:
        ipaddress.ip_address(address)
        return True
    except ValueError:
        return False

