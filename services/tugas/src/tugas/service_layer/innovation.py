"""Innovation proposals; an approval is ``tugas.innovation.approved.v1`` (penilaian adds points)."""
from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import func, or_, select, update
from sqlalchemy.orm import Session

from kinerja.events import make_event
from kinerja.events.tugas import INNOVATION_APPROVED, INNOVATION_PROPOSED
from kinerja.messaging.outbox import Outbox
from tugas.adapters.orm import Employee, InnovationRow
from tugas.domain import innovation as rules
from tugas.domain.errors import NotAllowed
from tugas.domain.innovation import Innovation
from tugas.service_layer.context import SOURCE, Actor, as_utc, utcnow
from tugas.service_layer.roster import supervisor_of
from tugas.service_layer.tasks import ConcurrentUpdate, TaskNotFound


class InnovationNotFound(TaskNotFound):
    pass


def to_domain(row: InnovationRow) -> Innovation:
    return Innovation(id=row.id, nip=row.nip, title=row.title, description=row.description,
                      links=tuple(row.links or ()), status=row.status, decided_by=row.decided_by,
                      decided_at=as_utc(row.decided_at), note=row.note, version=row.version)


def propose(session: Session, actor: Actor, *, title: str, description: str, links: list[str],
            now: datetime | None = None, innovation_id: str | None = None,
            outbox: Outbox | None = None) -> InnovationRow:
    """``innovation_id``: a caller-chosen id (a history loaded again finds it), else a new one.
    With ``outbox``, ``tugas.innovation.proposed.v1`` tells the supervisor it waits for them."""
    now = now or utcnow()
    me = session.get(Employee, actor.nip or "")
    if me is None or not me.active or me.agency != actor.agency:
        raise NotAllowed("you are not on your agency's roster")
    inn = rules.propose(innovation_id=innovation_id or str(uuid.uuid4()), actor_nip=me.nip, title=title, description=description,
                        links=tuple(links))
    row = InnovationRow(id=inn.id, agency=me.agency, nip=inn.nip, title=inn.title, description=inn.description,
                        links=list(inn.links), status=inn.status, created_at=now, updated_at=now, version=inn.version)
    session.add(row)
    session.flush()
    if outbox is not None:
        outbox.add(session, make_event(INNOVATION_PROPOSED, subject=me.nip, agency=me.agency, source=SOURCE, time=now,
                                       data={"innovation_id": row.id, "nip": me.nip, "atasan_nip": me.atasan_nip,
                                             "title": row.title, "proposed_at": now}))
    return row


def load(session: Session, actor: Actor, innovation_id: str) -> InnovationRow:
    row = session.get(InnovationRow, innovation_id)
    if row is None or row.agency != actor.agency:
        raise InnovationNotFound(innovation_id)
    return row


def decide(session: Session, outbox: Outbox, actor: Actor, innovation_id: str, action: str, *,
           note: str | None = None, now: datetime | None = None) -> InnovationRow:
    now = now or utcnow()
    row = load(session, actor, innovation_id)
    inn = to_domain(row)
    supervisor = supervisor_of(session, inn.nip)
    if action == "approve":
        new = rules.approve(inn, actor_nip=actor.nip or "", supervisor_nip=supervisor, at=now, note=note)
    else:
        new = rules.reject(inn, actor_nip=actor.nip or "", supervisor_nip=supervisor, at=now, note=note or "")
    result = session.execute(
        update(InnovationRow).where(InnovationRow.id == row.id, InnovationRow.version == inn.version)
        .values(status=new.status, decided_by=new.decided_by, decided_at=new.decided_at, note=new.note,
                version=new.version, updated_at=now)
        .execution_options(synchronize_session=False))
    if result.rowcount != 1:
        raise ConcurrentUpdate("the innovation was decided by someone else at the same time")
    session.refresh(row)
    if new.status == rules.APPROVED:
        outbox.add(session, make_event(INNOVATION_APPROVED, subject=new.nip, agency=row.agency, source=SOURCE, time=now,
                                       data={"innovation_id": new.id, "nip": new.nip, "title": new.title,
                                             "approved_at": now}))
    return row


def list_innovations(session: Session, actor: Actor, *, nip: str | None = None, status: str | None = None,
                     limit: int = 50, offset: int = 0) -> tuple[list[InnovationRow], int]:
    query = select(InnovationRow).where(InnovationRow.agency == actor.agency)
    if actor.role == "atasan":  # an admin sees the agency's
        team = select(Employee.nip).where(Employee.atasan_nip == actor.nip)
        query = query.where(or_(InnovationRow.nip == actor.nip, InnovationRow.nip.in_(team)))
    elif actor.role != "admin":
        query = query.where(InnovationRow.nip == actor.nip)
    if nip:
        query = query.where(InnovationRow.nip == nip)
    if status:
        query = query.where(InnovationRow.status == status)
    total = session.execute(select(func.count()).select_from(query.subquery())).scalar_one()
    rows = session.execute(query.order_by(InnovationRow.created_at, InnovationRow.id).limit(limit).offset(offset))
    return list(rows.scalars()), total


def can_see(session: Session, actor: Actor, row: InnovationRow) -> bool:
    return row.agency == actor.agency and (
        actor.role == "admin" or row.nip == actor.nip or supervisor_of(session, row.nip) == actor.nip)



def read_innovation(session: Session, actor: Actor, innovation_id: str) -> InnovationRow:
    """The proposal, if the caller may see it."""
    row = load(session, actor, innovation_id)
    if not can_see(session, actor, row):
        raise NotAllowed("this proposal is neither yours nor your team's")
    return row


def as_dict(row: InnovationRow) -> dict[str, Any]:
    return {"id": row.id, "agency": row.agency, "nip": row.nip, "title": row.title, "description": row.description,
            "links": row.links or [], "status": row.status, "decided_by": row.decided_by,
            "decided_at": as_utc(row.decided_at), "note": row.note, "created_at": as_utc(row.created_at),
            "version": row.version}
