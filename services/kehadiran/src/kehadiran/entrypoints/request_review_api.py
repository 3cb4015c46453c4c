"""What the leave request and correction endpoints share: whose requests a listing shows and the
decision's transaction. Each blueprint keeps its routes, schemas and words."""
from __future__ import annotations

from typing import Any, Callable, Mapping

from sqlalchemy.orm import Session

from kehadiran.entrypoints.runtime import agency_tz
from kehadiran.service_layer.access import agency_scope, employee_for
from kehadiran.service_layer.request_review import team_of
from kinerja.auth import Principal, current_principal
from kinerja.webapp import current_runtime


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


def decision(decide: Callable[..., Any], request_id, *, approve: bool, note: str) -> Any:
    """``decide`` (the kind's service) in one transaction, as the caller, in their agency's zone."""
    rt = current_runtime()
    with rt.session() as s, s.begin():
        return decide(s, rt.outbox, current_principal(), str(request_id), approve=approve, note=note,
                      agency_tz=agency_tz(rt, current_principal().agency, s))
