"""Leave (cuti), sick leave (sakit) and official duty (dinas luar) per ASN per day, entered by an
admin or the ASN's supervisor; each excuses the day and recomputes it."""
from __future__ import annotations

from flask.views import MethodView
from flask_smorest import Blueprint
from sqlalchemy import select
from werkzeug.exceptions import UnprocessableEntity

from kehadiran.entrypoints.runtime import agency_tz
from kehadiran.adapters.calendar_orm import Leave
from kehadiran.entrypoints.wt_schemas import CountOut, LeaveCancelIn, LeaveIn, LeaveOut, LeaveQuery
from kehadiran.service_layer.access import employee_for
from kehadiran.service_layer.schedules import month_span
from kehadiran.service_layer.working_time import cancel_leave, set_leave
from kinerja.auth import current_principal, require_auth
from kinerja.webapp import current_runtime

blp = Blueprint("leave", __name__, url_prefix="/api/v1/leave", description="Leave, sick leave, official duty")



@blp.route("")
class LeaveCollection(MethodView):
    @require_auth()
    @blp.doc(security=[{"bearer": []}])
    @blp.arguments(LeaveQuery, location="query")
    @blp.response(200, LeaveOut(many=True))
    def get(self, args):
        """An ASN's excused days in a month."""
        start, end = month_span(args["period"])
        with current_runtime().session() as s:
            employee_for(s, current_principal(), args["nip"])
            return s.execute(select(Leave).where(Leave.nip == args["nip"], Leave.day >= start, Leave.day < end)
                             .order_by(Leave.day)).scalars().all()

    @require_auth("admin", "operator", "atasan")
    @blp.doc(security=[{"bearer": []}])
    @blp.arguments(LeaveIn)
    @blp.response(201, LeaveOut(many=True))
    def post(self, body):
        """Record leave / sick leave / official duty for each day from start_date to end_date."""
        p = current_principal()
        rt = current_runtime()
        try:
            with rt.session() as s, s.begin():
                emp = employee_for(s, p, body["nip"], write=True)
                return set_leave(s, rt.outbox, emp, body["start_date"], body["end_date"], body["kind"], body["note"],
                                 p.nip or p.sub, agency_tz=agency_tz(rt, emp.agency, s))
        except ValueError as exc:
            raise UnprocessableEntity(str(exc)) from None


@blp.route("/cancel")
class LeaveCancel(MethodView):
    @require_auth("admin", "operator", "atasan")
    @blp.doc(security=[{"bearer": []}])
    @blp.arguments(LeaveCancelIn)
    @blp.response(200, CountOut)
    def post(self, body):
        """Withdraw the excused days from start_date to end_date; the days are recomputed."""
        rt = current_runtime()
        try:
            with rt.session() as s, s.begin():
                emp = employee_for(s, current_principal(), body["nip"], write=True)
                return {"count": cancel_leave(s, rt.outbox, emp, body["start_date"], body["end_date"],
                                              agency_tz=agency_tz(rt, emp.agency, s))}
        except ValueError as exc:
            raise UnprocessableEntity(str(exc)) from None
