"""The operator side of ADMS devices: each device's status and its command queue.

Operators see every device; an agency admin sees the devices of their own agency. Typed commands
(re-upload a period, push a user's PIN and name, or an ASN's from the roster by NIP, CHECK, INFO) are open to both; a raw protocol
command (``{"command": "..."}``, which can also be ``CLEAR DATA``) only to operators.
"""
from __future__ import annotations

from flask.views import MethodView
from flask_smorest import Blueprint
from marshmallow import Schema, ValidationError, fields, validate, validates_schema
from sqlalchemy import select
from werkzeug.exceptions import UnprocessableEntity

from kehadiran.entrypoints.runtime import agency_tz
from kehadiran.adapters.orm import Device
from kehadiran.domain.device_commands import KINDS, MAX_COMMAND_LENGTH, MAX_DEVICE_NAME
from kehadiran.service_layer import device_command_queue
from kehadiran.service_layer import devices as device_service
from kehadiran.service_layer.access import managed_device
from kinerja.auth import current_principal, require_auth
from kinerja.events.common import NIP_PATTERN
from kinerja.fields import Agency, Text, WindowDateTime
from kinerja.webapp import current_runtime

blp = Blueprint("device_ops", __name__, url_prefix="/api/v1/devices",
                description="ADMS device status and command queue")


class CommandIn(Schema):
    command = Text(MAX_COMMAND_LENGTH, 1, metadata={"description": "a raw ADMS command (operators only)"})
    kind = fields.String(validate=validate.OneOf(KINDS),
                         metadata={"description": "reupload (start, end), user (pin, name), check, info"})
    start = WindowDateTime(metadata={"description": "reupload: from (device local time if no offset)"})
    end = WindowDateTime(metadata={"description": "reupload: until"})
    pin = fields.String(validate=validate.Regexp(r"^[A-Za-z0-9]{1,20}$"))
    name = Text(MAX_DEVICE_NAME)
    nip = fields.String(validate=validate.Regexp(NIP_PATTERN),
                        metadata={"description": "user: take PIN and name from the roster"})

    @validates_schema
    def one_way(self, data, **_):
        if ("command" in data) == ("kind" in data):
            raise ValidationError("give exactly one of command or kind", "kind")
        kind = data.get("kind")
        if kind == "reupload":
            missing = [k for k in ("start", "end") if k not in data]
            if missing:
                raise ValidationError("reupload needs start and end", missing[0])
        if kind == "user" and "nip" not in data:
            missing = [k for k in ("pin", "name") if k not in data]
            if missing:
                raise ValidationError("user needs nip, or pin and name", missing[0])


class CommandOut(Schema):
    id = fields.Integer()
    device_sn = fields.String()
    command = fields.String()
    status = fields.String(metadata={"description": "pending, sent, done, failed or cancelled"})
    attempts = fields.Integer(metadata={"description": "times handed out; a reply that never came makes it go "
                                                       "out again, up to KEHADIRAN_COMMAND_ATTEMPTS, then failed"})
    created_by = fields.String()
    created_at = fields.DateTime()
    sent_at = fields.DateTime(allow_none=True)
    result_at = fields.DateTime(allow_none=True)
    return_code = fields.Integer(allow_none=True)
    result = fields.Dict(keys=fields.String(), values=fields.String(), allow_none=True,
                         metadata={"description": "the key=value pairs the device answered with; query_<table>: the "
                                                  "records a DATA QUERY answer brought (push 3.x)"})


class DeviceInfoOut(Schema):
    raw = fields.String(allow_none=True, metadata={"description": "the INFO line as sent"})
    ip = fields.String(allow_none=True)


class RejectedLineOut(Schema):
    line = fields.Integer(metadata={"description": "1-based line of the upload"})
    text = fields.String(metadata={"description": "the line as sent (first 200 characters)"})
    reason = fields.String()
    table = fields.String(metadata={"description": "ATTLOG or OPERLOG"})
    at = fields.String(metadata={"description": "when it came"})


class CommandCounts(Schema):
    pending = fields.Integer()
    sent = fields.Integer()
    done = fields.Integer()
    failed = fields.Integer()
    cancelled = fields.Integer(metadata={"description": "pending or sent when the device was released"})


class DeviceStatusOut(Schema):
    sn = fields.String()
    agency = fields.String()
    name = fields.String()
    tz_offset_minutes = fields.Integer()
    registered_at = fields.DateTime()
    last_contact_at = fields.DateTime(allow_none=True)
    online = fields.Boolean(metadata={"description": "in contact within the last 5 minutes"})
    date = fields.Date(metadata={"description": "today, in the agency's timezone"})
    records_today = fields.Integer(metadata={"description": "punches stored from this device timed today"})
    received_today = fields.Integer(metadata={"description": "punches stored from this device received today"})
    quarantined = fields.Integer(metadata={"description": "punches whose PIN the roster does not know yet"})
    firmware = fields.String(allow_none=True)
    user_count = fields.Integer(allow_none=True)
    fp_count = fields.Integer(allow_none=True)
    log_count = fields.Integer(allow_none=True)
    info = fields.Nested(DeviceInfoOut, allow_none=True, metadata={"description": "the last INFO the device sent"})
    options = fields.Dict(keys=fields.String(), values=fields.String(), allow_none=True,
                          metadata={"description": "the device's options as it reported them (name → value)"})
    options_at = fields.DateTime(allow_none=True)
    attlog_stamp = fields.String(allow_none=True)
    operlog_stamp = fields.String(allow_none=True)
    users_reported = fields.Integer()
    commands = fields.Nested(CommandCounts)
    last_rejected = fields.List(fields.Nested(RejectedLineOut), metadata={
        "description": "the latest malformed lines the device uploaded, newest first"})
    active = fields.Boolean(metadata={"description": "false: released; the protocol refuses it"})
    released_at = fields.DateTime(allow_none=True)
    comm_key_set = fields.Boolean()
    addresses = fields.List(fields.String(), allow_none=True,
                            metadata={"description": "networks the device may call from; null: any"})
    last_address = fields.String(allow_none=True, metadata={"description": "where its latest request came from"})
    address_changed_at = fields.DateTime(allow_none=True)


class DeviceSummaryOut(DeviceStatusOut):
    class Meta:
        fields = ("sn", "agency", "name", "last_contact_at", "online", "records_today", "received_today",
                  "quarantined", "firmware", "user_count", "fp_count", "log_count", "commands", "active",
                  "last_address", "address_changed_at")


class CommandQuery(Schema):
    limit = fields.Integer(load_default=100, validate=validate.Range(1, 1000))
    status = fields.String(validate=validate.OneOf(("pending", "sent", "done", "failed", "cancelled")),
                           metadata={"description": "only the commands in this state (failed: the operator's to "
                                                    "look at)"})



class FleetQuery(Schema):
    agency = Agency(metadata={"description": "operators: one agency only"})


@blp.route("/status")
class FleetStatus(MethodView):
    @require_auth("admin", "operator")
    @blp.doc(security=[{"bearer": []}])
    @blp.arguments(FleetQuery, location="query")
    @blp.response(200, DeviceSummaryOut(many=True))
    def get(self, query):
        """Every device of the caller's agency (an operator: every agency) at a glance."""
        principal = current_principal()
        agency = principal.agency if principal.role != "operator" else query.get("agency")
        runtime = current_runtime()
        with runtime.session() as session:
            stmt = select(Device).order_by(Device.agency, Device.sn)
            if agency:
                stmt = stmt.where(Device.agency == agency)
            return [device_service.device_status(session, d, agency_tz=agency_tz(runtime, d.agency, session))
                    for d in session.execute(stmt).scalars().all()]


@blp.route("/<sn>/status")
class DeviceStatus(MethodView):
    @require_auth("admin", "operator")
    @blp.doc(security=[{"bearer": []}])
    @blp.response(200, DeviceStatusOut)
    def get(self, sn):
        """Last contact, records today, firmware and counts from INFO, options, command counts."""
        runtime = current_runtime()
        with runtime.session() as session:
            device = managed_device(session, current_principal(), sn)
            zone = agency_tz(runtime, device.agency, session)
            return device_service.device_status(session, device, agency_tz=zone)


@blp.route("/<sn>/commands")
class DeviceCommands(MethodView):
    @require_auth("admin", "operator")
    @blp.doc(security=[{"bearer": []}])
    @blp.arguments(CommandQuery, location="query")
    @blp.response(200, CommandOut(many=True))
    def get(self, query, sn):
        """The device's commands, newest first, with the results the device reported."""
        runtime = current_runtime()
        with runtime.session() as session:
            return device_command_queue.list_commands(session, managed_device(session, current_principal(), sn),
                                                      limit=query["limit"], status=query.get("status"))

    @require_auth("admin", "operator")
    @blp.doc(security=[{"bearer": []}])
    @blp.arguments(CommandIn)
    @blp.response(201, CommandOut)
    def post(self, body, sn):
        """Queue a command; the device fetches it on its next getrequest."""
        principal = current_principal()
        runtime = current_runtime()
        with runtime.session() as session, session.begin():
            device = managed_device(session, principal, sn)
            try:
                return device_command_queue.queue(session, device, body, principal)
            except ValueError as exc:
                raise UnprocessableEntity(str(exc)) from None
