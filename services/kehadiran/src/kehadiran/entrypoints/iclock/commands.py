"""The command queue on the device's side: ``getrequest`` hands out what waits, ``devicecmd``
brings the results, ``querydata`` the records a ``DATA QUERY`` asked for (push 3.x)."""
from __future__ import annotations

from flask import request

from kehadiran.adapters import adms
from kehadiran.entrypoints.iclock.blueprint import bp, log, log_rejected, serial, text_reply, utcnow
from kehadiran.entrypoints.iclock.callers import caller_device
from kehadiran.entrypoints.runtime import command_retry, upload_policy
from kehadiran.service_layer import device_command_queue, device_records
from kehadiran.service_layer import devices as device_service
from kinerja.webapp import current_runtime


@bp.get("/getrequest")
def getrequest():
    """``GET /iclock/getrequest?SN=..[&INFO=..]``: queued commands, or ``OK``."""
    sn, now = serial(), utcnow()
    info = adms.parse_info(request.args.get("INFO"))
    runtime = current_runtime()
    with runtime.session() as session, session.begin():
        device = caller_device(session, sn)
        device_service.touch(device, now)
        device_service.apply_info(device, info)
        commands = [(c.id, c.command) for c in device_command_queue.take_pending(session, device, now,
                                                                             retry=command_retry(runtime.settings))]
    return text_reply(adms.command_lines(commands))


@bp.post("/devicecmd")
def devicecmd():
    """``POST /iclock/devicecmd?SN=..``: results of commands, ``ID=..&Return=..&CMD=..`` a line."""
    sn, now = serial(), utcnow()
    body = request.get_data(cache=False)
    parsed = adms.parse_devicecmd(body)
    runtime = current_runtime()
    with runtime.session() as session, session.begin():
        device = caller_device(session, sn)
        device_service.touch(device, now)
        _, unknown = device_command_queue.store_results(session, device, parsed.records, now)
        device_service.note_rejected(device, parsed.errors, "devicecmd", now)
    if unknown:
        log.warning("adms: results for unknown commands", extra={"sn": sn, "ids": unknown[:50]})
    log_rejected(sn, "devicecmd", parsed.errors)
    return text_reply("OK")


QUERY_ARGS_MAX = 32  # characters of tablename, type


@bp.post("/querydata")
def querydata():
    """``POST /iclock/querydata?SN=..&type=tabledata&cmdid=..&tablename=..&count=..&packcnt=..&packidx=..``
    (push 3.x): the records a ``DATA QUERY`` command asked for, one a line. Users are kept like the
    operation log's; templates as ``table=BIODATA``'s (where configured); anything else is
    acknowledged. The reply names the table and how many records were received, ``user=2``."""
    sn, now = serial(), utcnow()
    table = (request.args.get("tablename") or "").strip()[:QUERY_ARGS_MAX]
    cmd_id = adms.int_field(request.args.get("cmdid"))
    body = request.get_data(cache=False)
    parsed = adms.parse_querydata(body, request.mimetype_params.get("charset"))
    runtime = current_runtime()
    policy = upload_policy(runtime.settings)
    with runtime.session() as session, session.begin():
        device = caller_device(session, sn)
        device_service.touch(device, now)
        device_records.record_query_users(session, device, parsed.records, now)
        for record in parsed.records:
            if record.table in ("biodata", "fingertmp", "face", "fp"):
                device_records.store_upload(session, device, "template", record.values.get("PIN"),
                                            f"query {record.table}", adms.template_bytes(record.values,
                                                                                       policy.max_bytes), now, policy)
        device_command_queue.note_query_result(session, device, cmd_id if cmd_id and cmd_id > 0 else None,
                                         table or "unknown", len(parsed.records), now)
        device_service.note_rejected(device, parsed.errors, "querydata", now)
    log_rejected(sn, "querydata", parsed.errors)
    name = table if adms.TABLE_RE.match(table) else "tabledata"
    return text_reply(f"{name}={len(parsed.records)}\n")
