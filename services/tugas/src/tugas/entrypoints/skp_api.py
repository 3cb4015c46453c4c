"""``/api/v1/skp``: an ASN's yearly SKP (RHK, indicators, targets), drafted by the ASN and approved
or returned by their supervisor."""
from __future__ import annotations

from flask.views import MethodView
from flask_smorest import Blueprint

from kinerja.auth import PEOPLE, SUPERVISING_ROLES, require_auth
from kinerja.webapp import current_runtime
from tugas.adapters.orm import SkpRow
from tugas.entrypoints.errors import rules_as_http
from tugas.entrypoints.params import actor
from tugas.entrypoints.skp_schemas import (RhkListIn, SkpApproveIn, SkpIn, SkpOut, SkpPage, SkpQuery, SkpReturnIn,
                                           SkpSubmitIn)
from tugas.service_layer import skp as service
from tugas.service_layer.context import as_utc

blp = Blueprint("skp", __name__, url_prefix="/api/v1/skp", description="SKP plans with their RHK")



def _out(session, row: SkpRow, *, with_revisions: bool = True) -> dict:
    data = {name: getattr(row, name) for name in ("id", "nip", "agency", "year", "status", "atasan_nip", "revision",
                                                  "note", "version")}
    for name in ("approved_at", "created_at", "updated_at"):
        data[name] = as_utc(getattr(row, name))
    data["rhk"] = service.content(service.to_domain(session, row))["rhk"]
    if with_revisions:
        data["revisions"] = [{"revision": r.revision, "approved_by": r.approved_by, "approved_at": as_utc(r.approved_at),
                              "note": r.note, "rhk": r.content["rhk"]} for r in service.revisions(session, row.id)]
    return data


@blp.route("")
class Skps(MethodView):
    @require_auth(*PEOPLE)
    @blp.doc(security=[{"bearer": []}])
    @blp.arguments(SkpQuery, location="query")
    @blp.response(200, SkpPage)
    def get(self, args):
        """SKPs the caller may see (own; an atasan's team; an admin's agency)."""
        with current_runtime().session() as session:
            rows, total = service.list_skps(session, actor(), nip=args.get("nip"), year=args.get("year"),
                                            limit=args["limit"], offset=args["offset"])
            return {"items": [_out(session, r, with_revisions=False) for r in rows], "total": total,
                    "limit": args["limit"], "offset": args["offset"]}

    @require_auth(*PEOPLE)
    @blp.doc(security=[{"bearer": []}])
    @blp.arguments(SkpIn)
    @blp.response(201, SkpOut)
    def post(self, body):
        """The ASN drafts their SKP for a year."""
        runtime = current_runtime()
        with rules_as_http(), runtime.session() as session, session.begin():
            row = service.create_skp(session, actor(), year=body["year"], rhks=body["rhk"])
            return _out(session, row)


@blp.route("/<skp_id>")
class SkpItem(MethodView):
    @require_auth(*PEOPLE)
    @blp.doc(security=[{"bearer": []}])
    @blp.response(200, SkpOut)
    def get(self, skp_id):
        """One SKP with its RHK and approved revisions (a subordinate may read their supervisor's, to cascade)."""
        caller = actor()
        with rules_as_http(), current_runtime().session() as session:
            return _out(session, service.read_skp(session, caller, skp_id))


def _change(skp_id: str, action: str, body: dict) -> dict:
    runtime = current_runtime()
    args = dict(body)
    version = args.pop("version", None)
    if "rhk" in args:
        args["rhks"] = args.pop("rhk")
    with rules_as_http(), runtime.session() as session, session.begin():
        row = service.change_skp(session, runtime.outbox, actor(), skp_id, action, expected_version=version, **args)
        return _out(session, row)


@blp.route("/<skp_id>/rhk")
class SkpRhk(MethodView):
    @require_auth(*PEOPLE)
    @blp.doc(security=[{"bearer": []}])
    @blp.arguments(RhkListIn)
    @blp.response(200, SkpOut)
    def put(self, body, skp_id):
        """The owner replaces the RHK list (keep ``id`` to change one). An approved SKP becomes a new draft revision."""
        return _change(skp_id, "edit", body)


@blp.route("/<skp_id>/submit")
class SubmitSkp(MethodView):
    @require_auth(*PEOPLE)
    @blp.doc(security=[{"bearer": []}])
    @blp.arguments(SkpSubmitIn)
    @blp.response(200, SkpOut)
    def post(self, body, skp_id):
        """The owner submits the draft to their supervisor."""
        return _change(skp_id, "submit", body)


@blp.route("/<skp_id>/approve")
class ApproveSkp(MethodView):
    @require_auth(*SUPERVISING_ROLES)
    @blp.doc(security=[{"bearer": []}])
    @blp.arguments(SkpApproveIn)
    @blp.response(200, SkpOut)
    def post(self, body, skp_id):
        """The owner's supervisor approves: a new revision, published as ``tugas.skp.approved.v1``."""
        return _change(skp_id, "approve", body)


@blp.route("/<skp_id>/return")
class ReturnSkp(MethodView):
    @require_auth(*SUPERVISING_ROLES)
    @blp.doc(security=[{"bearer": []}])
    @blp.arguments(SkpReturnIn)
    @blp.response(200, SkpOut)
    def post(self, body, skp_id):
        """The owner's supervisor returns it with a note."""
        return _change(skp_id, "return", body)
