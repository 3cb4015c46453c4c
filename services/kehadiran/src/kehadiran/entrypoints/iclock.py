"""The ZKTeco ADMS push protocol (``/iclock/...``), so unmodified terminals push to kehadiran.

A plain Flask blueprint (text/plain, no OpenAPI): the device is the client and polls. Public (no
JWT, as ``kinerja.auth.PUBLIC_BLUEPRINTS`` says); a device is known by its registered serial
number, and an unknown one gets ``403`` with the reason while nothing is stored. Every reply
carries a GMT ``Date`` header: the device sets its clock from it.

``OK:<n>`` counts the records accepted: new punches, punches already stored (the device must not
send them again) and punches from a PIN the roster does not know yet (kept in quarantine). Malformed
lines are not counted; they are logged and kept on the device's status for the operator. A batch
of nothing but malformed lines still gets ``200 OK:0``: a 4xx would make the device re-send the
same lines every ``ErrorDelay`` seconds, forever. A non-200 reply (unknown device, oversized body,
a database failure) makes the device re-send the whole batch, which the ingest absorbs (it
deduplicates on device, PIN and device time).

Newer firmware (push protocol 3.x) also asks for the time (``/iclock/rtdata?type=time``), answers
``DATA QUERY`` commands on ``/iclock/querydata``, and pushes photos (``table=ATTPHOTO``) and
biometric templates (``table=BIODATA``, OPERLOG's ``FP``/``FACE``): all acknowledged, the photos
and templates kept only where the deployment says so (off by default), each bounded in size.
"""
from __future__ import annotations

import logging
import os
import re
from datetime import datetime, timedelta, timezone
from email.utils import formatdate

from flask import Blueprint, Response, current_app, request
from sqlalchemy.orm import Session
from werkzeug.exceptions import BadRequest, Forbidden, HTTPException

from kehadiran.adapters import adms, device_store
from kehadiran.adapters.orm import Device
from kehadiran.service_layer import devices as device_service
from kehadiran.service_layer import registry
from kehadiran.entrypoints.runtime import command_retry, upload_policy
from kinerja.metrics import DEVICE_REFUSED
from kinerja.webapp import current_runtime
from kehadiran.service_layer.ingest import DeviceRef, PunchInput, record_punches

log = logging.getLogger(__name__)

bp = Blueprint("iclock", __name__, url_prefix="/iclock")

SN_RE = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
# tables a device may push that we do not ask for (TransFlag): acknowledged so it does not retry forever
IGNORED_TABLES = frozenset({"ERRORLOG", "RTSTATE", "RTLOG"})
# photos and biometric templates (push 3.x): acknowledged, and stored only where configured
UPLOAD_TABLES = frozenset({"ATTPHOTO", "BIODATA", "FP", "FACE", "FINGERTMP"})
TEMPLATE_KINDS = frozenset({"FP", "FACE", "BIODATA"})


def _text(body: str, status: int = 200) -> Response:
    return Response(body, status=status, mimetype="text/plain")


@bp.after_request
def _date_header(response: Response) -> Response:
    # gunicorn always writes its own (correct) Date header: do not send a second one
    if not request.environ.get("SERVER_SOFTWARE", "").startswith("gunicorn"):
        response.headers["Date"] = formatdate(usegmt=True)
    return response


@bp.errorhandler(HTTPException)
def _error(exc: HTTPException) -> Response:
    return _text(f"ERROR: {exc.description}\n", exc.code or 500)



def _sn() -> str:
    sn = (request.args.get("SN") or request.args.get("sn") or "").strip()
    if not SN_RE.match(sn):
        raise BadRequest("SN=<serial number> is required")
    return sn


def _address_binding() -> bool:
    """``KEHADIRAN_DEVICE_ADDRESS_BINDING`` (``address_binding`` in settings): on, a device is
    bound to the address of its first contact (off by default: terminals behind DHCP or NAT)."""
    settings = current_runtime().settings
    raw = settings.extra.get("device_address_binding", os.environ.get("KEHADIRAN_DEVICE_ADDRESS_BINDING", ""))
    return str(raw).strip().lower() in ("1", "on", "true", "yes")


def _device(session: Session, sn: str, *, handshake: bool = False) -> Device:
    """The registered, active device ``sn``, if this request may speak for it (its source
    address, its communication key); 403 with the reason otherwise, audited for its owner."""
    device = session.get(Device, sn)
    if device is None or not device.active:
        log.warning("adms: unknown device refused", extra={"sn": sn, "path": request.path,
                                                           "remote": request.remote_addr})
        raise Forbidden(f"device {sn} is not registered with this server")
    refusal = registry.check_caller(session, device, request.remote_addr, binding=_address_binding(),
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
    now = _now()
    audited = current_app.extensions.setdefault("kehadiran_adms_refusals", {})
    if now - audited.get(key, datetime.min.replace(tzinfo=timezone.utc)) >= REFUSAL_AUDIT_EVERY:
        if len(audited) > 10_000:
            audited.clear()
        audited[key] = now
        with current_runtime().session() as session, session.begin():
            registry.audit(session, exc.sn, exc.agency, exc.refusal.action, "device",
                           {"address": address, "reason": exc.refusal.reason}, now)
    return _text(f"ERROR: {exc.description}\n", 403)


REFUSAL_AUDIT_EVERY = timedelta(minutes=1)


def _now() -> datetime:
    return datetime.now(timezone.utc)


@bp.get("/cdata")
def handshake():
    """``GET /iclock/cdata?SN=..&options=all``: the options the device runs with."""
    sn, now = _sn(), _now()
    runtime = current_runtime()
    with runtime.session() as session, session.begin():
        device = _device(session, sn, handshake=True)
        device_service.touch(device, now)
        reply = adms.options_reply(sn, tz_offset_minutes=device.tz_offset_minutes,
                                   attlog_stamp=device.attlog_stamp, operlog_stamp=device.operlog_stamp)
    return _text(reply)


@bp.post("/cdata")
def upload():
    """``POST /iclock/cdata?SN=..&table=ATTLOG|OPERLOG|options``."""
    sn, now = _sn(), _now()
    table = (request.args.get("table") or "").strip()
    kind = table.upper()
    body = request.get_data(cache=False)  # 413 beyond MAX_CONTENT_LENGTH
    if kind == "ATTLOG":
        return _attlog(sn, body, now)
    if kind in UPLOAD_TABLES:
        return _photo_or_templates(sn, kind, body, now)
    if kind not in ("OPERLOG", "OPTIONS") and kind not in IGNORED_TABLES:
        raise BadRequest(f"unknown table {table[:40]!r}")
    runtime = current_runtime()
    with runtime.session() as session, session.begin():
        device = _device(session, sn)
        if kind == "OPERLOG":
            parsed = adms.parse_operlog(body, request.mimetype_params.get("charset"))
            accepted = device_service.record_operlog(session, device, parsed.records, now)
            policy = upload_policy(runtime.settings)
            for record in parsed.records:
                if record.kind in TEMPLATE_KINDS and policy.templates:
                    device_service.store_upload(session, device, "template", record.values["PIN"], record.kind,
                                                adms.template_bytes(record.values, policy.max_bytes), now, policy)
            device_service.note_rejected(device, parsed.errors, "OPERLOG", now)
            device_service.touch(device, now, stamps={"OPERLOG": adms.stamp_of(request.args, "OPERLOG")})
            _log_rejected(sn, "OPERLOG", parsed.errors)
            return _text(adms.format_ok(accepted))
        if kind == "OPTIONS":
            options = adms.parse_options(body, request.mimetype_params.get("charset"))
            device_service.store_options(device, options, now)
            device_service.touch(device, now)
            return _text("OK")
        device_service.touch(device, now)
    return _text("OK")  # a table we did not ask for: acknowledged, not stored


def _photo_or_templates(sn: str, kind: str, body: bytes, now: datetime) -> Response:
    """``table=ATTPHOTO`` (one photo) or ``table=BIODATA`` (templates, one a line): acknowledged
    whatever the configuration (``OK``, ``OK:<n>``), kept only where it says so
    (``KEHADIRAN_DEVICE_PHOTOS`` / ``KEHADIRAN_DEVICE_TEMPLATES``), each bounded in size; a
    malformed one is noted on the device's status like a malformed punch line."""
    runtime = current_runtime()
    policy = upload_policy(runtime.settings)
    with runtime.session() as session, session.begin():
        device = _device(session, sn)
        if kind == "ATTPHOTO":
            photo = adms.parse_attphoto(body)
            if isinstance(photo, adms.BadLine):
                device_service.note_rejected(device, [photo], kind, now)
                stored = False
            else:
                stored = device_service.store_upload(session, device, "photo", photo.pin, photo.label, photo.data,
                                                     now, policy)
            device_service.touch(device, now)
            log.debug("adms: photo", extra={"sn": sn, "stored": stored, "bytes": len(body)})
            return _text("OK")
        parsed = adms.parse_biodata(body, request.mimetype_params.get("charset"))
        for record in parsed.records:
            device_service.store_upload(session, device, "template", record.values["PIN"],
                                        f"{kind} type={record.values.get('Type', '')[:8]} no={record.values.get('No', '')[:8]}",
                                        adms.template_bytes(record.values, policy.max_bytes), now, policy)
        device_service.note_rejected(device, parsed.errors, kind, now)
        device_service.touch(device, now)
    _log_rejected(sn, kind, parsed.errors)
    return _text(adms.format_ok(len(parsed.records)))


def _attlog(sn: str, body: bytes, now: datetime) -> Response:
    """The hot path of a terminal (one line a request when it pushes as it goes): a Core
    connection and hand-written SQL, no ORM object."""
    runtime = current_runtime()
    with runtime.engine.begin() as conn:
        device = device_store.get(conn, sn)
        if device is None or not device.active:
            log.warning("adms: unknown device refused", extra={"sn": sn, "path": request.path,
                                                               "remote": request.remote_addr})
            raise Forbidden(f"device {sn} is not registered with this server")
        if not device_store.plain_caller(device, request.remote_addr, binding=_address_binding()):
            # a communication key, registered addresses, address binding or a new address: the
            # registry's checks, and what they note, as for every other device request
            with Session(bind=conn) as session:
                _device(session, sn)
                session.flush()
        parsed = adms.parse_attlog(body, now_local=device_service.device_now(device, now))
        items = [PunchInput(person_key=r.pin, device_time=r.time, status=r.status) for r in parsed.records]
        result = record_punches(conn, DeviceRef.of(device), items, channel="adms", agency_tz=runtime.settings.timezone,
                                now=now)
        if parsed.errors:
            with Session(bind=conn) as session:  # rare: the malformed lines kept on the device for operators
                device_service.note_rejected(session.get(Device, sn), parsed.errors, "ATTLOG", now)
                session.flush()
        # the device's row last, and only every few seconds: one device's uploads do not queue on it
        device_store.touch(conn, device, now, attlog_stamp=adms.stamp_of(request.args, "ATTLOG"))
    _log_rejected(sn, "ATTLOG", parsed.errors)
    accepted = result.accepted + result.duplicates + result.quarantined
    # debug: a line of JSON log per upload costs a tenth of a one-line upload (gunicorn's access log has it)
    log.debug("adms: attlog", extra={"sn": sn, "new": result.accepted, "duplicates": result.duplicates,
                                     "quarantined": result.quarantined, "malformed": len(parsed.errors)})
    return _text(adms.format_ok(accepted))


def _log_rejected(sn: str, table: str, errors: list[adms.BadLine]) -> None:
    for err in errors[:50]:
        log.warning("adms: line rejected", extra={"sn": sn, "table": table, **err.as_dict()})


@bp.get("/getrequest")
def getrequest():
    """``GET /iclock/getrequest?SN=..[&INFO=..]``: queued commands, or ``OK``."""
    sn, now = _sn(), _now()
    info = adms.parse_info(request.args.get("INFO"))
    runtime = current_runtime()
    with runtime.session() as session, session.begin():
        device = _device(session, sn)
        device_service.touch(device, now)
        device_service.apply_info(device, info)
        commands = [(c.id, c.command) for c in device_service.take_pending(session, device, now,
                                                                             retry=command_retry(runtime.settings))]
    return _text(adms.command_lines(commands))


@bp.post("/devicecmd")
def devicecmd():
    """``POST /iclock/devicecmd?SN=..``: results of commands, ``ID=..&Return=..&CMD=..`` a line."""
    sn, now = _sn(), _now()
    body = request.get_data(cache=False)
    parsed = adms.parse_devicecmd(body)
    runtime = current_runtime()
    with runtime.session() as session, session.begin():
        device = _device(session, sn)
        device_service.touch(device, now)
        _, unknown = device_service.store_results(session, device, parsed.records, now)
        device_service.note_rejected(device, parsed.errors, "devicecmd", now)
    if unknown:
        log.warning("adms: results for unknown commands", extra={"sn": sn, "ids": unknown[:50]})
    _log_rejected(sn, "devicecmd", parsed.errors)
    return _text("OK")


@bp.get("/rtdata")
def rtdata():
    """``GET /iclock/rtdata?SN=..&type=time`` (push 3.x): the time, as the device's wall clock in
    its registered zone (``DateTime=<packed>,ServerTZ=+0700``); other types are acknowledged."""
    sn, now = _sn(), _now()
    kind = (request.args.get("type") or "").strip().lower()
    runtime = current_runtime()
    with runtime.session() as session, session.begin():
        device = _device(session, sn)
        device_service.touch(device, now)
        offset = device.tz_offset_minutes
    if kind != "time":
        return _text("OK")
    return _text(adms.rtdata_time_reply(device_service.device_now(device, now), offset))


QUERY_ARGS_MAX = 32  # characters of tablename, type


@bp.post("/querydata")
def querydata():
    """``POST /iclock/querydata?SN=..&type=tabledata&cmdid=..&tablename=..&count=..&packcnt=..&packidx=..``
    (push 3.x): the records a ``DATA QUERY`` command asked for, one a line. Users are kept like the
    operation log's; templates as ``table=BIODATA``'s (where configured); anything else is
    acknowledged. The reply names the table and how many records were received, ``user=2``."""
    sn, now = _sn(), _now()
    table = (request.args.get("tablename") or "").strip()[:QUERY_ARGS_MAX]
    cmd_id = adms.int_field(request.args.get("cmdid"))
    body = request.get_data(cache=False)
    parsed = adms.parse_querydata(body, request.mimetype_params.get("charset"))
    runtime = current_runtime()
    policy = upload_policy(runtime.settings)
    with runtime.session() as session, session.begin():
        device = _device(session, sn)
        device_service.touch(device, now)
        device_service.record_query_users(session, device, parsed.records, now)
        for record in parsed.records:
            if record.table in ("biodata", "fingertmp", "face", "fp"):
                device_service.store_upload(session, device, "template", record.values.get("PIN"),
                                            f"query {record.table}", adms.template_bytes(record.values,
                                                                                       policy.max_bytes), now, policy)
        device_service.note_query_result(session, device, cmd_id if cmd_id and cmd_id > 0 else None,
                                         table or "unknown", len(parsed.records), now)
        device_service.note_rejected(device, parsed.errors, "querydata", now)
    _log_rejected(sn, "querydata", parsed.errors)
    name = table if adms.TABLE_RE.match(table) else "tabledata"
    return _text(f"{name}={len(parsed.records)}\n")


@bp.get("/ping")
def ping():
    sn, now = _sn(), _now()
    runtime = current_runtime()
    with runtime.session() as session, session.begin():
        device_service.touch(_device(session, sn), now)
    return _text("OK")
