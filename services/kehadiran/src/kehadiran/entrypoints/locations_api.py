"""Office locations of units, for geofenced phone check-in."""
from __future__ import annotations

from flask.views import MethodView
from flask_smorest import Blueprint
from werkzeug.exceptions import NotFound

from kehadiran.adapters.calendar_orm import UnitLocation

from kehadiran.entrypoints.wt_schemas import AgencyQuery, LocationIn, LocationOut
from kehadiran.service_layer.access import agency_scope
from kehadiran.service_layer.working_time import set_location
from kinerja.auth import current_principal, require_auth
from kinerja.webapp import current_runtime

blp = Blueprint("locations", __name__, url_prefix="/api/v1/units", description="Office locations for check-in")


@blp.route("/<unit>/location")
class UnitLocationView(MethodView):
    @require_auth()
    @blp.doc(security=[{"bearer": []}])
    @blp.arguments(AgencyQuery, location="query")
    @blp.response(200, LocationOut)
    def get(self, args, unit):
        """Where the unit's office is and the radius a phone checks in within (the caller's agency;
        an operator names one). 404 when none is set: phones of the unit check in anywhere."""
        p = current_principal()
        agency = args["agency"] if p.role == "operator" and args["agency"] else p.agency
        with current_runtime().session() as s:
            row = s.get(UnitLocation, (agency, unit))
            if row is None:
                raise NotFound(f"no office location set for {unit}")
            return row

    @require_auth("admin", "operator")
    @blp.doc(security=[{"bearer": []}])
    @blp.arguments(LocationIn)
    @blp.response(200, LocationOut)
    def put(self, body, unit):
        """Where the unit's office is and how far from it a phone may check in (metres)."""
        agency = agency_scope(current_principal(), body["agency"])
        rt = current_runtime()
        with rt.session() as s, s.begin():
            return set_location(s, agency, unit, body["lat"], body["lon"], body["radius_m"])
