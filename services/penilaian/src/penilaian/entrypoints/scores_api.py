"""``GET /api/v1/scores/<nip>``: components, total, predikat and the ledger that explains them;
``GET /api/v1/teams/<atasan_nip>/scores``: a supervisor's team at a glance."""
from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from flask import Response
from flask.views import MethodView
from flask_smorest import Blueprint

from kinerja.auth import current_principal, require_auth
from kinerja.webapp import current_runtime
from penilaian.entrypoints.errors import rules_as_http
from penilaian.entrypoints.params import check_nip, period_arg
from penilaian.entrypoints.distribution_schemas import DistributionArgs, DistributionCurveOut
from penilaian.entrypoints.schemas import DocumentArgs, MonthArgs, PeriodArgs
from penilaian.entrypoints.score_schemas import ScoreHistoryOut, ScoreOut, TeamOut
from penilaian.service_layer.access import READERS, agency_in_scope, authorize_read, require_on_roster, team_agency
from penilaian.service_layer.views import distribution_view, history_view, score_view, team_view

blp = Blueprint("scores", __name__, url_prefix="/api/v1", description="Live scores, ledger and predikat")

@blp.route("/scores/<nip>")
class Scores(MethodView):
    @require_auth(*READERS)
    @blp.doc(security=[{"bearer": []}])
    @blp.arguments(PeriodArgs, location="query", error_status_code=400)
    @blp.response(200, ScoreOut)
    def get(self, args, nip):
        """One ASN's score for a month, quarter or year, with the ledger of what made it."""
        check_nip(nip)
        period = period_arg(args)
        runtime = current_runtime()
        with rules_as_http(), runtime.session() as session:
            authorize_read(session, current_principal(), nip)
            return score_view(session, nip, period)


@blp.route("/scores/<nip>/history")
class ScoreHistory(MethodView):
    @require_auth(*READERS)
    @blp.doc(security=[{"bearer": []}])
    @blp.arguments(MonthArgs, location="query", error_status_code=400)
    @blp.response(200, ScoreHistoryOut)
    def get(self, args, nip):
        """A month day by day (the dashboard's chart): each day's value of the month's score,
        counting the days and the tasks due up to it."""
        check_nip(nip)
        period = period_arg(args)
        runtime = current_runtime()
        today = datetime.now(ZoneInfo(runtime.settings.timezone)).date()
        with rules_as_http(), runtime.session() as session:
            authorize_read(session, current_principal(), nip)
            return history_view(session, nip, period, today)


@blp.route("/scores/<nip>/document")
class EvaluationDocument(MethodView):
    @require_auth("pegawai", "atasan", "admin")
    @blp.doc(security=[{"bearer": []}], responses={"200": {
        "description": "Dokumen Evaluasi Kinerja Pegawai (PDF, PermenPANRB 6/2022 layout)",
        "content": {"application/pdf": {"schema": {"type": "string", "format": "binary"}}}}})
    @blp.arguments(DocumentArgs, location="query", error_status_code=400)
    @blp.response(200, content_type="application/pdf")
    def get(self, args, nip):
        """The evaluation document the ASN and their appraiser sign at the end of a quarter or a
        year (or a month, where an agency evaluates monthly): identity of both, RHK with indicators, targets and realisation, the appraiser's
        feedback, hasil kerja and perilaku kerja ratings, predikat. For the ASN, their supervisor
        and their agency's admin."""
        from penilaian.adapters.evaluation_pdf import render
        from penilaian.service_layer.evaluation import document_view

        check_nip(nip)
        period = period_arg(args)
        runtime = current_runtime()
        zone = ZoneInfo(runtime.settings.timezone)
        with rules_as_http(), runtime.session() as session:
            authorize_read(session, current_principal(), nip)
            require_on_roster(session, nip)
            content = document_view(session, nip, period, datetime.now(zone).date(), zone)
        pdf = render(content)
        name = f"evaluasi-kinerja-{nip}-{period.name}.pdf"
        return Response(pdf, mimetype="application/pdf", headers={"Content-Disposition": f'attachment; filename="{name}"'})


@blp.route("/teams/<atasan_nip>/scores")
class TeamScores(MethodView):
    @require_auth("atasan", "admin", "operator")
    @blp.doc(security=[{"bearer": []}])
    @blp.arguments(PeriodArgs, location="query", error_status_code=400)
    @blp.response(200, TeamOut)
    def get(self, args, atasan_nip):
        """The scores of a supervisor's direct team (the roster's atasan_nip)."""
        check_nip(atasan_nip)
        period = period_arg(args)
        principal = current_principal()
        runtime = current_runtime()
        with rules_as_http(), runtime.session() as session:
            agency = team_agency(session, principal, atasan_nip)
            return team_view(session, atasan_nip, period, agency=agency)


@blp.route("/distribution")
class Distribution(MethodView):
    @require_auth("admin", "operator")
    @blp.doc(security=[{"bearer": []}])
    @blp.arguments(DistributionArgs, location="query", error_status_code=400)
    @blp.response(200, DistributionCurveOut)
    def get(self, args):
        """The spread of predikat per unit and for the agency (an admin: their own agency), held against
        the spread the organisation's own predikat allows, with the units that break it."""
        period = period_arg(args)
        with rules_as_http():
            agency = agency_in_scope(current_principal(), args.get("agency"))
        runtime = current_runtime()
        with runtime.session() as session:
            return distribution_view(session, agency, period)
