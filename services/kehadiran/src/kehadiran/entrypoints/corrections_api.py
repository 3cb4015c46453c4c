"""Corrections (lupa absen): an ASN asks for a forgotten punch on a past day, their supervisor or
an admin of the agency approves or rejects; an approval becomes punches marked as corrections,
and the day, the recap and the score's ledger say so."""
from __future__ import annotations

from flask import current_app
from flask.views import MethodView
from flask_smorest import Blueprint
from werkzeug.exceptions import Forbidden

from kehadiran.entrypoints.request_review_api import RouteDocs, asker, request_routes
from kehadiran.entrypoints.runtime import agency_tz
from kehadiran.entrypoints.correction_schemas import (ApproveIn, CorrectionIn, CorrectionOut, CorrectionQuery,
                                                      RejectIn)
from kehadiran.service_layer import corrections
from kehadiran.service_layer.access import employee_for
from kehadiran.service_layer.schedules import month_span
from kinerja.auth import current_principal, require_auth
from kinerja.webapp import current_runtime

blp = Blueprint("corrections", __name__, url_prefix="/api/v1/corrections",
                description="Corrections of forgotten punches (lupa absen), approved by the supervisor")


def _listed(s, p, nips, agency, args):
    start, end = month_span(args["period"]) if args["period"] else (None, None)
    return corrections.listed(s, p, nips=nips, agency=agency, status=args["status"], start=start, end=end,
                              limit=args["limit"])


# the listing first, so the OpenAPI document keeps GET before POST on the same path
request_routes(blp, corrections, name="Correction", query=CorrectionQuery, out=CorrectionOut, approve_in=ApproveIn,
               reject_in=RejectIn, listed=_listed, docs=RouteDocs(
                   listing="Corrections, newest first: an ASN's (``nip``), else yours (pegawai), your team's and\n"
                           "yours (atasan), your agency's (admin); ``status=pending`` for those waiting.",
                   one="One correction: the ASN's own, their supervisor's team, the agency's for an admin.",
                   approve="Approve (the ASN's supervisor, or an admin of the agency): the times become punches\n"
                           "marked as corrections and the day is recomputed.",
                   reject="Reject with the reason (the ASN's supervisor, or an admin of the agency)."))


@blp.route("")
class Corrections(MethodView):
    @require_auth("pegawai", "atasan", "admin")
    @blp.doc(security=[{"bearer": []}])
    @blp.arguments(CorrectionIn)
    @blp.response(201, CorrectionOut)
    def post(self, body):
        """Ask for a forgotten punch: the day, the time(s) and the reason. Your own only; it waits
        for your supervisor (or an admin of the agency)."""
        p = current_principal()
        nip = asker(p, body["nip"], lambda: Forbidden("a correction is asked for by the ASN themselves"))
        rt = current_runtime()
        with rt.session() as s, s.begin():
            emp = employee_for(s, p, nip)
            return corrections.ask(s, emp, body["date"], body["punches"], body["reason"], requested_by=p.nip,
                                   agency_tz=agency_tz(rt, emp.agency, s),
                                   max_age_days=current_app.config["KEHADIRAN_CORRECTION_MAX_DAYS"],
                                   outbox=rt.outbox)
