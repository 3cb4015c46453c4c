"""Per-unit week schedules (admins) and per-ASN shifts (admins, or supervisors for their team)."""
from __future__ import annotations

from flask.views import MethodView
from flask_smorest import Blueprint
from werkzeug.exceptions import UnprocessableEntity

from sqlalchemy import select

from kehadiran.entrypoints.runtime import agency_tz
from kehadiran.adapters.calendar_orm import Shift, UnitSchedule
from kehadiran.domain.schedule import DEFAULT_WEEK
from kehadiran.entrypoints.wt_schemas import (CountOut, ShiftBatch, ShiftOut, ShiftQuery, UnitScheduleIn,
                                              UnitScheduleOut)
from kehadiran.service_layer.schedules import month_span
from kehadiran.service_layer.access import agency_scope, employee_for
from kehadiran.service_layer.working_time import assign_shifts, set_unit_schedule
from kinerja.auth import current_principal, require_auth
from kinerja.webapp import current_runtime

blp = Blueprint("schedules", __name__, url_prefix="/api/v1", description="Working-time schedules and shifts")



def _default_hours() -> dict:
    return {str(k): [h.start.strftime("%H:%M"), h.end.strftime("%H:%M")] for k, h in DEFAULT_WEEK.hours.items()}


@blp.route("/schedules/units/<unit>")
class UnitSchedules(MethodView):
    @require_auth()
    @blp.doc(security=[{"bearer": []}])
    @blp.response(200, UnitScheduleOut)
    def get(self, unit):
        """A unit's week (the default Perpres 21/2023 week when none is set), as ``days`` in the shape
        PUT takes (mon…sun → {start, end}, null for a day off)."""
        p = current_principal()
        with current_runtime().session() as s:
            row = s.get(UnitSchedule, (p.agency, unit))
            return row or {"agency": p.agency, "unit": unit, "hours": _default_hours()}

    @require_auth("admin", "operator")
    @blp.doc(security=[{"bearer": []}])
    @blp.arguments(UnitScheduleIn)
    @blp.response(200, UnitScheduleOut)
    def put(self, body, unit):
        """Set a unit's week, e.g. ``{"days": {"mon": {"start": "07:00", "end": "15:30"}, ...}}``;
        a weekday left out is a day off."""
        agency = agency_scope(current_principal(), body["agency"])
        rt = current_runtime()
        try:
            with rt.session() as s, s.begin():
                return set_unit_schedule(s, rt.outbox, agency, unit, body["days"], agency_tz=agency_tz(rt, agency, s),
                                         recompute_from=body["recompute_from"])
        except ValueError as exc:
            raise UnprocessableEntity(str(exc)) from None


@blp.route("/shifts")
class Shifts(MethodView):
    @require_auth()
    @blp.doc(security=[{"bearer": []}])
    @blp.arguments(ShiftQuery, location="query")
    @blp.response(200, ShiftOut(many=True))
    def get(self, args):
        """An ASN's shifts in a month, as they were assigned: the ASN's own, a supervisor's team's,
        an admin's agency's."""
        start, end = month_span(args["period"])
        with current_runtime().session() as s:
            employee_for(s, current_principal(), args["nip"])
            return s.execute(select(Shift).where(Shift.nip == args["nip"], Shift.day >= start, Shift.day < end)
                             .order_by(Shift.day)).scalars().all()

    @require_auth("admin", "operator", "atasan")
    @blp.doc(security=[{"bearer": []}])
    @blp.arguments(ShiftBatch)
    @blp.response(200, CountOut)
    def post(self, body):
        """Assign shifts (night shifts may end the next day: start 22:00, end 07:00); a shift
        without hours is an assigned day off. A supervisor assigns their own team only."""
        p = current_principal()
        rt = current_runtime()
        with rt.session() as s, s.begin():
            agencies = set()
            for item in body["shifts"]:
                agencies.add(employee_for(s, p, item["nip"], write=True).agency)
            # "today" (what is marked for recomputing) in the agency's zone; an operator's batch
            # across agencies in the deployment's
            zone = agency_tz(rt, agencies.pop(), s) if len(agencies) == 1 else rt.settings.timezone
            count = assign_shifts(s, rt.outbox, body["shifts"], agency_tz=zone)
        return {"count": count}


