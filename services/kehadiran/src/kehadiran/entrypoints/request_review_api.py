"""What the leave request and correction endpoints share: who asks, and the routes a request has
once asked: the listing (whose requests, by the caller's role), ``GET /<id>`` (for whoever may see
it), ``POST /<id>/approve`` and ``POST /<id>/reject`` (its ASN's supervisor or an admin of the
agency). Each blueprint keeps its asking, its schemas and its words."""
from __future__ import annotations

from dataclasses import dataclass
from types import ModuleType
from typing import Any, Callable, Mapping

from flask.views import MethodView
from flask_smorest import Blueprint
from marshmallow import Schema
from sqlalchemy.orm import Session
from werkzeug.exceptions import Forbidden

from kehadiran.entrypoints.runtime import agency_tz
from kehadiran.service_layer.access import agency_scope, employee_for
from kehadiran.service_layer.request_review import team_of
from kinerja.auth import PEOPLE, SUPERVISING_ROLES, Principal, current_principal, require_auth
from kinerja.webapp import current_runtime

READERS = (*PEOPLE, "operator")


def asker(p: Principal, nip: str | None, refusal: Callable[[], Forbidden]) -> str:
    """The NIP a request is asked for: the caller's own (``nip`` left out or the same); anyone
    else's is ``refusal``: an ASN asks for themselves."""
    nip = nip or p.nip
    if not p.nip or nip != p.nip:
        raise refusal()
    return nip


def listing_scope(s: Session, p: Principal, args: Mapping[str, Any]) -> tuple[list[str] | None, str]:
    """The NIPs (None: the whole agency) and the agency a listing reads: an ASN's (``nip``), else
    the caller's own (pegawai), their team's and their own (atasan), their agency's (admin)."""
    if args["nip"]:
        emp = employee_for(s, p, args["nip"])
        return [emp.nip], emp.agency
    if p.role in ("admin", "operator"):
        return None, agency_scope(p, args["agency"])
    if p.role == "atasan":  # (an admin, supervising or not, lists the agency's above)
        return [p.nip, *team_of(s, p.nip)], p.agency
    return ([p.nip] if p.nip else []), p.agency


@dataclass(frozen=True)
class RouteDocs:
    """What the OpenAPI document says of each route (summary, a blank line, the description)."""
    listing: str
    one: str
    approve: str
    reject: str


Listed = Callable[[Session, Principal, "list[str] | None", str, Mapping[str, Any]], list]


def request_routes(blp: Blueprint, service: ModuleType, *, name: str, query: type[Schema], out: type[Schema],
                   approve_in: type[Schema], reject_in: type[Schema], listed: Listed, docs: RouteDocs) -> None:
    """The routes on ``blp`` of a kind of request once asked, whose service module is ``service``
    (its ``get`` and ``decide``): ``GET`` (``listed`` in the caller's scope, ``query`` its
    arguments), ``GET /<id>``, ``POST /<id>/approve``, ``POST /<id>/reject``; their views are
    ``name`` + List, View, Approve, Reject."""

    class List(MethodView):
        @require_auth(*READERS)
        @blp.doc(security=[{"bearer": []}])
        @blp.arguments(query, location="query")
        @blp.response(200, out(many=True))
        def get(self, args):
            p = current_principal()
            with current_runtime().session() as s:
                nips, agency = listing_scope(s, p, args)
                return listed(s, p, nips, agency, args)

    class View(MethodView):
        @require_auth(*READERS)
        @blp.doc(security=[{"bearer": []}])
        @blp.response(200, out)
        def get(self, request_id):
            with current_runtime().session() as s:
                return service.get(s, current_principal(), str(request_id))

    class Approve(MethodView):
        @require_auth(*SUPERVISING_ROLES)
        @blp.doc(security=[{"bearer": []}])
        @blp.arguments(approve_in)
        @blp.response(200, out)
        def post(self, body, request_id):
            return _decision(service, request_id, approve=True, note=body["note"])

    class Reject(MethodView):
        @require_auth(*SUPERVISING_ROLES)
        @blp.doc(security=[{"bearer": []}])
        @blp.arguments(reject_in)
        @blp.response(200, out)
        def post(self, body, request_id):
            return _decision(service, request_id, approve=False, note=body["note"])

    for rule, view, method, doc in (("", List, List.get, docs.listing),
                                    ("/<uuid:request_id>", View, View.get, docs.one),
                                    ("/<uuid:request_id>/approve", Approve, Approve.post, docs.approve),
                                    ("/<uuid:request_id>/reject", Reject, Reject.post, docs.reject)):
        method.__doc__ = doc
        view.__name__ = view.__qualname__ = name + view.__name__
        blp.route(rule, endpoint=view.__name__)(view)


def _decision(service: ModuleType, request_id, *, approve: bool, note: str) -> Any:
    """The kind's ``decide`` in one transaction, as the caller, in their agency's zone."""
    rt = current_runtime()
    with rt.session() as s, s.begin():
        return service.decide(s, rt.outbox, current_principal(), str(request_id), approve=approve, note=note,
                              agency_tz=agency_tz(rt, current_principal().agency, s))
