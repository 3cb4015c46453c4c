"""Which registered device a request may speak for: its serial, its source address, its
communication key (``registry.check_caller``); a refusal is a ``403`` with the reason, audited for
the device's owner at most once a minute per address and reason."""
from __future__ import annotations

import os
from datetime import datetime, timedelta, timezone

from flask import Response, current_app, request
from sqlalchemy.orm import Session
from werkzeug.exceptions import Forbidden

from kehadiran.adapters.orm import Device
from kehadiran.entrypoints.iclock.blueprint import bp, log, text_reply, utcnow
from kehadiran.service_layer import registry
from kinerja.metrics import DEVICE_REFUSED
from kinerja.webapp import current_runtime


def address_binding() -> bool:
    """``KEHADIRAN_DEVICE_ADDRESS_BINDING`` (``address_binding`` in settings): on, a device is
    bound to the address of its first contact (off by default: terminals behind DHCP or NAT)."""
    return address_binding_of(current_runtime().settings)


def address_binding_of(settings) -> bool:
    raw = settings.extra.get("device_address_binding", os.environ.get("KEHADIRAN_DEVICE_ADDRESS_BINDING", ""))
    return str(raw).strip().lower() in ("1", "on", "true", "yes")


def caller_device(session: Session, sn: str, *, handshake: bool = False) -> Device:
    """The registered, active device ``sn``, if this request may speak for it (its source
    address, its communication key); 403 with the reason otherwise, audited for its owner."""
    device = session.get(Device, sn)
    if device is None or not device.active:
        log.warning("adms: unknown device refused", extra={"sn": sn, "path": request.path,
                                                           "remote": request.remote_addr})
        raise Forbidden(f"device {sn} is not registered with this server")
    refusal = registry.check_caller(session, device, request.remote_addr, binding=address_binding(),
                                    handshake=handshake, comm_key=request.args.get("pushcommkey"))
    if refusal is not None:
        raise DeviceRefused(device.sn, device.agency, refusal)
    return device


class DeviceRefused(Forbidden):
    """A registered device's request that may not speak for it (address, communication key)."""

    def __init__(self, sn: str, agency: str, refusal: registry.Refusal):
        super().__init__(refusal.reason)
        self.sn, self.agency, self.refusal = sn, agency, refusal


@bp.errorhandler(DeviceRefused)
def _refused(exc: DeviceRefused) -> Response:
    """403, audited in a transaction of its own once the request's has rolled back; one entry per
    address and reason a minute at most (a misplaced terminal retries every few seconds)."""
    address = (request.remote_addr or "")[:45]
    DEVICE_REFUSED.labels("kehadiran", exc.refusal.action).inc()
    log.warning("adms: device request refused", extra={"sn": exc.sn, "remote": address,
                                                        "reason": exc.refusal.reason})
    key = (exc.sn, address, exc.refusal.action)
    now = utcnow()
    audited = current_app.extensions.setdefault("kehadiran_adms_refusals", {})
    if now - audited.get(key, datetime.min.replace(tzinfo=timezone.utc)) >= REFUSAL_AUDIT_EVERY:
        if len(audited) > 10_000:
            audited.clear()
        audited[key] = now
        with current_runtime().session() as session, session.begin():
            registry.audit(session, exc.sn, exc.agency, exc.refusal.action, "device",
                           {"address": address, "reason": exc.refusal.reason}, now)
    return text_reply(f"ERROR: {exc.description}\n", 403)


REFUSAL_AUDIT_EVERY = timedelta(minutes=1)
