"""``GET /api/v1/punches``: the punches recorded for an ASN on a day, as they were recorded (a
phone's own punches read back; writing them is ``punches_api``)."""
from __future__ import annotations

from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from flask.views import MethodView
from flask_smorest import Blueprint
from marshmallow import Schema, fields, validate
from sqlalchemy import select

from kehadiran.adapters.orm import PunchRow
from kehadiran.entrypoints.runtime import agency_tz
from kehadiran.service_layer.access import employee_for
from kinerja.auth import current_principal, require_auth
from kinerja.events.common import NIP_PATTERN
from kinerja.fields import Instant, WindowDate
from kinerja.webapp import current_runtime

blp = Blueprint("punch_reads", __name__, url_prefix="/api/v1/punches", description="Punches from phones and devices")


class PunchQuery(Schema):
    nip = fields.String(load_default=None, validate=validate.Regexp(NIP_PATTERN, error="NIP must be 18 digits"),
                        metadata={"description": "whose (default: the caller's own)"})
    date = WindowDate(required=True, metadata={"description": "the day, in the agency's timezone"})


class PunchOut(Schema):
    id = fields.String()
    time = Instant(metadata={"description": "the instant counted (a phone's: when it arrived)"})
    device_time = fields.String(metadata={"description": "the device's (or phone's) own clock, local"})
    device_sn = fields.String(metadata={"description": "phone-<NIP> for a phone, koreksi:<id> for a correction"})
    status = fields.String(allow_none=True, metadata={"description": "in / out, if the device said"})
    channel = fields.String(metadata={"description": "json or adms"})
    correction_id = fields.String(allow_none=True, metadata={"description": "the approved correction it stands for"})
    received_at = Instant()


@blp.route("")
class PunchReads(MethodView):
    @require_auth("pegawai", "atasan", "admin", "operator")
    @blp.doc(security=[{"bearer": []}])
    @blp.arguments(PunchQuery, location="query")
    @blp.response(200, PunchOut(many=True))
    def get(self, args):
        """An ASN's punches of a day, oldest first: one's own, a supervisor's team's, an admin's agency's."""
        p = current_principal()
        nip = args["nip"] or p.nip
        rt = current_runtime()
        with rt.session() as s:
            emp = employee_for(s, p, nip or "")
            # the day in the ASN's agency's own zone
            start = datetime.combine(args["date"], time(), tzinfo=ZoneInfo(agency_tz(rt, emp.agency, s)))
            rows = s.execute(select(PunchRow).where(PunchRow.nip == nip, PunchRow.time >= start,
                                                    PunchRow.time < start + timedelta(days=1))
                             .order_by(PunchRow.time, PunchRow.id)).scalars().all()
            return [{"id": r.id, "time": r.time, "device_time": r.device_time.isoformat(), "device_sn": r.device_sn,
                     "status": r.status, "channel": r.channel, "correction_id": r.correction_id,
                     "received_at": r.received_at} for r in rows]
