"""The holiday and collective-leave calendar, and Ramadan schedules (agency admins)."""
from __future__ import annotations

from datetime import date

from flask.views import MethodView
from flask_smorest import Blueprint
from sqlalchemy import select
from werkzeug.exceptions import UnprocessableEntity

from kehadiran.entrypoints.runtime import agency_tz
from kehadiran.adapters.calendar_orm import Holiday, RamadanSchedule
from kehadiran.entrypoints.wt_schemas import HolidayLoadIn, HolidayLoadOut, HolidayOut, HolidayQuery, RamadanIn, RamadanOut
from kehadiran.service_layer.access import agency_scope
from kehadiran.service_layer.working_time import add_ramadan, load_holidays
from kinerja.auth import current_principal, require_auth
from kinerja.web import unprocessable
from kinerja.webapp import current_runtime

blp = Blueprint("calendar", __name__, url_prefix="/api/v1/calendar", description="Holidays and Ramadan schedules")



@blp.route("/holidays")
class Holidays(MethodView):
    @require_auth()
    @blp.doc(security=[{"bearer": []}])
    @blp.arguments(HolidayQuery, location="query")
    @blp.response(200, HolidayOut(many=True))
    def get(self, args):
        """The agency's holidays and collective leave days of a year."""
        p = current_principal()
        agency = args["agency"] if p.role == "operator" and args["agency"] else p.agency
        with current_runtime().session() as s:
            return s.execute(select(Holiday).where(
                Holiday.agency == agency, Holiday.day >= date(args["year"], 1, 1),
                Holiday.day <= date(args["year"], 12, 31)).order_by(Holiday.day)).scalars().all()

    @require_auth("admin", "operator")
    @blp.doc(security=[{"bearer": []}])
    @blp.arguments(HolidayLoadIn)
    @blp.response(200, HolidayLoadOut)
    def post(self, body):
        """Load holidays from CSV (``date,name[,kind]``); bad lines are reported, good ones kept,
        and days already recorded are recomputed."""
        agency = agency_scope(current_principal(), body["agency"])
        rt = current_runtime()
        with rt.session() as s, s.begin():
            rows, errors = load_holidays(s, rt.outbox, agency, body["csv"], agency_tz=agency_tz(rt, agency, s))
        if not rows and errors:
            raise unprocessable("no valid line in the CSV", detail={"rejected": [{"line": n, "error": e} for n, e in errors]},
                                csv={n: [e] for n, e in errors})
        return {"loaded": len(rows), "rejected": [{"line": n, "error": e} for n, e in errors]}


@blp.route("/ramadan")
class Ramadan(MethodView):
    @require_auth()
    @blp.doc(security=[{"bearer": []}])
    @blp.response(200, RamadanOut(many=True))
    def get(self):
        """Ramadan schedules of the caller's agency."""
        with current_runtime().session() as s:
            return s.execute(select(RamadanSchedule).where(RamadanSchedule.agency == current_principal().agency)
                             .order_by(RamadanSchedule.start_date)).scalars().all()

    @require_auth("admin", "operator")
    @blp.doc(security=[{"bearer": []}])
    @blp.arguments(RamadanIn)
    @blp.response(201, RamadanOut)
    def post(self, body):
        """A schedule in force from start_date to end_date for a unit (or every unit)."""
        agency = agency_scope(current_principal(), body["agency"])
        rt = current_runtime()
        try:
            with rt.session() as s, s.begin():
                return add_ramadan(s, rt.outbox, agency, body["unit"], body["start_date"], body["end_date"],
                                   body["days"], agency_tz=agency_tz(rt, agency, s))
        except ValueError as exc:
            raise UnprocessableEntity(str(exc)) from None
