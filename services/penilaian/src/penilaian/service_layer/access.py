"""Who may read and write what in penilaian (DESIGN: an ASN sees their own data, a supervisor
their team, an admin their agency, an operator everything). Each check returns what the caller
needs next or raises a ``NotAllowed`` / ``UnknownAsn`` the API turns into 403 / 404."""
from __future__ import annotations

from typing import TYPE_CHECKING

from sqlalchemy.orm import Session

from penilaian.adapters.orm import Employee
from penilaian.adapters.view_queries import scored_agency
from penilaian.domain.errors import NotAllowed, UnknownAsn

if TYPE_CHECKING:
    from kinerja.auth import Principal

READERS = ("pegawai", "atasan", "admin", "operator")


def supervises(principal: Principal, emp: Employee | None) -> bool:
    """The caller is the ASN's direct supervisor on the roster, in the same agency: supervision
    never crosses agencies, whatever the roster says. An admin supervises as an atasan does (roles
    compose: ``Principal.supervises``)."""
    return emp is not None and emp.agency == principal.agency and principal.supervises(emp.atasan_nip)


def authorize_read(session: Session, principal: Principal, nip: str) -> None:
    """pegawai: themselves; atasan: themselves and their direct team; admin: their agency;
    operator: anyone. Unknown NIPs are 404 to those who could otherwise read them."""
    if principal.role == "operator" or (principal.nip == nip and principal.role in ("pegawai", "atasan", "admin")):
        return
    if principal.role == "pegawai":
        raise NotAllowed("a pegawai reads only their own scores")
    emp = session.get(Employee, nip)
    if principal.role == "atasan":
        if not supervises(principal, emp):
            raise NotAllowed("an atasan reads only their own team (in their own agency)")
        return
    if principal.role == "admin":
        agency = emp.agency if emp is not None else scored_agency(session, nip)
        if agency is None:
            raise UnknownAsn("no such ASN")
        if agency != principal.agency:
            raise NotAllowed("an admin reads only their own agency")
        return
    raise NotAllowed("not allowed")


def require_on_roster(session: Session, nip: str) -> Employee:
    """The ASN as the roster has them (an evaluation document names the ASN and their appraiser)."""
    emp = session.get(Employee, nip)
    if emp is None:
        raise UnknownAsn("no such ASN on the roster")
    return emp


def team_agency(session: Session, principal: Principal, atasan_nip: str) -> str | None:
    """Whether the caller may read ``atasan_nip``'s team, and the agency whose ASN make it up:
    the supervisor's agency's ASN only (a roster naming a supervisor of another agency does not put
    its ASN in this team). An atasan reads only their own team, an admin their agency's teams."""
    if principal.role == "atasan" and principal.nip != atasan_nip:
        raise NotAllowed("an atasan reads only their own team")
    boss = session.get(Employee, atasan_nip)
    if principal.role == "admin":
        if boss is None:
            raise UnknownAsn("no such ASN")
        if boss.agency != principal.agency:
            raise NotAllowed("an admin reads only their own agency")
    return principal.agency if principal.role != "operator" else (boss.agency if boss else None)


def agency_in_scope(principal: Principal, asked: str | None) -> str:
    """The agency a caller's agency-wide read is about: an admin's own (asking for another is
    refused), else the one asked for or the caller's."""
    if principal.role == "admin":
        if asked not in (None, principal.agency):
            raise NotAllowed("an admin sees only their own agency")
        return principal.agency
    return asked or principal.agency


def rater_of(session: Session, principal: Principal, nip: str) -> str:
    """Who rates ``nip``'s BerAKHLAK values: the ASN themselves (``self``) or their direct
    supervisor (``atasan``); nobody else."""
    if principal.nip == nip:
        return "self"
    if not supervises(principal, session.get(Employee, nip)):
        raise NotAllowed("only the ASN and their direct supervisor (of the same agency) rate them")
    return "atasan"


def dialog_parties(session: Session, principal: Principal, nip: str) -> Employee:
    """The ASN whose dialog kinerja the caller records: the caller is the ASN or their direct
    supervisor, in the same agency, and the roster names a supervisor."""
    emp = session.get(Employee, nip)
    if emp is None or not emp.atasan_nip:
        raise NotAllowed("the ASN has no direct supervisor on the roster")
    if emp.agency != principal.agency or not (principal.nip == nip or supervises(principal, emp)):
        raise NotAllowed("only the ASN and their direct supervisor (of the same agency) record their dialogue")
    return emp


def authorize_training_record(session: Session, principal: Principal, nip: str) -> None:
    """The ASN themselves, an admin of their agency, or an operator records a training."""
    if principal.nip != nip and principal.role != "operator":
        emp = session.get(Employee, nip)
        if principal.role != "admin" or emp is None or emp.agency != principal.agency:
            raise NotAllowed("only the ASN, an admin of their agency or an operator records training")
