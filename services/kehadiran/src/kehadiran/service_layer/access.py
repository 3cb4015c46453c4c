"""Who may see or change whose attendance: an ASN their own, a supervisor their direct team,
an admin their agency, an operator everything."""
from __future__ import annotations

from sqlalchemy.orm import Session

from kehadiran.adapters.orm import Device, Employee
from kehadiran.domain.errors import NotAllowed, Unknown
from kinerja.auth import Principal


def employee_for(session: Session, principal: Principal, nip: str, *, write: bool = False) -> Employee:
    emp = session.get(Employee, nip)
    if emp is None or (principal.role != "operator" and emp.agency != principal.agency):
        # another agency's ASN is as good as unknown
        raise Unknown(f"no ASN {nip} in your agency")
    if principal.role in ("operator", "admin"):
        return emp
    if principal.role == "atasan" and (emp.atasan_nip == principal.nip or (not write and emp.nip == principal.nip)):
        return emp
    if principal.role == "pegawai" and not write and emp.nip == principal.nip:
        return emp
    raise NotAllowed("you may not " + ("change" if write else "see") + f" the attendance of {nip}")


def managed_device(session: Session, principal: Principal, sn: str) -> Device:
    """A registered device, if ``principal`` manages it: an operator every device, an admin their
    agency's."""
    device = session.get(Device, sn)
    if device is None:
        raise Unknown(f"device {sn} is not registered")
    if principal.role != "operator" and device.agency != principal.agency:
        raise NotAllowed("an admin manages the devices of their own agency only")
    return device


def agency_scope(principal: Principal, agency: str | None) -> str:
    """The agency an admin acts on is their own; an operator names one."""
    if principal.role == "operator":
        if not agency:
            raise NotAllowed("an operator names the agency")
        return agency
    if agency and agency != principal.agency:
        raise NotAllowed("an admin acts on their own agency only")
    return principal.agency


def supervised_by(session: Session, agency: str, nip: str) -> set[str]:
    """Everyone under ``nip`` on the agency's roster, directly or through their supervisors."""
    from sqlalchemy import select

    under: dict[str, list[str]] = {}
    for who, boss in session.execute(select(Employee.nip, Employee.atasan_nip).where(Employee.agency == agency)):
        if boss:
            under.setdefault(boss, []).append(who)
    seen, todo = set(), [nip]
    while todo:
        for who in under.get(todo.pop(), ()):
            if who not in seen:
                seen.add(who)
                todo.append(who)
    return seen


def own_unit(session: Session, principal: Principal, unit: str | None, agency: str | None) -> str:
    """The unit a supervisor reads reports of: their own, as the roster has it (of which they read
    the people they lead, directly or through the supervisors under them, and themselves)."""
    me = session.get(Employee, principal.nip) if principal.nip else None
    if me is None or me.agency != principal.agency or not me.unit:
        raise NotAllowed("a supervisor reads the recap of their own unit, and the roster does not name yours")
    if (unit and unit != me.unit) or (agency and agency != principal.agency):
        raise NotAllowed(f"a supervisor reads the recap of their own unit ({me.unit}) only")
    return me.unit
