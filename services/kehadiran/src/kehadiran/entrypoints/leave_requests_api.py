"""Leave requests: the ASN asks for cuti, sakit or dinas luar; their supervisor (or an admin of
the agency) approves or rejects; an approval excuses the days. The supervisor is told a request
waits, the ASN how it was decided (notifikasi, from the events)."""
from __future__ import annotations

from flask import current_app
from flask.views import MethodView
from flask_smorest import Blueprint
from werkzeug.exceptions import Forbidden

from kehadiran.entrypoints.leave_request_schemas import (DecisionIn, LeaveRequestIn, LeaveRequestOut,
                                                         LeaveRequestQuery, RejectionIn)
from kehadiran.entrypoints.request_review_api import RouteDocs, asker, request_routes
from kehadiran.entrypoints.runtime import agency_tz
from kehadiran.service_layer import leave_requests
from kehadiran.service_layer.access import employee_for
from kinerja.auth import PEOPLE, current_principal, require_auth
from kinerja.webapp import current_runtime

blp = Blueprint("leave_requests", __name__, url_prefix="/api/v1/leave-requests",
                description="Leave requests (cuti, sakit, dinas luar), approved by the supervisor")


def _listed(s, p, nips, agency, args):
    return leave_requests.listed(s, nips=nips, agency=agency, status=args["status"], limit=args["limit"])


# the listing first, so the OpenAPI document keeps GET before POST on the same path
request_routes(blp, leave_requests, name="LeaveRequest", query=LeaveRequestQuery, out=LeaveRequestOut,
               approve_in=DecisionIn, reject_in=RejectionIn, listed=_listed, docs=RouteDocs(
                   listing="Leave requests, newest first: an ASN's (``nip``), else yours (pegawai), your team's and\n"
                           "yours (atasan), your agency's (admin); ``status=pending`` for those waiting.",
                   one="One request: the ASN's own, their supervisor's team, the agency's for an admin.",
                   approve="Approve (the ASN's supervisor, or an admin of the agency): the days are excused and "
                           "recomputed.",
                   reject="Reject with the reason (the ASN's supervisor, or an admin of the agency)."))


@blp.route("")
class LeaveRequests(MethodView):
    @require_auth(*PEOPLE)
    @blp.doc(security=[{"bearer": []}])
    @blp.arguments(LeaveRequestIn)
    @blp.response(201, LeaveRequestOut)
    def post(self, body):
        """Ask for leave, sick leave or official duty over a span of days. Your own only; it waits
        for your supervisor (or an admin of the agency), who is told."""
        p = current_principal()
        nip = asker(p, body["nip"], lambda: Forbidden("a leave request is made by the ASN themselves"))
        rt = current_runtime()
        with rt.session() as s, s.begin():
            emp = employee_for(s, p, nip)
            return leave_requests.ask(s, rt.outbox, emp, kind=body["kind"], start=body["start_date"],
                                      end=body["end_date"], reason=body["reason"], requested_by=p.nip,
                                      agency_tz=agency_tz(rt, emp.agency, s),
                                      max_age_days=current_app.config["KEHADIRAN_CORRECTION_MAX_DAYS"])


@blp.route("/<uuid:request_id>/withdraw")
class LeaveRequestWithdraw(MethodView):
    @require_auth(*PEOPLE)
    @blp.doc(security=[{"bearer": []}])
    @blp.response(200, LeaveRequestOut)
    def post(self, request_id):
        """The ASN takes back their request while it waits."""
        rt = current_runtime()
        with rt.session() as s, s.begin():
            return leave_requests.withdraw(s, rt.outbox, current_principal(), str(request_id))
