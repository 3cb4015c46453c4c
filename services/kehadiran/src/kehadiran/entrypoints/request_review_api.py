"""What the leave request and correction endpoints share: who asks, whose requests a listing shows, and the
three routes a request has once asked: ``GET /<id>`` (for whoever may see it), ``POST
/<id>/approve`` and ``POST /<id>/reject`` (its ASN's supervisor or an admin of the agency). Each
blueprint keeps its own asking, listing, schemas and words."""
from __future__ import annotations

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


def review_routes(blp: Blueprint, service: ModuleType, *, out: type[Schema], approve_in: type[Schema],
                  reject_in: type[Schema], views: tuple[str, str, str], docs: tuple[str, str, str]) -> None:
    """The three routes on ``blp`` for the kind whose service module is ``service`` (its ``get``
    and ``decide``): ``views`` names them (one, approve, reject), ``docs`` documents them."""

    class One(MethodView):
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

    routes = (("/<uuid:request_id>", One, One.get), ("/<uuid:request_id>/approve", Approve, Approve.post),
              ("/<uuid:request_id>/reject", Reject, Reject.post))
    for (rule, view, method), name, doc in zip(routes, views, docs):
        method.__doc__ = doc  # the operation's summary and description in the OpenAPI document
        view.__name__ = view.__qualname__ = name
        blp.route(rule, endpoint=name)(view)


def _decision(service: ModuleType, request_id, *, approve: bool, note: str) -> Any:
    """The kind's ``decide`` in one transaction, as the caller, in their agency's zone."""
    rt = current_runtime()
    with rt.session() as s, s.begin():
        return service.decide(s, rt.outbox, current_principal(), str(request_id), approve=approve, note=note,
                              agency_tz=agency_tz(rt, current_principal().agency, s))
