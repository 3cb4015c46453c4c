"""BerAKHLAK ratings: the supervisor rates the ASN, the ASN rates themselves, side by side."""
from __future__ import annotations

from zoneinfo import ZoneInfo

from flask.views import MethodView
from flask_smorest import Blueprint

from kinerja.auth import PEOPLE, current_principal, require_auth
from kinerja.webapp import current_runtime
from penilaian.entrypoints.errors import rules_as_http
from penilaian.entrypoints.params import check_nip, period_arg
from penilaian.entrypoints.rating_schemas import DialogIn, DialogsOut, RatingIn, RatingsOut
from penilaian.entrypoints.schemas import PeriodArgs
from penilaian.service_layer.access import READERS, authorize_read, dialog_parties, rater_of
from penilaian.service_layer.commands import record_dialog, record_rating
from penilaian.service_layer.views import dialogs_view, ratings_view

blp = Blueprint("ratings", __name__, url_prefix="/api/v1/ratings", description="BerAKHLAK ratings")


@blp.route("/<nip>")
class Ratings(MethodView):
    @require_auth(*READERS)
    @blp.doc(security=[{"bearer": []}])
    @blp.arguments(PeriodArgs, location="query", error_status_code=400)
    @blp.response(200, RatingsOut)
    def get(self, args, nip):
        """The supervisor's and the ASN's own rating side by side; two levels apart asks for a dialogue."""
        check_nip(nip)
        period = period_arg(args)
        runtime = current_runtime()
        with rules_as_http(), runtime.session() as session:
            authorize_read(session, current_principal(), nip)
            return ratings_view(session, nip, period)

    @require_auth(*PEOPLE)
    @blp.doc(security=[{"bearer": []}])
    @blp.arguments(PeriodArgs, location="query", error_status_code=400)
    @blp.arguments(RatingIn, error_status_code=400)
    @blp.response(200, RatingsOut)
    def put(self, args, body, nip):
        """Rate the seven values for a period: an ASN rates themselves, the direct supervisor rates
        their team member (that rating counts in perilaku kerja); an admin who is the roster's
        supervisor of the ASN rates as their supervisor."""
        check_nip(nip)
        period = period_arg(args)
        principal = current_principal()
        runtime = current_runtime()
        with rules_as_http(), runtime.session() as session, session.begin():
            rater = rater_of(session, principal, nip)
            record_rating(session, runtime.outbox, nip=nip, period=period, rater=rater, rated_by=principal.nip,
                          levels=body["levels"], zone=ZoneInfo(runtime.settings.timezone), agency=principal.agency)
        with runtime.session() as session:
            return ratings_view(session, nip, period)


dlg = Blueprint("dialogs", __name__, url_prefix="/api/v1/dialogs", description="Dialog kinerja")


@dlg.route("/<nip>")
class Dialogs(MethodView):
    @require_auth(*READERS)
    @dlg.doc(security=[{"bearer": []}])
    @dlg.arguments(PeriodArgs, location="query", error_status_code=400)
    @dlg.response(200, DialogsOut)
    def get(self, args, nip):
        """The performance dialogues recorded for the ASN (for a period, if given)."""
        check_nip(nip)
        period = period_arg(args) if args.get("period") else None
        runtime = current_runtime()
        with rules_as_http(), runtime.session() as session:
            authorize_read(session, current_principal(), nip)
            return dialogs_view(session, nip, period)

    @require_auth(*PEOPLE)
    @dlg.doc(security=[{"bearer": []}])
    @dlg.arguments(PeriodArgs, location="query", error_status_code=400)
    @dlg.arguments(DialogIn, error_status_code=400)
    @dlg.response(201, DialogsOut)
    def post(self, args, body, nip):
        """Record a dialog kinerja between the ASN and their direct supervisor (either of the two
        records it): the date, the notes and the follow-up both agreed."""
        check_nip(nip)
        period = period_arg(args)
        principal = current_principal()
        runtime = current_runtime()
        with rules_as_http(), runtime.session() as session, session.begin():
            emp = dialog_parties(session, principal, nip)
            record_dialog(session, runtime.outbox, nip=nip, atasan_nip=emp.atasan_nip, period=period,
                          day=body["date"], notes=body["notes"], follow_up=body["follow_up"],
                          values=body["values"], recorded_by=principal.nip,
                          zone=ZoneInfo(runtime.settings.timezone), agency=emp.agency)
        with runtime.session() as session:
            return dialogs_view(session, nip, period)
