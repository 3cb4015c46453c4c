"""``/api/v1/innovations``: innovation proposals, approved or rejected by the supervisor."""
from __future__ import annotations

from flask.views import MethodView
from flask_smorest import Blueprint

from kinerja.auth import PEOPLE, SUPERVISING_ROLES, require_auth
from kinerja.webapp import current_runtime
from tugas.entrypoints.errors import rules_as_http
from tugas.entrypoints.params import actor
from tugas.entrypoints.innovation_schemas import (InnovationApproveIn, InnovationIn, InnovationOut, InnovationPage,
                                                  InnovationQuery, InnovationRejectIn)
from tugas.service_layer import innovation as service

blp = Blueprint("innovations", __name__, url_prefix="/api/v1/innovations", description="Innovation proposals (inovasi)")



@blp.route("")
class Innovations(MethodView):
    @require_auth(*PEOPLE)
    @blp.doc(security=[{"bearer": []}])
    @blp.arguments(InnovationQuery, location="query")
    @blp.response(200, InnovationPage)
    def get(self, args):
        """Proposals the caller may see (own; an atasan's team; an admin's agency)."""
        with current_runtime().session() as session:
            rows, total = service.list_innovations(session, actor(), nip=args.get("nip"), status=args.get("status"),
                                                   limit=args["limit"], offset=args["offset"])
            return {"items": [service.as_dict(r) for r in rows], "total": total, "limit": args["limit"],
                    "offset": args["offset"]}

    @require_auth(*PEOPLE)
    @blp.doc(security=[{"bearer": []}])
    @blp.arguments(InnovationIn)
    @blp.response(201, InnovationOut)
    def post(self, body):
        """The ASN proposes an innovation with a description and evidence links."""
        runtime = current_runtime()
        with rules_as_http(), runtime.session() as session, session.begin():
            return service.as_dict(service.propose(session, actor(), title=body["title"],
                                                   description=body["description"], links=body["links"],
                                                   outbox=runtime.outbox))


@blp.route("/<innovation_id>")
class InnovationItem(MethodView):
    @require_auth(*PEOPLE)
    @blp.doc(security=[{"bearer": []}])
    @blp.response(200, InnovationOut)
    def get(self, innovation_id):
        caller = actor()
        with rules_as_http(), current_runtime().session() as session:
            return service.as_dict(service.read_innovation(session, caller, innovation_id))


def _decide(innovation_id: str, action: str, body: dict) -> dict:
    runtime = current_runtime()
    with rules_as_http(), runtime.session() as session, session.begin():
        return service.as_dict(service.decide(session, runtime.outbox, actor(), innovation_id, action,
                                              note=body.get("note")))


@blp.route("/<innovation_id>/approve")
class ApproveInnovation(MethodView):
    @require_auth(*SUPERVISING_ROLES)
    @blp.doc(security=[{"bearer": []}])
    @blp.arguments(InnovationApproveIn)
    @blp.response(200, InnovationOut)
    def post(self, body, innovation_id):
        """The proposer's supervisor approves: ``tugas.innovation.approved.v1``."""
        return _decide(innovation_id, "approve", body)


@blp.route("/<innovation_id>/reject")
class RejectInnovation(MethodView):
    @require_auth(*SUPERVISING_ROLES)
    @blp.doc(security=[{"bearer": []}])
    @blp.arguments(InnovationRejectIn)
    @blp.response(200, InnovationOut)
    def post(self, body, innovation_id):
        """The proposer's supervisor rejects it with a note."""
        return _decide(innovation_id, "reject", body)
