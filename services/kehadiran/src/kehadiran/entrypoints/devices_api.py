"""Device registry: operators and agency admins register attendance devices by serial number.

A serial belongs to the agency that registered it: registering it for another agency is refused
(409) until the owner or an operator releases it (``POST /api/v1/devices/<sn>/release``). Every
registration, change, release and refused takeover is in the device's audit log."""
from __future__ import annotations

from flask.views import MethodView
from flask_smorest import Blueprint
from sqlalchemy import select
from werkzeug.exceptions import Conflict, Forbidden, NotFound, UnprocessableEntity

from kehadiran.adapters.orm import Device, DeviceAudit
from kehadiran.entrypoints.schemas import DeviceAuditOut, DeviceIn, DeviceOut
from kehadiran.service_layer import registry
from kinerja.auth import current_principal, require_auth
from kinerja.webapp import current_runtime

blp = Blueprint("devices", __name__, url_prefix="/api/v1/devices", description="Attendance devices")



def owned_device(session, sn: str) -> Device:
    """The device, if the caller's agency owns it (an operator: any); 404 otherwise."""
    device = session.get(Device, sn)
    principal = current_principal()
    if device is None or (principal.role != "operator" and device.agency != principal.agency):
        raise NotFound(f"device {sn} is not registered in your agency")
    return device


@blp.route("")
class Devices(MethodView):
    @require_auth("admin", "operator")
    @blp.doc(security=[{"bearer": []}])
    @blp.response(200, DeviceOut(many=True))
    def get(self):
        """Devices of the caller's agency (all agencies for an operator), released ones included."""
        principal = current_principal()
        with current_runtime().session() as session:
            query = select(Device).where(~Device.sn.startswith(registry.RESERVED_PREFIX)).order_by(Device.sn)
            if principal.role != "operator":
                query = query.where(Device.agency == principal.agency)
            return session.execute(query).scalars().all()

    @require_auth("admin", "operator")
    @blp.doc(security=[{"bearer": []}])
    @blp.arguments(DeviceIn)
    @blp.response(201, DeviceOut)
    def post(self, body):
        """Register a device, or update one of your agency; only registered serial numbers may push
        punches. A serial another agency holds is refused with 409 until it is released."""
        principal = current_principal()
        if principal.role == "admin" and body["agency"] != principal.agency:
            raise Forbidden("an admin registers devices of their own agency only")
        runtime = current_runtime()
        try:
            with runtime.session() as session, session.begin():
                return registry.register(
                    session, sn=body["sn"], agency=body["agency"], tz_offset_minutes=round(body["tz"] * 60),
                    name=body["name"], actor=principal.sub, comm_key=body.get("comm_key"),
                    addresses=body.get("addresses"))
        except registry.TakenByAnotherAgency:
            with runtime.session() as session, session.begin():
                registry.refuse_takeover(session, body["sn"], agency=body["agency"], actor=principal.sub)
            raise Conflict(f"device {body['sn']} is registered to another agency; that agency (or an operator) "
                           "must release it first") from None
        except ValueError as exc:
            raise UnprocessableEntity(str(exc)) from None


@blp.route("/<sn>/release")
class Release(MethodView):
    @require_auth("admin", "operator")
    @blp.doc(security=[{"bearer": []}])
    @blp.response(200, DeviceOut)
    def post(self, sn):
        """Let a device of your agency go: the protocol refuses it from now on, its queued commands
        are cancelled, and another agency may register the serial."""
        principal = current_principal()
        with current_runtime().session() as session, session.begin():
            device = owned_device(session, sn)
            if not device.active:
                raise Conflict(f"device {sn} is released already")
            return registry.release(session, device, actor=principal.sub)


@blp.route("/<sn>/audit")
class Audit(MethodView):
    @require_auth("admin", "operator")
    @blp.doc(security=[{"bearer": []}])
    @blp.response(200, DeviceAuditOut(many=True))
    def get(self, sn):
        """The device's audit log, newest first (an admin: the entries of their own agency)."""
        principal = current_principal()
        with current_runtime().session() as session:
            query = select(DeviceAudit).where(DeviceAudit.device_sn == sn).order_by(DeviceAudit.id.desc()).limit(200)
            if principal.role != "operator":
                query = query.where(DeviceAudit.agency == principal.agency)
            rows = session.execute(query).scalars().all()
            if not rows and principal.role != "operator":
                owned_device(session, sn)  # 404 for a serial that is not theirs
            return rows
