"""What a leave request and a correction share once asked: who sees one (the ASN, their
supervisor, an admin of the agency, an operator; another agency's is as good as unknown), who
decides it (the ASN's supervisor or an admin of the agency, never the ASN), the change of state
under the row's lock, and the listing. Each kind names its table and says its refusals in its own
words; what a decision then does (excused days, punches) and the events stay with the kind."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Callable, Iterable

from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from kehadiran.adapters.orm import Employee
from kehadiran.domain.errors import Conflicting, NotAllowed, Unknown
from kinerja.auth import Principal

MAX_ID_LENGTH = 36  # a uuid; anything longer is no request of ours


@dataclass(frozen=True)
class Review:
    """One kind of request: its table (``id``, ``nip``, ``agency``, ``status``, ``requested_at``,
    ``decided_by``, ``decided_at``, ``note``), the domain's refusal of a second decision, and its
    refusals to the caller."""
    model: type
    not_pending: type[Exception]
    unknown: Callable[[str], Unknown]  # the request id asked for
    hidden: Callable[[str], NotAllowed]  # the NIP of the request's ASN
    own: Callable[[], NotAllowed]
    not_decider: Callable[[str], NotAllowed]  # the NIP of the request's ASN

    def visible(self, session: Session, principal: Principal, request_id: str) -> tuple[Any, Employee]:
        """The request and its ASN, if ``principal`` may see it."""
        row = session.get(self.model, request_id) if len(request_id) <= MAX_ID_LENGTH else None
        emp = session.get(Employee, row.nip) if row is not None else None
        if row is None or emp is None or (principal.role != "operator" and row.agency != principal.agency):
            raise self.unknown(request_id)
        if principal.role in ("operator", "admin") or principal.nip == row.nip or principal.supervises(emp.atasan_nip):
            return row, emp
        raise self.hidden(row.nip)

    def decide(self, session: Session, principal: Principal, request_id: str, transition: Callable[[str], str], *,
               note: str, now: datetime) -> tuple[Any, Employee]:
        """The request decided (``transition`` gives its new status) by its ASN's supervisor or an
        admin of the agency, who and when noted; the caller flushes and does what follows."""
        row, emp = self.visible(session, principal, request_id)
        if principal.nip == row.nip:
            raise self.own()
        if not (principal.role == "admin" or principal.supervises(emp.atasan_nip)):
            raise self.not_decider(row.nip)
        self.settle(session, row, transition)
        row.decided_by, row.decided_at, row.note = principal.nip or principal.sub, now, note
        return row, emp

    def settle(self, session: Session, row: Any, transition: Callable[[str], str]) -> None:
        """The new status, under the row's lock: two deciders cannot both decide (SQLite
        serialises writers already); a request decided already is a conflict."""
        session.refresh(row, with_for_update=True)
        try:
            row.status = transition(row.status)
        except self.not_pending as exc:
            raise Conflicting(str(exc)) from None

    def listing(self, *, nips: Iterable[str] | None, agency: str | None, status: str | None, limit: int,
                where: Iterable[Any] = ()) -> Select:
        """Requests of ``nips`` (or, when None, of the whole ``agency``), newest first."""
        m = self.model
        q = select(m)
        if nips is not None:
            q = q.where(m.nip.in_(sorted(set(nips))))
        if agency is not None:
            q = q.where(m.agency == agency)
        if status:
            q = q.where(m.status == status)
        return q.where(*where).order_by(m.requested_at.desc(), m.id).limit(limit)


def team_of(session: Session, atasan_nip: str) -> list[str]:
    """Whom ``atasan_nip`` leads directly, as the roster has it."""
    return list(session.execute(select(Employee.nip).where(Employee.atasan_nip == atasan_nip)).scalars())
