"""A device's contact that carries no records: the handshake (the options it runs with), the
time it asks for (push 3.x), and the ping it sends while it has nothing to upload."""
from __future__ import annotations

from flask import request

from kehadiran.adapters import adms
from kehadiran.entrypoints.iclock.blueprint import bp, serial, text_reply, utcnow
from kehadiran.entrypoints.iclock.callers import caller_device
from kehadiran.service_layer import devices as device_service
from kinerja.webapp import current_runtime


@bp.get("/cdata")
def handshake():
    """``GET /iclock/cdata?SN=..&options=all``: the options the device runs with."""
    sn, now = serial(), utcnow()
    runtime = current_runtime()
    with runtime.session() as session, session.begin():
        device = caller_device(session, sn, handshake=True)
        device_service.touch(device, now)
        reply = adms.options_reply(sn, tz_offset_minutes=device.tz_offset_minutes,
                                   attlog_stamp=device.attlog_stamp, operlog_stamp=device.operlog_stamp)
    return text_reply(reply)


@bp.get("/rtdata")
def rtdata():
    """``GET /iclock/rtdata?SN=..&type=time`` (push 3.x): the time, as the device's wall clock in
    its registered zone (``DateTime=<packed>,ServerTZ=+0700``); other types are acknowledged."""
    sn, now = serial(), utcnow()
    kind = (request.args.get("type") or "").strip().lower()
    runtime = current_runtime()
    with runtime.session() as session, session.begin():
        device = caller_device(session, sn)
        device_service.touch(device, now)
        offset = device.tz_offset_minutes
    if kind != "time":
        return text_reply("OK")
    return text_reply(adms.rtdata_time_reply(device_service.device_now(device, now), offset))


@bp.get("/ping")
def ping():
    sn, now = serial(), utcnow()
    runtime = current_runtime()
    with runtime.session() as session, session.begin():
        device_service.touch(caller_device(session, sn), now)
    return text_reply("OK")
