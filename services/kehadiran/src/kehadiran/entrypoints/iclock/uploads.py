"""``POST /iclock/cdata``: what a device uploads, by ``table``: punches (ATTLOG, the hot path),
the operation log and users (OPERLOG), its options, photos and biometric templates (push 3.x,
kept only where configured); tables we did not ask for are acknowledged and not stored."""
from __future__ import annotations

from contextlib import nullcontext
from datetime import datetime

from flask import Response, request
from sqlalchemy.orm import Session
from werkzeug.exceptions import BadRequest, Forbidden

from kehadiran.adapters import adms, device_store
from kehadiran.adapters.orm import Device
from kehadiran.adapters.punch_transaction import commit_with, pg, punch_connection
from kehadiran.entrypoints.iclock.blueprint import bp, log, log_rejected, serial, text_reply, utcnow
from kehadiran.entrypoints.iclock.callers import address_binding, caller_device
from kehadiran.entrypoints.runtime import upload_policy
from kehadiran.service_layer import device_records
from kehadiran.service_layer import devices as device_service
from kehadiran.service_layer.ingest import DeviceRef, PunchInput, record_punches
from kinerja.webapp import current_runtime

# tables a device may push that we do not ask for (TransFlag): acknowledged so it does not retry forever
IGNORED_TABLES = frozenset({"ERRORLOG", "RTSTATE", "RTLOG"})
# photos and biometric templates (push 3.x): acknowledged, and stored only where configured
UPLOAD_TABLES = frozenset({"ATTPHOTO", "BIODATA", "FP", "FACE", "FINGERTMP"})
TEMPLATE_KINDS = frozenset({"FP", "FACE", "BIODATA"})


@bp.post("/cdata")
def upload():
    """``POST /iclock/cdata?SN=..&table=ATTLOG|OPERLOG|options``."""
    sn, now = serial(), utcnow()
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
        device = caller_device(session, sn)
        if kind == "OPERLOG":
            parsed = adms.parse_operlog(body, request.mimetype_params.get("charset"))
            accepted = device_records.record_operlog(session, device, parsed.records, now)
            policy = upload_policy(runtime.settings)
            for record in parsed.records:
                if record.kind in TEMPLATE_KINDS and policy.templates:
                    device_records.store_upload(session, device, "template", record.values["PIN"], record.kind,
                                                adms.template_bytes(record.values, policy.max_bytes), now, policy)
            device_service.note_rejected(device, parsed.errors, "OPERLOG", now)
            device_service.touch(device, now, stamps={"OPERLOG": adms.stamp_of(request.args, "OPERLOG")})
            log_rejected(sn, "OPERLOG", parsed.errors)
            return text_reply(adms.format_ok(accepted))
        if kind == "OPTIONS":
            options = adms.parse_options(body, request.mimetype_params.get("charset"))
            device_service.store_options(device, options, now)
            device_service.touch(device, now)
            return text_reply("OK")
        device_service.touch(device, now)
    return text_reply("OK")  # a table we did not ask for: acknowledged, not stored


def _photo_or_templates(sn: str, kind: str, body: bytes, now: datetime) -> Response:
    """``table=ATTPHOTO`` (one photo) or ``table=BIODATA`` (templates, one a line): acknowledged
    whatever the configuration (``OK``, ``OK:<n>``), kept only where it says so
    (``KEHADIRAN_DEVICE_PHOTOS`` / ``KEHADIRAN_DEVICE_TEMPLATES``), each bounded in size; a
    malformed one is noted on the device's status like a malformed punch line."""
    runtime = current_runtime()
    policy = upload_policy(runtime.settings)
    with runtime.session() as session, session.begin():
        device = caller_device(session, sn)
        if kind == "ATTPHOTO":
            photo = adms.parse_attphoto(body)
            if isinstance(photo, adms.BadLine):
                device_service.note_rejected(device, [photo], kind, now)
                stored = False
            else:
                stored = device_records.store_upload(session, device, "photo", photo.pin, photo.label, photo.data,
                                                     now, policy)
            device_service.touch(device, now)
            log.debug("adms: photo", extra={"sn": sn, "stored": stored, "bytes": len(body)})
            return text_reply("OK")
        parsed = adms.parse_biodata(body, request.mimetype_params.get("charset"))
        for record in parsed.records:
            device_records.store_upload(session, device, "template", record.values["PIN"],
                                        f"{kind} type={record.values.get('Type', '')[:8]} no={record.values.get('No', '')[:8]}",
                                        adms.template_bytes(record.values, policy.max_bytes), now, policy)
        device_service.note_rejected(device, parsed.errors, kind, now)
        device_service.touch(device, now)
    log_rejected(sn, kind, parsed.errors)
    return text_reply(adms.format_ok(len(parsed.records)))


def _attlog(sn: str, body: bytes, now: datetime) -> Response:
    try:
        reply = store_attlog(current_runtime(), sn, body, now, remote_addr=request.remote_addr,
                             stamp=adms.stamp_of(request.args, "ATTLOG"), binding=address_binding(),
                             registry_check=lambda session: caller_device(session, sn))
    except UnknownDevice:
        log.warning("adms: unknown device refused", extra={"sn": sn, "path": request.path,
                                                           "remote": request.remote_addr})
        raise
    return text_reply(reply)


class UnknownDevice(Forbidden):
    """No registered, active device has this serial."""


class NotPlain(Exception):
    """An upload the lean path leaves to the Flask view (``store_attlog`` without a
    ``registry_check``): malformed lines to note, or a caller the device registry must check.
    Raised before anything is written."""


def store_attlog(runtime, sn: str, body: bytes, now: datetime, *, remote_addr: str | None, stamp: str | None,
                 binding: bool, registry_check=None) -> str:
    """The hot path of a terminal (one line a request when it pushes as it goes): a Core
    connection and hand-written SQL, no ORM object; the device's reply (``OK:<n>``).
    ``registry_check(session)``: the registry's checks of a caller that is not plain (a
    communication key, registered addresses, address binding, a new address); without it such a
    caller, and malformed lines, raise ``NotPlain`` before anything is written."""
    # the lines are read before the transaction: on SQLite it holds the file's one write lock,
    # which every other writer waits for (only the check against the device's clock needs its row)
    pin = adms.single_line_pin(body)
    parsed = adms.parse_attlog(body)
    if parsed.errors and registry_check is None:
        raise NotPlain("malformed lines")
    items = _inputs(parsed.records)
    with punch_connection(runtime.engine) as (conn, transaction):
        device = device_store.get(conn, sn, pin=pin)
        if device is None or not device.active:
            raise UnknownDevice(f"device {sn} is not registered with this server")
        plain = device_store.plain_caller(device, remote_addr, binding=binding)
        if not plain and registry_check is None:
            raise NotPlain("the registry checks this caller")
        checked = adms.drop_ahead(parsed, body, device_service.device_now(device, now))
        if checked is not parsed:  # rare: lines from the device's future
            parsed, items = checked, _inputs(checked.records)
        # PostgreSQL: the punches' write is one statement, committed alone, unless more is written
        touch = device_store.contact_due(device, now)
        alone = plain and not parsed.errors and not touch
        sqlite = not pg(conn)
        # SQLite: a plain upload's contact goes in its punches' transaction, which may then be
        # another request's too (``punch_write_group``), not in a lock turn of its own
        contact = (device_store.contact_update(device, now, attlog_stamp=stamp)
                   if sqlite and touch and plain and not parsed.errors else None)
        # SQLite takes its write lock once the rows are built (``writes``), unless the registry or
        # the malformed lines write first
        if not alone and (not sqlite or not plain or parsed.errors):
            transaction()
        if not plain:
            # the registry's checks, and what they note, as for every other device request
            with Session(bind=conn) as session:
                registry_check(session)
                session.flush()
        # the writes go out with the COMMIT (PostgreSQL: one round trip), unless an ORM flush
        # follows, or alone as one statement
        with commit_with(conn) if not parsed.errors and (not alone or sqlite) else nullcontext():
            result = record_punches(conn, DeviceRef.of(device), items, channel="adms",
                                    agency_tz=runtime.settings.timezone, now=now, pin_nips=device.pin_nips,
                                    writes=transaction if sqlite else _no_writes, alone=alone or contact is not None,
                                    contact=contact)
            if parsed.errors:
                with Session(bind=conn) as session:  # rare: the malformed lines kept on the device for operators
                    device_service.note_rejected(session.get(Device, sn), parsed.errors, "ATTLOG", now)
                    session.flush()
            if not result.contact_written:
                if touch and sqlite:
                    transaction()  # taken already unless every line was stored before
                # the device's row last, and only every few seconds: one device's uploads do not queue on it
                device_store.touch(conn, device, now, attlog_stamp=stamp)
        # the write's answer came with the COMMIT: read it while the connection is still ours
        result.settle()
    log_rejected(sn, "ATTLOG", parsed.errors)
    accepted = result.accepted + result.duplicates + result.quarantined
    # debug: a line of JSON log per upload costs a tenth of a one-line upload (gunicorn's access log has it)
    log.debug("adms: attlog", extra={"sn": sn, "new": result.accepted, "duplicates": result.duplicates,
                                     "quarantined": result.quarantined, "malformed": len(parsed.errors)})
    return adms.format_ok(accepted)


def _no_writes() -> None:
    return None


def _inputs(records: list[adms.AttRecord]) -> list[PunchInput]:
    return [PunchInput(person_key=r.pin, device_time=r.time, status=r.status) for r in records]
