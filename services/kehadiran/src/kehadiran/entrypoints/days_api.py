"""Daily attendance records, and closing days on demand (back-fill, or before a payroll run)."""
from __future__ import annotations

from flask.views import MethodView
from flask_smorest import Blueprint
from sqlalchemy import select
from werkzeug.exceptions import UnprocessableEntity

from kehadiran.adapters.orm import DaySummaryRow
from kehadiran.entrypoints.runtime import agency_tz, day_worker
from kehadiran.entrypoints.wt_schemas import CloseIn, CloseOut, DayOut, DaysQuery
from kehadiran.service_layer.access import agency_scope, employee_for
from kehadiran.service_layer.closing import close_range
from kehadiran.service_layer.schedules import month_span
from kinerja.auth import current_principal, require_auth
from kinerja.webapp import current_runtime

blp = Blueprint("days", __name__, url_prefix="/api/v1/days", description="Daily attendance (TL / PSW / TK)")



@blp.route("")
class Days(MethodView):
    @require_auth()
    @blp.doc(security=[{"bearer": []}])
    @blp.arguments(DaysQuery, location="query")
    @blp.response(200, DayOut(many=True))
    def get(self, args):
        """An ASN's days of a month: arrival, departure, minutes late/early, codes and deductions."""
        start, end = month_span(args["period"])
        with current_runtime().session() as s:
            employee_for(s, current_principal(), args["nip"])
            rows = s.execute(select(DaySummaryRow).where(
                DaySummaryRow.nip == args["nip"], DaySummaryRow.day >= start,
                DaySummaryRow.day < end).order_by(DaySummaryRow.day)).scalars()
            return [{**r.payload, "version": r.version} for r in rows]


@blp.route("/close")
class CloseDays(MethodView):
    @require_auth("admin", "operator")
    @blp.doc(security=[{"bearer": []}])
    @blp.arguments(CloseIn)
    @blp.response(200, CloseOut)
    def post(self, body):
        """Finalise every ASN's workdays in the range now (the consumer also does this daily):
        a workday without any punch becomes TK. Answers the day records published (``count``)
        and what was not closed and why: per reason (before the ASN's TMT, before the roster
        named them, holiday, day off, not over yet) and, for the reasons of one ASN, per ASN."""
        agency = agency_scope(current_principal(), body["agency"])
        if body["end_date"] < body["start_date"] or (body["end_date"] - body["start_date"]).days > 92:
            raise UnprocessableEntity("the range must run forwards and span at most 93 days")
        rt = current_runtime()
        with rt.session() as s:
            zone = agency_tz(rt, agency, s)
        report = close_range(rt.session_factory, day_worker(rt), agency, body["start_date"], body["end_date"],
                             agency_tz=zone)
        return report.as_dict()
