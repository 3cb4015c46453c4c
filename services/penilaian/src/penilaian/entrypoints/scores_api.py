"""``GET /api/v1/scores/<nip>``: components, total, predikat and the ledger that explains them;
``GET /api/v1/teams/<atasan_nip>/scores``: a supervisor's team at a glance."""
from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from flask import Response
from flask.views import MethodView
from flask_smorest import Blueprint
from sqlalchemy import select
from werkzeug.exceptions import Forbidden, NotFound

from kinerja.auth import Principal, current_principal, require_auth
from kinerja.webapp import current_runtime
from penilaian.adapters.orm import Employee, ScoreRow
from penilaian.entrypoints.params import check_nip, period_arg
from penilaian.entrypoints.schemas import (DistributionArgs, DistributionCurveOut, DocumentArgs, MonthArgs,
                                           PeriodArgs, ScoreHistoryOut, ScoreOut, TeamOut)
from penilaian.service_layer.views import distribution_view, history_view, score_view, team_view

blp = Blueprint("scores", __name__, url_prefix="/api/v1", description="Live scores, ledger and predikat")

READERS = ("pegawai", "atasan", "admin", "operator")


def supervises(principal: Principal, emp: Employee | None) -> bool:
    """The caller is the ASN's direct supervisor on the roster, in the same agency: supervision
    never crosses agencies, whatever the roster says. An admin supervises as an atasan does (roles
    compose: ``Principal.supervises``)."""
    return emp is not None and emp.agency == principal.agency and principal.supervises(emp.atasan_nip)


def authorize_read(session, principal: Principal, nip: str) -> None:
    """pegawai: themselves; atasan: themselves and their direct team; admin: their agency;
    operator: anyone. Unknown NIPs are 404 to those who could otherwise read them."""
    if principal.role == "operator" or (principal.nip == nip and principal.role in ("pegawai", "atasan", "admin")):
        return
    if principal.role == "pegawai":
        raise Forbidden("a pegawai reads only their own scores")
    emp = session.get(Employee, nip)
    if principal.role == "atasan":
        if not supervises(principal, emp):
            raise Forbidden("an atasan reads only their own team (in their own agency)")
        return
    if principal.role == "admin":
        agency = emp.agency if emp is not None else session.execute(select(ScoreRow.agency).where(ScoreRow.nip == nip).limit(1)).scalar()
        if agency is None:
            raise NotFound("no such ASN")
        if agency != principal.agency:
            raise Forbidden("an admin reads only their own agency")
        return
    raise Forbidden("not allowed")


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
        with runtime.session() as session:
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
        with runtime.session() as session:
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
        with runtime.session() as session:
            authorize_read(session, current_principal(), nip)
            if session.get(Employee, nip) is None:
                raise NotFound("no such ASN on the roster")
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
        with runtime.session() as session:
            if principal.role == "atasan" and principal.nip != atasan_nip:
                raise Forbidden("an atasan reads only their own team")
            boss = session.get(Employee, atasan_nip)
            if principal.role == "admin":
                if boss is None:
                    raise NotFound("no such ASN")
                if boss.agency != principal.agency:
                    raise Forbidden("an admin reads only their own agency")
            # the team is the supervisor's agency's ASN only: a roster naming a supervisor of
            # another agency does not put its ASN in this team
            agency = principal.agency if principal.role != "operator" else (boss.agency if boss else None)
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
        principal = current_principal()
        agency = principal.agency if principal.role == "admin" else args.get("agency") or principal.agency
        if principal.role == "admin" and args.get("agency") not in (None, principal.agency):
            raise Forbidden("an admin sees only their own agency")
        runtime = current_runtime()
        with runtime.session() as session:
            return distribution_view(session, agency, period)
