"""Device registry: operators and agency admins register attendance devices by serial number."""
from __future__ import annotations

from flask import current_app
from flask.views import MethodView
from flask_smorest import Blueprint
from sqlalchemy import select
from werkzeug.exceptions import Forbidden

from kehadiran.adapters.orm import Device
from kehadiran.entrypoints.schemas import DeviceIn, DeviceOut
from kehadiran.service_layer.attendance import register_device
from kinerja.auth import current_principal, require_auth

blp = Blueprint("devices", __name__, url_prefix="/api/v1/devices", description="Attendance devices")


@blp.route("")
class Devices(MethodView):
    @require_auth("admin", "operator")
    @blp.doc(security=[{"bearer": []}])
    @blp.response(200, DeviceOut(many=True))
    def get(self):
        """Devices of the caller's agency (all agencies for an operator)."""
        principal = current_principal()
        runtime = current_app.extensions["kinerja_runtime"]
        with runtime.session() as session:
            query = select(Device).order_by(Device.sn)
            if principal.role != "operator":
                query = query.where(Device.agency == principal.agency)
            return session.execute(query).scalars().all()

    @require_auth("admin", "operator")
    @blp.doc(security=[{"bearer": []}])
    @blp.arguments(DeviceIn)
    @blp.response(201, DeviceOut)
    def post(self, body):
        """Register (or update) a device; only registered serial numbers may push punches."""
        principal = current_principal()
        if principal.role == "admin" and body["agency"] != principal.agency:
            raise Forbidden("an admin registers devices of their own agency only")
        runtime = current_app.extensions["kinerja_runtime"]
        with runtime.session() as session, session.begin():
            device = register_device(session, sn=body["sn"], agency=body["agency"],
                                     tz_offset_minutes=round(body["tz"] * 60), name=body["name"])
        return device
