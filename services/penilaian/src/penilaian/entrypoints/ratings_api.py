"""BerAKHLAK ratings: the supervisor rates the ASN, the ASN rates themselves, side by side."""
from __future__ import annotations

from zoneinfo import ZoneInfo

from flask import current_app
from flask.views import MethodView
from flask_smorest import Blueprint
from werkzeug.exceptions import Forbidden

from kinerja.auth import current_principal, require_auth
from penilaian.adapters.orm import Employee
from penilaian.entrypoints.schemas import PeriodArgs, RatingIn, RatingsOut
from penilaian.entrypoints.scores_api import READERS, _check_nip, _period, authorize_read
from penilaian.service_layer.scoring import record_rating
from penilaian.service_layer.views import ratings_view

blp = Blueprint("ratings", __name__, url_prefix="/api/v1/ratings", description="BerAKHLAK ratings")


@blp.route("/<nip>")
class Ratings(MethodView):
    @require_auth(*READERS)
    @blp.doc(security=[{"bearer": []}])
    @blp.arguments(PeriodArgs, location="query", error_status_code=400)
    @blp.response(200, RatingsOut)
    def get(self, args, nip):
        """The supervisor's and the ASN's own rating side by side; two levels apart asks for a dialogue."""
        _check_nip(nip)
        period = _period(args)
        runtime = current_app.extensions["kinerja_runtime"]
        with runtime.session() as session:
            authorize_read(session, current_principal(), nip)
            return ratings_view(session, nip, period)

    @require_auth("pegawai", "atasan")
    @blp.doc(security=[{"bearer": []}])
    @blp.arguments(PeriodArgs, location="query", error_status_code=400)
    @blp.arguments(RatingIn, error_status_code=400)
    @blp.response(200, RatingsOut)
    def put(self, args, body, nip):
        """Rate the seven values for a period: an ASN rates themselves, the direct supervisor rates
        their team member (that rating counts in perilaku kerja)."""
        _check_nip(nip)
        period = _period(args)
        principal = current_principal()
        runtime = current_app.extensions["kinerja_runtime"]
        with runtime.session() as session, session.begin():
            if principal.nip == nip:
                rater = "self"
            else:
                emp = session.get(Employee, nip)
                if principal.role != "atasan" or emp is None or emp.atasan_nip != principal.nip:
                    raise Forbidden("only the ASN and their direct supervisor rate them")
                rater = "atasan"
            record_rating(session, runtime.outbox, nip=nip, period=period, rater=rater, rated_by=principal.nip,
                          levels=body["levels"], zone=ZoneInfo(runtime.settings.timezone))
        with runtime.session() as session:
            return ratings_view(session, nip, period)
